import { describe, expect, it } from 'vitest';
import { formatHost, hostBytes, parseHost, readHost } from './host-address.js';
import { javaStringHashCode, tagsCodeOf } from './java-hash.js';
import { createOffsetMessageId, MessageIdError, parseOffsetMessageId } from './message-id.js';
import { checkProperties, decodeProperties, encodeProperties, splitKeys } from './properties.js';

describe('properties codec', () => {
  it('encodes Java-style without a trailing separator and skips null values', () => {
    const map = new Map<string, string>([
      ['A', '1'],
      ['B', undefined as unknown as string],
      ['C', '3'],
    ]);
    expect(encodeProperties(map)).toBe('A\u00011\u0002C\u00013');
  });

  it('decodes with the Java skip rules, tolerating a trailing separator (ali-ons)', () => {
    const m = decodeProperties(
      'A\u00011\u0002\u0002x\u0002\u0001bad\u0002bad\u0001\u0002C\u00013=\u00014\u0002',
    );
    expect([...m]).toEqual([
      ['A', '1'],
      ['C', '3=\u00014'],
    ]);
  });

  it('reports separators inside names or values', () => {
    expect(checkProperties(new Map([['K', 'a\u0002b']]))).toMatch(/value of property K/);
    expect(checkProperties(new Map([['K', 'ok']]))).toBeUndefined();
  });

  it('splits KEYS on spaces', () => {
    expect(splitKeys('a  b c')).toEqual(['a', 'b', 'c']);
    expect(splitKeys(undefined)).toEqual([]);
  });
});

describe('tag hash', () => {
  it('is Java String.hashCode', () => {
    expect(tagsCodeOf('TagA')).toBe(2598919);
    expect(tagsCodeOf('TagB')).toBe(2598920);
    expect(tagsCodeOf(undefined)).toBe(0);
    // "polygenelubricants".hashCode() == Integer.MIN_VALUE in Java.
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648);
    // UTF-16 code units, not code points: a surrogate pair counts twice.
    expect(javaStringHashCode('🔑')).toBe(0xd83d * 31 + 0xdd11);
  });
});

describe('offset message id', () => {
  it('matches protocol.md §5.1 and parses back', () => {
    const id = createOffsetMessageId({ address: '10.0.0.1', port: 10911 }, 0x1234n);
    expect(id).toBe('0A00000100002A9F0000000000001234');
    expect(parseOffsetMessageId(id)).toEqual({
      storeHost: { address: '10.0.0.1', port: 10911 },
      physicalOffset: 0x1234n,
    });
  });

  it('handles IPv6 store hosts (56 hex characters)', () => {
    const id = createOffsetMessageId({ address: '2001:db8::1', port: 10911 }, 2n ** 40n);
    expect(id).toHaveLength(56);
    expect(parseOffsetMessageId(id)).toEqual({
      storeHost: { address: '2001:db8::1', port: 10911 },
      physicalOffset: 2n ** 40n,
    });
  });

  it('rejects ids of other lengths or non-hex text', () => {
    expect(() => parseOffsetMessageId('ABC')).toThrow(MessageIdError);
    expect(() => parseOffsetMessageId('Z'.repeat(32))).toThrow(MessageIdError);
  });
});

describe('host address', () => {
  it('parses and formats ip:port and [ipv6]:port', () => {
    expect(parseHost('10.0.0.1:10911')).toEqual({ address: '10.0.0.1', port: 10911 });
    expect(parseHost('[::1]:10911')).toEqual({ address: '::1', port: 10911 });
    expect(parseHost('[::ffff:1.2.3.4]:1')).toEqual({ address: '1.2.3.4', port: 1 });
    expect(formatHost({ address: '::1', port: 5 })).toBe('[::1]:5');
    expect(() => parseHost('nohost')).toThrow(/ip:port/);
    expect(() => parseHost('300.1.1.1:1')).toThrow(/not an IPv4/);
  });

  it('round-trips IPv6 forms, including an embedded IPv4 tail', () => {
    for (const [text, canonical] of [
      ['::', '::'],
      ['::1', '::1'],
      ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['64:ff9b::1.2.3.4', '64:ff9b::102:304'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ]) {
      const bytes = hostBytes({ address: text, port: 9 });
      expect(bytes.length).toBe(20);
      expect(readHost(bytes, 0, true)).toEqual({ address: canonical, port: 9 });
    }
  });
});
