import { describe, expect, expectTypeOf, it } from 'vitest';
import { HeaderFieldError } from './errors.js';
import {
  decodeHeader,
  encodeHeader,
  optionalBoolean,
  optionalInt,
  optionalLong,
  optionalString,
  requiredInt,
  requiredLong,
  requiredString,
} from './headers.js';

describe('decodeHeader', () => {
  const pullHeader = {
    consumerGroup: 'CG',
    topic: 'TopicTest',
    queueId: '3',
    queueOffset: '9007199254740993',
    maxMsgNums: '32',
    sysFlag: '6',
    suspendTimeoutMillis: '15000',
    subscription: '*',
    subVersion: '0',
    bname: 'broker-a',
  };

  it('parses each kind and types the result (required vs optional)', () => {
    const header = decodeHeader(pullHeader, {
      consumerGroup: 'string',
      queueId: 'int',
      queueOffset: 'long',
      subscription: 'string?',
      expressionType: 'string?',
      unitMode: 'boolean?',
    });
    expect(header).toEqual({
      consumerGroup: 'CG',
      queueId: 3,
      queueOffset: 9007199254740993n,
      subscription: '*',
    });
    expectTypeOf(header.queueId).toEqualTypeOf<number>();
    expectTypeOf(header.queueOffset).toEqualTypeOf<bigint>();
    expectTypeOf(header.unitMode).toEqualTypeOf<boolean | undefined>();
  });

  it('names the missing required field in Java wording', () => {
    expect(() => decodeHeader({}, { topic: 'string' })).toThrow(
      new HeaderFieldError('topic', 'the custom field <topic> is null'),
    );
    expect(() => decodeHeader({ a: '1' }, { a: 'int', b: 'long' })).toThrow(
      expect.objectContaining({ name: 'HeaderFieldError', field: 'b' }),
    );
  });

  it.each([
    ['int', 'x1'],
    ['int', '1.5'],
    ['int', ''],
    ['int', '2147483648'],
    ['int', '-2147483649'],
    ['long', '9223372036854775808'],
    ['long', '1e3'],
    ['long', ' 1'],
  ] as const)('rejects %s value %j with a HeaderFieldError naming the field', (kind, value) => {
    expect(() => decodeHeader({ f: value }, { f: kind })).toThrow(/custom field <f>/);
  });

  it('accepts the int and long extremes and signs', () => {
    expect(
      decodeHeader(
        { a: '-2147483648', b: '+2147483647', c: '-9223372036854775808' },
        { a: 'int', b: 'int', c: 'long' },
      ),
    ).toEqual({
      a: -2147483648,
      b: 2147483647,
      c: -9223372036854775808n,
    });
  });

  it('parses booleans like Boolean.parseBoolean', () => {
    const spec = { v: 'boolean' } as const;
    expect(decodeHeader({ v: 'true' }, spec).v).toBe(true);
    expect(decodeHeader({ v: 'TRUE' }, spec).v).toBe(true);
    expect(decodeHeader({ v: '1' }, spec).v).toBe(false);
    expect(decodeHeader({ v: 'yes' }, spec).v).toBe(false);
  });
});

describe('single-field helpers', () => {
  it('read required and optional fields', () => {
    const ext = { topic: 'T', queueId: '2', offset: '-1', flag: 'false' };
    expect(requiredString(ext, 'topic')).toBe('T');
    expect(requiredInt(ext, 'queueId')).toBe(2);
    expect(requiredLong(ext, 'offset')).toBe(-1n);
    expect(optionalInt(ext, 'nope')).toBeUndefined();
    expect(optionalLong(ext, 'nope')).toBeUndefined();
    expect(optionalBoolean(ext, 'flag')).toBe(false);
    expect(() => requiredString(ext, 'group')).toThrow(HeaderFieldError);
  });

  it('does not read inherited object properties as fields', () => {
    expect(() => requiredString({}, 'constructor')).toThrow(HeaderFieldError);
    expect(optionalString({}, 'toString')).toBeUndefined();
    expect(() => decodeHeader({}, { hasOwnProperty: 'string' })).toThrow(HeaderFieldError);
  });
});

describe('encodeHeader', () => {
  it('emits strings only and drops null/undefined', () => {
    expect(
      encodeHeader({
        msgId: 'AB',
        queueId: 3,
        queueOffset: 12345678901234567n,
        ok: true,
        no: false,
        gone: undefined,
        nil: null,
      }),
    ).toEqual({ msgId: 'AB', queueId: '3', queueOffset: '12345678901234567', ok: 'true', no: 'false' });
  });

  it('round-trips through decodeHeader', () => {
    const ext = encodeHeader({ a: -5, b: 2n ** 62n, c: true, d: 'x' });
    expect(decodeHeader(ext, { a: 'int', b: 'long', c: 'boolean', d: 'string' })).toEqual({
      a: -5,
      b: 2n ** 62n,
      c: true,
      d: 'x',
    });
  });
});
