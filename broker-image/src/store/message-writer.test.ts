import { describe, expect, it } from 'vitest';
import { hex16 } from './message-writer.js';

describe('hex16', () => {
  it('formats offsets as 16 upper-case hex digits, beyond 32 bits too', () => {
    for (const n of [
      0,
      1,
      0xabcdef,
      2 ** 32 - 1,
      2 ** 32,
      5 * 2 ** 40 + 0x1234abcd,
      Number.MAX_SAFE_INTEGER,
    ]) {
      expect(hex16(n)).toBe(n.toString(16).toUpperCase().padStart(16, '0'));
    }
  });
});
