import { describe, expect, it } from 'vitest';
import { TailCache } from './tail-cache.js';

/** The log bytes a model keeps: offset → byte. */
function bytesAt(start: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (start + i) % 251;
  return b;
}

function read(cache: TailCache, offset: number, length: number): Buffer | undefined {
  const out = Buffer.alloc(length + 2, 0xee);
  if (!cache.copyTo(offset, length, out, 1)) return undefined;
  expect(out[0]).toBe(0xee);
  expect(out[length + 1]).toBe(0xee);
  return out.subarray(1, length + 1);
}

describe('TailCache', () => {
  it('holds the last `capacity` bytes across wrap-around, in chunks of any size', () => {
    const cache = new TailCache(100);
    let offset = 1000;
    cache.reset(offset);
    let seed = 3;
    for (let round = 0; round < 200; round++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const sizes = [seed % 37, (seed >> 8) % 130, 1];
      cache.append(
        offset,
        sizes.map((n, i) => bytesAt(offset + sizes.slice(0, i).reduce((a, b) => a + b, 0), n)),
      );
      offset += sizes.reduce((a, b) => a + b, 0);
      if (offset - 1000 < 100) continue;
      // Everything in the last 100 bytes is served exactly; anything older is refused.
      for (const [from, len] of [
        [offset - 100, 100],
        [offset - 40, 13],
        [offset - 1, 1],
      ]) {
        expect(read(cache, from, len)?.equals(bytesAt(from, len))).toBe(true);
      }
      expect(read(cache, offset - 101, 2)).toBeUndefined();
      expect(read(cache, offset - 5, 6)).toBeUndefined();
    }
  });

  it('starts afresh when an append does not continue the held bytes', () => {
    const cache = new TailCache(64);
    cache.reset(0);
    cache.append(0, [bytesAt(0, 40)]);
    expect(read(cache, 10, 20)?.equals(bytesAt(10, 20))).toBe(true);
    // A gap (the unwritten end of a sealed segment) or a rewind (a truncated log).
    cache.append(50, [bytesAt(50, 10)]);
    expect(read(cache, 10, 20)).toBeUndefined();
    expect(read(cache, 50, 10)?.equals(bytesAt(50, 10))).toBe(true);
    cache.reset(55);
    expect(read(cache, 50, 5)).toBeUndefined();
    expect(read(cache, 55, 0)).toBeUndefined();
  });
});
