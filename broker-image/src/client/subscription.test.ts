import { describe, expect, it } from 'vitest';
import { buildSubscription, javaStringHash, matchesTags } from './subscription.js';

describe('javaStringHash', () => {
  it('matches Java String.hashCode', () => {
    expect(javaStringHash('TagA')).toBe(2598919);
    expect(javaStringHash('TagB')).toBe(2598920);
    expect(javaStringHash('')).toBe(0);
    // Overflows int32: "hello world".hashCode() == 1794106052, "polygenelubricants" == Integer.MIN_VALUE.
    expect(javaStringHash('hello world')).toBe(1794106052);
    expect(javaStringHash('polygenelubricants')).toBe(-2147483648);
    // UTF-16 code units, not code points: "😀".hashCode() == 1772899.
    expect(javaStringHash('😀')).toBe(1772899);
  });
});

describe('buildSubscription', () => {
  it('treats empty, missing and * as subscribe-all', () => {
    for (const e of [undefined, '', '  ', '*', ' * ']) {
      const sub = buildSubscription('T', e, 1);
      expect(sub.subString).toBe('*');
      expect(sub.tagsSet).toEqual([]);
      expect(sub.codeSet).toEqual([]);
    }
  });

  it('splits on || and trims, with the tag hashes as code set', () => {
    const sub = buildSubscription('T', ' TagA || TagB||TagA ', 5);
    expect(sub).toEqual({
      topic: 'T',
      subString: 'TagA || TagB||TagA',
      tagsSet: ['TagA', 'TagB'],
      codeSet: [2598919, 2598920],
      subVersion: 5,
      expressionType: 'TAG',
      classFilterMode: false,
    });
  });

  it('rejects an expression with no tag', () => {
    expect(() => buildSubscription('T', '||', 1)).toThrow(/names no tag/);
  });
});

describe('matchesTags', () => {
  it('passes everything for *, and only listed tags otherwise', () => {
    const all = buildSubscription('T', '*', 1);
    const some = buildSubscription('T', 'A || B', 1);
    expect(matchesTags(all, undefined)).toBe(true);
    expect(matchesTags(some, 'A')).toBe(true);
    expect(matchesTags(some, 'C')).toBe(false);
    expect(matchesTags(some, undefined)).toBe(false);
  });
});
