import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { HostAddress } from './message-store.js';
import {
  BLANK_MAGIC_CODE,
  checkRecordAt,
  decodeBatchBody,
  decodeRecord,
  decodeRecords,
  encodeBatchBody,
  encodeRecord,
  encodeRecords,
  MessageSysFlag,
  type RecordFields,
  RecordFormatError,
  readStoreTimestamp,
} from './record-codec.js';

// protocol.md §4.1 worked example, produced by the 4.9.8 encoder.
const GOLDEN_HEX = [
  '0000009c daa320a7 3610a686 00000001 00000000 0000000000000005 0000000000001234',
  '00000000 0000018bcfe56800 0a000009 0000d431 0000018bcfe5687b 0a000001 00002a9f',
  '00000000 0000000000000000 00000005 68656c6c6f 09 546f70696354657374',
  '0033 554e49515f4b4559 01 3041303030303039443433313030303030303030303030303030303030304142 02 54414753 01 54616741',
]
  .join('')
  .replace(/\s+/g, '');

function fields(overrides: Partial<RecordFields> = {}): RecordFields {
  return {
    topic: 'TopicTest',
    queueId: 1,
    flag: 0,
    queueOffset: 5n,
    physicalOffset: 0x1234n,
    sysFlag: 0,
    bornTimestamp: 1700000000000,
    bornHost: { address: '10.0.0.9', port: 54321 },
    storeTimestamp: 1700000000123,
    storeHost: { address: '10.0.0.1', port: 10911 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    body: Buffer.from('hello'),
    properties: new Map([
      ['UNIQ_KEY', '0A000009D431000000000000000000AB'],
      ['TAGS', 'TagA'],
    ]),
    ...overrides,
  };
}

describe('record codec', () => {
  it('encodes the worked example of protocol.md §4.1 byte for byte', () => {
    const buf = encodeRecord(fields());
    expect(buf.length).toBe(156);
    expect(buf.toString('hex')).toBe(GOLDEN_HEX);
  });

  it('decodes the worked example', () => {
    const r = decodeRecord(Buffer.from(GOLDEN_HEX, 'hex'));
    expect(r.totalSize).toBe(156);
    expect(r.bodyCRC).toBe(0x3610a686);
    expect(r.queueId).toBe(1);
    expect(r.queueOffset).toBe(5n);
    expect(r.physicalOffset).toBe(0x1234n);
    expect(r.bornHost).toEqual({ address: '10.0.0.9', port: 54321 });
    expect(r.storeHost).toEqual({ address: '10.0.0.1', port: 10911 });
    expect(r.bornTimestamp).toBe(1700000000000);
    expect(r.storeTimestamp).toBe(1700000000123);
    expect(r.topic).toBe('TopicTest');
    expect(r.body.toString()).toBe('hello');
    expect([...r.properties]).toEqual([
      ['UNIQ_KEY', '0A000009D431000000000000000000AB'],
      ['TAGS', 'TagA'],
    ]);
    expect(readStoreTimestamp(Buffer.from(GOLDEN_HEX, 'hex'))).toBe(1700000000123);
  });

  it('round-trips an empty body', () => {
    const buf = encodeRecord(fields({ body: Buffer.alloc(0), properties: new Map() }));
    expect(buf.length).toBe(91 + 9);
    const r = decodeRecord(buf);
    expect(r.body.length).toBe(0);
    expect(r.properties.size).toBe(0);
  });

  it('round-trips a 4 MiB body', () => {
    const body = randomBytes(4 * 1024 * 1024);
    const r = decodeRecord(encodeRecord(fields({ body })));
    expect(r.body.equals(body)).toBe(true);
  });

  it('round-trips unicode topic and properties (lengths count UTF-8 bytes)', () => {
    const props = new Map([
      ['KEYS', 'ключ 鍵 🔑'],
      ['TAGS', 'étiquette'],
      ['用户属性', 'значение'],
    ]);
    const buf = encodeRecord(fields({ topic: 'Topic_ü', properties: props }));
    const r = decodeRecord(buf);
    expect(r.topic).toBe('Topic_ü');
    expect(r.properties).toEqual(props);
  });

  it('round-trips IPv6 born and store hosts and sets the sysFlag bits', () => {
    const bornHost: HostAddress = { address: '2001:db8::9', port: 40000 };
    const storeHost: HostAddress = { address: 'fe80::1:2', port: 10911 };
    const buf = encodeRecord(fields({ bornHost, storeHost, sysFlag: MessageSysFlag.COMPRESSED }));
    expect(buf.length).toBe(156 + 24);
    const r = decodeRecord(buf);
    expect(r.sysFlag).toBe(
      MessageSysFlag.COMPRESSED | MessageSysFlag.BORNHOST_V6 | MessageSysFlag.STOREHOST_V6,
    );
    expect(r.bornHost).toEqual(bornHost);
    expect(r.storeHost).toEqual(storeHost);
    expect(r.storeTimestamp).toBe(1700000000123);
    expect(readStoreTimestamp(buf)).toBe(1700000000123);
  });

  it('stores an IPv4-mapped IPv6 address as 4 bytes', () => {
    const buf = encodeRecord(fields({ bornHost: { address: '::ffff:10.0.0.9', port: 54321 } }));
    expect(buf.toString('hex')).toBe(GOLDEN_HEX);
  });

  it('round-trips batches of records back to back', () => {
    const batch = [0, 1, 2].map((i) =>
      fields({ queueOffset: BigInt(i), physicalOffset: BigInt(i * 1000), body: Buffer.from(`m${i}`) }),
    );
    const decoded = decodeRecords(encodeRecords(batch));
    expect(decoded.map((r) => r.body.toString())).toEqual(['m0', 'm1', 'm2']);
    expect(decoded.map((r) => r.queueOffset)).toEqual([0n, 1n, 2n]);
  });

  it('round-trips a SEND_BATCH_MESSAGE body', () => {
    const items = [
      { flag: 0, body: Buffer.from('a'), properties: 'KEYS\u0001k1\u0002UNIQ_KEY\u0001U1' },
      { flag: 7, body: Buffer.alloc(0), properties: '' },
    ];
    const decoded = decodeBatchBody(encodeBatchBody(items));
    expect(decoded.map((i) => ({ ...i, body: i.body.toString() }))).toEqual(
      items.map((i) => ({ ...i, body: i.body.toString() })),
    );
    expect(() => decodeBatchBody(encodeBatchBody(items).subarray(0, 10))).toThrow(RecordFormatError);
  });

  it('rejects a flipped body byte, a bad magic code and a truncated record', () => {
    const good = Buffer.from(GOLDEN_HEX, 'hex');
    const flipped = Buffer.from(good);
    flipped[90] ^= 0x01;
    expect(() => decodeRecord(flipped)).toThrow(/CRC/);
    expect(checkRecordAt(flipped, 0, flipped.length)).toEqual({
      kind: 'invalid',
      reason: 'body CRC mismatch',
    });
    const badMagic = Buffer.from(good);
    badMagic[5] ^= 0xff;
    expect(() => decodeRecord(badMagic)).toThrow(/magic/);
    expect(() => decodeRecord(good.subarray(0, 100))).toThrow(/needs 156 bytes/);
    expect(checkRecordAt(good, 0, good.length, 0x1234)).toEqual({ kind: 'message', size: 156 });
    expect(checkRecordAt(good, 0, good.length, 0x1235).kind).toBe('invalid');
  });

  it('recognises the end-of-segment filler', () => {
    const filler = Buffer.alloc(8);
    filler.writeInt32BE(4096, 0);
    filler.writeInt32BE(BLANK_MAGIC_CODE, 4);
    expect(checkRecordAt(filler, 0, 8)).toEqual({ kind: 'blank', size: 4096 });
  });

  it('refuses a topic longer than 127 bytes and properties longer than 32767 bytes', () => {
    expect(() => encodeRecord(fields({ topic: 'x'.repeat(128) }))).toThrow(/127/);
    expect(() => encodeRecord(fields({ properties: new Map([['K', 'v'.repeat(40000)]]) }))).toThrow(/32767/);
  });
});
