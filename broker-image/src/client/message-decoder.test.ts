import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createOffsetMessageId, decodeProperties as decodePropertyMap } from '../message/index.js';
import { decodeMessage, decodeMessages, decodeOffsetMsgId } from './message-decoder.js';
import { decodeProperties, encodeProperties } from './properties-codec.js';

// The verified 156-byte record of protocol.md §4.1.
const GOLDEN = Buffer.from(
  [
    '0000009c daa320a7 3610a686 00000001 00000000 0000000000000005 0000000000001234',
    '00000000 0000018bcfe56800 0a000009 0000d431 0000018bcfe5687b 0a000001 00002a9f',
    '00000000 0000000000000000 00000005 68656c6c6f 09 546f70696354657374',
    '0033 554e49515f4b4559 01 3041303030303039443433313030303030303030303030303030303030304142 02 54414753 01 54616741',
  ]
    .join('')
    .replace(/\s+/g, ''),
  'hex',
);

interface RecordSpec {
  topic?: string;
  queueId?: number;
  queueOffset?: bigint;
  physicalOffset?: bigint;
  sysFlag?: number;
  body?: Buffer;
  properties?: string;
  v6?: boolean;
}

function buildRecord(spec: RecordSpec): Buffer {
  const body = spec.body ?? Buffer.from('x');
  const topic = Buffer.from(spec.topic ?? 'T');
  const props = Buffer.from(spec.properties ?? '');
  const hostLen = spec.v6 ? 20 : 8;
  const size =
    4 +
    4 +
    4 +
    4 +
    4 +
    8 +
    8 +
    4 +
    8 +
    hostLen +
    8 +
    hostLen +
    4 +
    8 +
    4 +
    body.length +
    1 +
    topic.length +
    2 +
    props.length;
  const b = Buffer.alloc(size);
  let at = 0;
  at = b.writeInt32BE(size, at);
  at = b.writeInt32BE(0xdaa320a7 | 0, at);
  at = b.writeInt32BE(0, at);
  at = b.writeInt32BE(spec.queueId ?? 0, at);
  at = b.writeInt32BE(0, at);
  at = b.writeBigInt64BE(spec.queueOffset ?? 0n, at);
  at = b.writeBigInt64BE(spec.physicalOffset ?? 0n, at);
  at = b.writeInt32BE((spec.sysFlag ?? 0) | (spec.v6 ? 0x30 : 0), at);
  at = b.writeBigInt64BE(1n, at);
  at += hostLen - 4;
  at = b.writeInt32BE(1234, at);
  at = b.writeBigInt64BE(2n, at);
  if (spec.v6) b[at + 15] = 1;
  else b.set([127, 0, 0, 1], at);
  at += hostLen - 4;
  at = b.writeInt32BE(10911, at);
  at = b.writeInt32BE(0, at);
  at = b.writeBigInt64BE(0n, at);
  at = b.writeInt32BE(body.length, at);
  at += body.copy(b, at);
  at = b.writeUInt8(topic.length, at);
  at += topic.copy(b, at);
  at = b.writeUInt16BE(props.length, at);
  props.copy(b, at);
  return b;
}

describe('decodeMessage', () => {
  it('decodes the golden record of protocol.md §4.1', () => {
    expect(GOLDEN.length).toBe(156);
    const { message, next } = decodeMessage(GOLDEN);
    expect(next).toBe(156);
    expect(message).toMatchObject({
      topic: 'TopicTest',
      queueId: 1,
      queueOffset: 5,
      commitLogOffset: 0x1234,
      body: Buffer.from('hello'),
      bornHost: '10.0.0.9:54321',
      bornTimestamp: 1700000000000,
      storeHost: '10.0.0.1:10911',
      storeTimestamp: 1700000000123,
      tags: 'TagA',
      msgId: '0A000009D431000000000000000000AB',
      offsetMsgId: '0A00000100002A9F0000000000001234',
      bodyCRC: 0x3610a686,
      reconsumeTimes: 0,
    });
  });

  it('decodes concatenated records and IPv6 hosts', () => {
    const a = buildRecord({ queueOffset: 7n, physicalOffset: 100n, properties: 'KEYS\u0001k1 k2' });
    const b = buildRecord({ queueOffset: 8n, physicalOffset: 200n, v6: true });
    const [m1, m2] = decodeMessages(Buffer.concat([a, b]));
    expect(m1.queueOffset).toBe(7);
    expect(m1.keys).toBe('k1 k2');
    expect(m1.msgId).toBe(m1.offsetMsgId);
    expect(m2.queueOffset).toBe(8);
    expect(m2.storeHost).toBe('[::1]:10911');
    expect(m2.offsetMsgId).toHaveLength(56);
    expect(decodeOffsetMsgId(m2.offsetMsgId)).toEqual({ address: '[::1]:10911', physicalOffset: 200n });
    expect(m1.offsetMsgId).toBe(createOffsetMessageId({ address: '127.0.0.1', port: 10911 }, 100n));
  });

  it('refuses 64-bit fields beyond 2^53 and reads negative ones', () => {
    const big = buildRecord({ physicalOffset: 2n ** 53n });
    expect(() => decodeMessages(big)).toThrow(/physicalOffset 9007199254740992 is beyond 2\^53/);
    const [max] = decodeMessages(
      buildRecord({ physicalOffset: 2n ** 53n - 1n, queueOffset: 2n ** 40n + 5n }),
    );
    expect(max.commitLogOffset).toBe(2 ** 53 - 1);
    expect(max.queueOffset).toBe(2 ** 40 + 5);
    const negative = buildRecord({});
    negative.writeBigInt64BE(-(2n ** 53n) + 1n, 8 + 12);
    expect(decodeMessages(negative)[0].queueOffset).toBe(-(2 ** 53) + 1);
  });

  it('inflates zlib bodies per sysFlag (bit 0 alone, or with type bits 0x300)', () => {
    const plain = Buffer.from('a'.repeat(5000));
    for (const sysFlag of [0x1, 0x301]) {
      const [m] = decodeMessages(buildRecord({ body: deflateSync(plain), sysFlag }));
      expect(m.body.equals(plain)).toBe(true);
    }
    expect(() => decodeMessages(buildRecord({ body: Buffer.from('zz'), sysFlag: 0x101 }))).toThrow(
      /LZ4\/ZSTD/,
    );
    expect(() => decodeMessages(buildRecord({ body: Buffer.from('zz'), sysFlag: 0x1 }))).toThrow(/inflate/);
  });

  it('rejects truncated and inconsistent input with a position', () => {
    expect(() => decodeMessages(GOLDEN.subarray(0, 100))).toThrow(/does not fit/);
    const bad = Buffer.from(GOLDEN);
    bad.writeInt32BE(0x7fffffff, 84); // body length past the end
    expect(() => decodeMessages(bad)).toThrow(/malformed record/);
    expect(() => decodeMessages(Buffer.concat([GOLDEN, Buffer.from([1, 2])]))).toThrow(/truncated/);
  });

  it('never throws anything but MessageDecodeError on random mutations', () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 5000; i++) {
      const mutated = Buffer.from(GOLDEN);
      for (let j = 0; j < 1 + (rand() % 4); j++) mutated[rand() % mutated.length] = rand() & 0xff;
      try {
        decodeMessages(mutated);
      } catch (err) {
        expect((err as Error).name).toBe('MessageDecodeError');
      }
    }
  });
});

describe('offset message ids', () => {
  it('round-trips store host and offset', () => {
    const id = createOffsetMessageId({ address: '10.0.0.1', port: 10911 }, 0x1234n);
    expect(id).toBe('0A00000100002A9F0000000000001234');
    expect(decodeOffsetMsgId(id)).toEqual({ address: '10.0.0.1:10911', physicalOffset: 0x1234n });
    expect(() => decodeOffsetMsgId('123')).toThrow(/offset message id/);
  });
});

describe('properties codec', () => {
  it('encodes without a trailing separator and decodes tolerantly', () => {
    expect(encodeProperties({ TAGS: 'A', KEYS: 'k', SKIP: undefined })).toBe('TAGS\u0001A\u0002KEYS\u0001k');
    expect(decodeProperties('TAGS\u0001A\u0002KEYS\u0001k\u0002')).toEqual({ TAGS: 'A', KEYS: 'k' });
    expect(decodeProperties('\u0002x\u0002\u0001ab\u0002ab\u0001\u0002a\u0001b')).toEqual({ a: 'b' });
    expect(() => encodeProperties({ A: 'x\u0002y' })).toThrow(/contains U\+0001 or U\+0002/);
  });

  it('decodes exactly like the Map decoder of ../message, on random separator soup', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const alphabet = ['a', 'b', 'K', '\u0001', '\u0002', '\u0001', '\u0002', 'é'];
    for (let i = 0; i < 3000; i++) {
      let text = '';
      for (let j = rand() % 24; j > 0; j--) text += alphabet[rand() % alphabet.length];
      expect(Object.entries(decodeProperties(text))).toEqual([...decodePropertyMap(text)]);
    }
  });

  it('keeps a property named __proto__ as an own property', () => {
    const props = decodeProperties('__proto__\u0001x\u0002TAGS\u0001A');
    expect(Object.getPrototypeOf(props)).toBe(Object.prototype);
    expect(Object.keys(props)).toEqual(['__proto__', 'TAGS']);
    expect(Object.getOwnPropertyDescriptor(props, '__proto__')?.value).toBe('x');
  });
});
