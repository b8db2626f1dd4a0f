import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { radixSort } from './key-index.js';

describe('radixSort', () => {
  it('sorts uint32 keys over the whole range and keeps equal keys in insertion order', () => {
    const random = new Uint32Array(randomBytes(4 * 50_000).buffer);
    // Many duplicates, the extremes, and keys that differ only in the top or bottom digit.
    const keys = new Uint32Array(random.length + 6);
    for (let i = 0; i < random.length; i++) keys[i] = i % 3 === 0 ? random[i] % 97 : random[i];
    keys.set([0xffffffff, 0, 0x80000000, 0x7fffffff, 1 << 22, 1 << 11], random.length);
    const { sorted, order } = radixSort(keys);
    const want = Array.from(keys, (k, i) => [k, i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(Array.from(sorted)).toEqual(want.map((e) => e[0]));
    expect(Array.from(order)).toEqual(want.map((e) => e[1]));
  });

  it('handles empty and single-entry inputs', () => {
    expect(radixSort(new Uint32Array(0)).order.length).toBe(0);
    expect(Array.from(radixSort(new Uint32Array([7])).order)).toEqual([0]);
  });
});
