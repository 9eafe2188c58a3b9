import { describe, expect, it } from 'vitest';
import { DedupCache } from '../../../src/engines/kafka/dedup-cache.ts';

describe('DedupCache', () => {
  it('keeps the first append within the window', () => {
    const cache = new DedupCache();

    cache.record('orders', 'id-1', 2, 10, 1_000, 0);
    cache.record('orders', 'id-1', 0, 55, 2_000, 0);

    expect(cache.find('orders', 'id-1', 0)).toMatchObject({ partition: 2, offset: 10 });
  });

  it('replaces an append older than the window', () => {
    const cache = new DedupCache();

    cache.record('orders', 'id-1', 2, 10, 1_000, 0);
    cache.record('orders', 'id-1', 0, 55, 5_000, 2_000);

    expect(cache.find('orders', 'id-1', 2_000)).toMatchObject({ partition: 0, offset: 55 });
  });

  it('find skips appends before since', () => {
    const cache = new DedupCache();

    cache.record('orders', 'id-1', 0, 1, 1_000, 0);

    expect(cache.find('orders', 'id-1', 1_001)).toBeUndefined();
    expect(cache.find('orders', 'id-1', 1_000)).toMatchObject({ partition: 0, offset: 1 });
  });

  it('expireQueue drops only that queue', () => {
    const cache = new DedupCache();
    cache.record('orders', 'old', 0, 1, 1_000, 0);
    cache.record('orders', 'new', 0, 2, 3_000, 0);
    cache.record('invoices', 'old', 0, 1, 1_000, 0);

    cache.expireQueue('orders', 2_000);

    expect(cache.find('orders', 'old', 0)).toBeUndefined();
    expect(cache.find('orders', 'new', 0)).toMatchObject({ offset: 2 });
    expect(cache.find('invoices', 'old', 0)).toMatchObject({ offset: 1 });
  });

  it('replaced entry expires by its new time', () => {
    const cache = new DedupCache();
    cache.record('orders', 'reused', 0, 1, 1_000, 0);
    cache.record('orders', 'other', 0, 2, 2_000, 0);
    cache.record('orders', 'reused', 0, 3, 4_000, 1_500);

    cache.expireQueue('orders', 3_000);

    expect(cache.find('orders', 'other', 0)).toBeUndefined();
    expect(cache.find('orders', 'reused', 0)).toMatchObject({ offset: 3 });
  });

  it('evicts the oldest past maxEntries', () => {
    const cache = new DedupCache(2);

    cache.record('orders', 'a', 0, 1, 1_000, 0);
    cache.record('orders', 'b', 0, 2, 2_000, 0);
    cache.record('orders', 'c', 0, 3, 3_000, 0);

    expect(cache.find('orders', 'a', 0)).toBeUndefined();
    expect(cache.find('orders', 'b', 0)).toMatchObject({ offset: 2 });
    expect(cache.find('orders', 'c', 0)).toMatchObject({ offset: 3 });
  });
});
