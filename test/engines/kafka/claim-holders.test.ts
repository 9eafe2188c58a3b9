import { describe, expect, it } from 'vitest';
import { ClaimHolders } from '../../../src/engines/kafka/claim-holders.ts';

describe('ClaimHolders', () => {
  it('first claim in topic order holds the key', () => {
    const holders = new ClaimHolders();

    expect(holders.apply({ key: 'k', owner: 'a', timestamp: 1_000, windowMs: 500 })).toBe('a');
    expect(holders.apply({ key: 'k', owner: 'b', timestamp: 1_100, windowMs: 500 })).toBe('a');
    expect(holders.apply({ key: 'k', owner: 'a', timestamp: 1_200, windowMs: 500 })).toBe('a');
  });

  it('earlier timestamp at a later offset loses', () => {
    const holders = new ClaimHolders();

    holders.apply({ key: 'k', owner: 'a', timestamp: 1_000, windowMs: 500 });

    expect(holders.apply({ key: 'k', owner: 'b', timestamp: 900, windowMs: 500 })).toBe('a');
  });

  it('claim at the end of the window takes the key', () => {
    const holders = new ClaimHolders();
    holders.apply({ key: 'k', owner: 'a', timestamp: 1_000, windowMs: 500 });

    expect(holders.apply({ key: 'k', owner: 'b', timestamp: 1_499, windowMs: 500 })).toBe('a');
    expect(holders.apply({ key: 'k', owner: 'c', timestamp: 1_500, windowMs: 500 })).toBe('c');
  });

  it('losing claim does not extend the hold', () => {
    const holders = new ClaimHolders();
    holders.apply({ key: 'k', owner: 'a', timestamp: 1_000, windowMs: 500 });
    holders.apply({ key: 'k', owner: 'b', timestamp: 1_400, windowMs: 500 });

    expect(holders.apply({ key: 'k', owner: 'c', timestamp: 1_600, windowMs: 500 })).toBe('c');
  });

  it('window of the later claim decides', () => {
    const holders = new ClaimHolders();
    holders.apply({ key: 'k', owner: 'a', timestamp: 1_000, windowMs: 100 });

    expect(holders.apply({ key: 'k', owner: 'b', timestamp: 1_200, windowMs: 500 })).toBe('a');
    expect(holders.apply({ key: 'k', owner: 'c', timestamp: 1_300, windowMs: 100 })).toBe('c');
  });

  it('prune drops holders past the widest window and slack', () => {
    const holders = new ClaimHolders();
    holders.apply({ key: 'old', owner: 'a', timestamp: 0, windowMs: 1_000 });
    holders.apply({ key: 'recent', owner: 'b', timestamp: 30_000, windowMs: 1_000 });
    holders.apply({ key: 'newest', owner: 'c', timestamp: 61_500, windowMs: 1_000 });

    holders.prune();

    expect(holders.size).toBe(2);
    expect(holders.apply({ key: 'old', owner: 'd', timestamp: 61_500, windowMs: 1_000 })).toBe('d');
    expect(holders.apply({ key: 'recent', owner: 'e', timestamp: 30_500, windowMs: 1_000 })).toBe('b');
  });

  it('prune keeps holders within the widest window read', () => {
    const holders = new ClaimHolders();
    holders.apply({ key: 'long', owner: 'a', timestamp: 0, windowMs: 600_000 });
    holders.apply({ key: 'short', owner: 'b', timestamp: 600_000, windowMs: 1_000 });

    holders.prune();

    expect(holders.size).toBe(2);
    expect(holders.apply({ key: 'long', owner: 'c', timestamp: 599_999, windowMs: 600_000 })).toBe('a');
  });
});
