import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from './batch-codec.js';

describe('batch codec', () => {
  it('writes the §3.2.4 layout and reads it back', () => {
    const items = [
      { flag: 3, body: Buffer.from('hello'), properties: 'TAGS\u0001A' },
      { flag: 0, body: Buffer.alloc(0), properties: '' },
    ];
    const encoded = encodeBatch(items);
    expect(encoded.readInt32BE(0)).toBe(20 + 5 + 2 + 6);
    expect(encoded.readInt32BE(4)).toBe(0);
    expect(encoded.readInt32BE(12)).toBe(3);
    expect(encoded.readInt32BE(16)).toBe(5);
    expect(encoded.toString('utf8', 20, 25)).toBe('hello');
    expect(encoded.readInt16BE(25)).toBe(6);
    expect(decodeBatch(encoded)).toEqual(items);
  });

  it('rejects oversized properties and malformed input', () => {
    expect(() => encodeBatch([{ flag: 0, body: Buffer.alloc(1), properties: 'x'.repeat(40000) }])).toThrow(
      /32767/,
    );
    const encoded = encodeBatch([{ flag: 0, body: Buffer.from('ab'), properties: 'k\u0001v' }]);
    expect(() => decodeBatch(encoded.subarray(0, encoded.length - 1))).toThrow(/does not fit/);
  });
});
