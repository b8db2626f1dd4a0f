import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from './hash.js';

describe('contentHash', () => {
  it('is 16 hex digits, stable, and ignores key order', () => {
    const a = contentHash({ b: 1, a: [1, { y: 2, x: 1 }] });
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(contentHash({ a: [1, { x: 1, y: 2 }], b: 1 })).toBe(a);
  });

  it('changes when any byte of the content changes', () => {
    expect(contentHash('flushDiskType=SYNC_FLUSH')).not.toBe(contentHash('flushDiskType=ASYNC_FLUSH'));
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: 2 }));
  });

  it('matches the published FNV-1a 64 test vectors', () => {
    expect(contentHash('')).toBe('cbf29ce484222325');
    expect(contentHash('a')).toBe('af63dc4c8601ec8c');
    expect(contentHash('foobar')).toBe('85944171f73967e8');
  });

  it('canonicalJson drops undefined members', () => {
    expect(canonicalJson({ z: undefined, a: 'x' })).toBe('{"a":"x"}');
  });
});
