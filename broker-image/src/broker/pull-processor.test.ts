import { describe, expect, it } from 'vitest';
import { joinRecords } from './pull-processor.js';

describe('joinRecords', () => {
  it('returns a view, not a copy, when the records lie back to back in one buffer', () => {
    const all = Buffer.from('aaabbbbcc');
    const body = joinRecords([all.subarray(0, 3), all.subarray(3, 7), all.subarray(7, 9)]);
    expect(body.toString()).toBe('aaabbbbcc');
    all[0] = 0x7a;
    expect(body[0]).toBe(0x7a);
  });

  it('copies records that are apart or in different buffers, in order', () => {
    const all = Buffer.from('aaaXbbb');
    expect(joinRecords([all.subarray(0, 3), all.subarray(4, 7)]).toString()).toBe('aaabbb');
    expect(joinRecords([Buffer.from('x'), Buffer.from('y')]).toString()).toBe('xy');
    expect(joinRecords([all.subarray(4, 7), all.subarray(0, 3)]).toString()).toBe('bbbaaa');
    expect(joinRecords([])).toHaveLength(0);
  });
});
