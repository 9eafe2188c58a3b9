import { describe, expect, it } from 'vitest';
import { DedupCache } from '../../src/client/index.ts';

describe('DedupCache', () => {
  it('remembers added ids', () => {
    const cache = new DedupCache(3);
    cache.add('a');
    expect(cache.has('a')).toBe(true);
    expect(cache.has('b')).toBe(false);
  });

  it('evicts the least recently used id', () => {
    const cache = new DedupCache(3);
    for (const id of ['a', 'b', 'c']) cache.add(id);
    expect(cache.has('a')).toBe(true);
    cache.add('d');
    expect(cache.size).toBe(3);
    expect(cache.has('b')).toBe(false);
    expect(cache.has('a')).toBe(true);
    expect(cache.has('c')).toBe(true);
    expect(cache.has('d')).toBe(true);
  });

  it('counts a repeated add once', () => {
    const cache = new DedupCache(2);
    cache.add('a');
    cache.add('a');
    cache.add('b');
    expect(cache.size).toBe(2);
    expect(cache.has('a')).toBe(true);
  });

  it('rejects a size below 1', () => {
    expect(() => new DedupCache(0)).toThrow(RangeError);
    expect(() => new DedupCache(1.5)).toThrow(RangeError);
  });
});
