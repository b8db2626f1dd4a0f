// RocketMQ's stored message record (protocol.md §4.1), byte for byte. The same bytes are the
// CommitLog content and the body of pull/query/view responses. All integers are big-endian.

import { crc32 } from 'node:zlib';
import { checkHost, hostBytes, readHost } from '../message/host-address.js';
import { decodeProperties, encodeProperties } from '../message/properties.js';
import type { HostAddress } from './message-store.js';

/** Magic code of a message record. */
export const MESSAGE_MAGIC_CODE = 0xdaa320a7 | 0;
/** Magic code of the end-of-segment filler: int remaining bytes, int this code. */
export const BLANK_MAGIC_CODE = 0xcbd43194 | 0;
/** Size of the end-of-segment filler that must always fit after the last record. */
export const END_FILLER_SIZE = 8;

/** Message sysFlag bits (protocol.md §4.2). */
export const MessageSysFlag = {
  COMPRESSED: 0x1,
  MULTI_TAGS: 0x2,
  TRANSACTION_NOT_TYPE: 0,
  TRANSACTION_PREPARED_TYPE: 0x4,
  TRANSACTION_COMMIT_TYPE: 0x8,
  TRANSACTION_ROLLBACK_TYPE: 0xc,
  BORNHOST_V6: 0x10,
  STOREHOST_V6: 0x20,
} as const;

/** The transaction type bits of a sysFlag (0, 4, 8 or 12). */
export function transactionType(sysFlag: number): number {
  return sysFlag & 0xc;
}

/** Record size with empty body, topic and properties and IPv4 hosts. */
export const RECORD_MIN_SIZE = 91;
/** Largest possible size of everything but the body: IPv6 hosts, 127-byte topic, 32 767-byte properties. */
export const MAX_RECORD_OVERHEAD = RECORD_MIN_SIZE + 24 + 127 + 32767;
export const MAX_TOPIC_BYTES = 127;
export const MAX_PROPERTIES_BYTES = 32767;

// Fixed positions (the first 48 bytes do not depend on host sizes).
export const POS_TOTAL_SIZE = 0;
export const POS_MAGIC = 4;
export const POS_BODY_CRC = 8;
export const POS_QUEUE_ID = 12;
export const POS_FLAG = 16;
export const POS_QUEUE_OFFSET = 20;
export const POS_PHYSICAL_OFFSET = 28;
export const POS_SYS_FLAG = 36;
export const POS_BORN_TIMESTAMP = 40;
export const POS_BORN_HOST = 48;

/** Position of storeTimestamp, which follows the born host (8 or 20 bytes). */
export function storeTimestampPos(sysFlag: number): number {
  return POS_BORN_HOST + (sysFlag & MessageSysFlag.BORNHOST_V6 ? 20 : 8);
}

/** Thrown by `decodeRecord` for bytes that are not a whole, valid record. */
export class RecordFormatError extends Error {
  override readonly name = 'RecordFormatError';
}

/** Every field of a record, as the encoder takes them. */
export interface RecordFields {
  topic: string;
  queueId: number;
  flag: number;
  queueOffset: bigint;
  physicalOffset: bigint;
  /** IPv6 bits (0x10, 0x20) are set from the hosts, whatever is passed here. */
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostAddress;
  storeTimestamp: number;
  storeHost: HostAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: bigint;
  body: Buffer;
  /** A map, or an already encoded properties string. */
  properties: ReadonlyMap<string, string> | string;
}

/** A decoded record. */
export interface StoredRecord {
  totalSize: number;
  magicCode: number;
  bodyCRC: number;
  queueId: number;
  flag: number;
  queueOffset: bigint;
  physicalOffset: bigint;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostAddress;
  storeTimestamp: number;
  storeHost: HostAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: bigint;
  body: Buffer;
  topic: string;
  properties: Map<string, string>;
  propertiesString: string;
}

/** CRC32 of the stored body masked to 31 bits, as RocketMQ computes bodyCRC. */
export function bodyCrc(body: Buffer): number {
  return crc32(body) & 0x7fffffff;
}

/** Writes a signed 64-bit value given as a safe-integer number. */
export function writeLong(buf: Buffer, value: number, pos: number): void {
  // Byte stores: much cheaper than writeInt32BE's checks on the append path (typed-array stores
  // truncate to 8 bits; >>> gives two's complement for negative high words).
  const hi = Math.floor(value / 4294967296);
  const lo = value - hi * 4294967296;
  buf[pos] = hi >>> 24;
  buf[pos + 1] = hi >>> 16;
  buf[pos + 2] = hi >>> 8;
  buf[pos + 3] = hi;
  buf[pos + 4] = lo >>> 24;
  buf[pos + 5] = lo >>> 16;
  buf[pos + 6] = lo >>> 8;
  buf[pos + 7] = lo;
}

/** Writes a 32-bit integer big-endian with byte stores (no range checks: callers validated). */
function putInt(buf: Buffer, value: number, pos: number): void {
  buf[pos] = value >>> 24;
  buf[pos + 1] = value >>> 16;
  buf[pos + 2] = value >>> 8;
  buf[pos + 3] = value;
}

/** Reads a signed 64-bit value as a number (exact below 2^53). */
export function readLong(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4);
}

/** Total record size for the given field lengths. */
export function recordSize(
  bodyLen: number,
  topicLen: number,
  propsLen: number,
  bornV6: boolean,
  storeV6: boolean,
) {
  return RECORD_MIN_SIZE + (bornV6 ? 12 : 0) + (storeV6 ? 12 : 0) + bodyLen + topicLen + propsLen;
}

/** Where the encoder placed the fields the writer fills at append time. */
export interface EncodedRecord {
  buf: Buffer;
  storeTimestampPos: number;
}

/**
 * Encodes a record. Offsets and timestamps may be numbers (fast path) or bigints; the CRC is computed
 * unless `bodyCRC` is given. Throws RecordFormatError for values that cannot be stored.
 */
export function encodeRecordParts(p: {
  topic: string;
  queueId: number;
  flag: number;
  queueOffset: number | bigint;
  physicalOffset: number | bigint;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostAddress;
  storeTimestamp: number;
  storeHost: HostAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: number | bigint;
  body: Buffer;
  properties: string;
  bodyCRC?: number;
  /** Pre-encoded hosts (IP bytes + port, see `hostBytes`), used instead of the addresses. */
  bornHostBytes?: Buffer;
  storeHostBytes?: Buffer;
  /** UTF-8 lengths, when the caller already knows them. */
  topicLength?: number;
  propertiesLength?: number;
  /** Where the record's bytes go (exactly the record size); a new buffer by default. */
  allocate?: (size: number) => Buffer;
}): EncodedRecord {
  const topicLen = p.topicLength ?? Buffer.byteLength(p.topic, 'utf8');
  const propsLen = p.propertiesLength ?? Buffer.byteLength(p.properties, 'utf8');
  if (topicLen > MAX_TOPIC_BYTES) throw new RecordFormatError(`topic is ${topicLen} bytes; at most 127 fit`);
  if (propsLen > MAX_PROPERTIES_BYTES) {
    throw new RecordFormatError(`properties are ${propsLen} bytes; at most 32767 fit`);
  }
  const bornBytes = p.bornHostBytes ?? encodedHost('bornHost', p.bornHost);
  const storeBytes = p.storeHostBytes ?? encodedHost('storeHost', p.storeHost);
  const size = recordSize(
    p.body.length,
    topicLen,
    propsLen,
    bornBytes.length === 20,
    storeBytes.length === 20,
  );
  const buf = p.allocate ? p.allocate(size) : Buffer.allocUnsafe(size);
  const storeTsPos = writeRecordInto(
    buf,
    p.topic,
    topicLen,
    p.queueId,
    p.flag,
    p.sysFlag,
    p.bornTimestamp,
    bornBytes,
    storeBytes,
    p.reconsumeTimes,
    p.preparedTransactionOffset,
    p.body,
    p.properties,
    propsLen,
    p.bodyCRC ?? bodyCrc(p.body),
  );
  putLong(buf, p.queueOffset, POS_QUEUE_OFFSET);
  putLong(buf, p.physicalOffset, POS_PHYSICAL_OFFSET);
  writeLong(buf, p.storeTimestamp, storeTsPos);
  return { buf, storeTimestampPos: storeTsPos };
}

function encodedHost(field: string, host: HostAddress): Buffer {
  const problem = checkHost(host);
  if (problem) throw new RecordFormatError(`${field}: ${problem}`);
  return hostBytes(host);
}

function putLong(buf: Buffer, value: number | bigint, pos: number): void {
  if (typeof value !== 'bigint') writeLong(buf, value, pos);
  else if (value >= -SAFE && value <= SAFE) writeLong(buf, Number(value), pos);
  else buf.writeBigInt64BE(value, pos);
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Writes a record into `buf` (exactly its size, already validated) with queue offset, physical
 * offset and store timestamp zero, and returns the position of the store timestamp. Positional
 * arguments: this is the append path, where an options object per message would be garbage.
 * With `properties` null the caller writes the properties (the last `propsLen` bytes) itself.
 */
export function writeRecordInto(
  buf: Buffer,
  topic: string,
  topicLen: number,
  queueId: number,
  flag: number,
  sysFlag: number,
  bornTimestamp: number,
  bornHostBytes: Buffer,
  storeHostBytes: Buffer,
  reconsumeTimes: number,
  preparedTransactionOffset: number | bigint,
  body: Buffer,
  properties: string | null,
  propsLen: number,
  bodyCRC: number,
): number {
  const flags =
    (sysFlag & ~(MessageSysFlag.BORNHOST_V6 | MessageSysFlag.STOREHOST_V6)) |
    (bornHostBytes.length === 20 ? MessageSysFlag.BORNHOST_V6 : 0) |
    (storeHostBytes.length === 20 ? MessageSysFlag.STOREHOST_V6 : 0);
  putInt(buf, buf.length, POS_TOTAL_SIZE);
  putInt(buf, MESSAGE_MAGIC_CODE, POS_MAGIC);
  putInt(buf, bodyCRC, POS_BODY_CRC);
  putInt(buf, queueId, POS_QUEUE_ID);
  putInt(buf, flag | 0, POS_FLAG);
  writeLong(buf, 0, POS_QUEUE_OFFSET);
  writeLong(buf, 0, POS_PHYSICAL_OFFSET);
  putInt(buf, flags, POS_SYS_FLAG);
  writeLong(buf, bornTimestamp, POS_BORN_TIMESTAMP);
  buf.set(bornHostBytes, POS_BORN_HOST);
  let pos = POS_BORN_HOST + bornHostBytes.length;
  const storeTsPos = pos;
  writeLong(buf, 0, pos);
  pos += 8;
  buf.set(storeHostBytes, pos);
  pos += storeHostBytes.length;
  putInt(buf, reconsumeTimes | 0, pos);
  pos += 4;
  putLong(buf, preparedTransactionOffset, pos);
  pos += 8;
  putInt(buf, body.length, pos);
  pos += 4;
  buf.set(body, pos);
  pos += body.length;
  buf[pos] = topicLen;
  pos += 1;
  if (topicLen === topic.length) {
    // ASCII (one byte per char): copied directly, cheaper than the native encoder for a short name.
    for (let i = 0; i < topicLen; i++) buf[pos + i] = topic.charCodeAt(i);
  } else buf.write(topic, pos, topicLen, 'utf8');
  pos += topicLen;
  buf[pos] = propsLen >>> 8;
  buf[pos + 1] = propsLen;
  pos += 2;
  if (propsLen > 0 && properties !== null) buf.write(properties, pos, propsLen, 'utf8');
  return storeTsPos;
}

/** Encodes one record from all its fields. */
export function encodeRecord(fields: RecordFields): Buffer {
  const properties =
    typeof fields.properties === 'string' ? fields.properties : encodeProperties(fields.properties);
  return encodeRecordParts({ ...fields, properties }).buf;
}

/** Encodes several records back to back (a pull body, or a batch as the CommitLog stores it). */
export function encodeRecords(records: readonly RecordFields[]): Buffer {
  return Buffer.concat(records.map(encodeRecord));
}

/** Outcome of checking the bytes at a position. */
export type RecordCheck =
  | { kind: 'message'; size: number }
  /** End-of-segment filler; `size` = remaining bytes of the segment. */
  | { kind: 'blank'; size: number }
  /** The header is plausible but the record extends past the available bytes. */
  | { kind: 'truncated'; size: number }
  | { kind: 'invalid'; reason: string };

/**
 * Checks the record at `pos` without decoding it: size and magic, field lengths adding up to the
 * total size, the body CRC and, when given, that the stored physical offset equals
 * `expectedPhysicalOffset` (a record knows where it lives, which makes torn or misaligned reads
 * detectable). `end` bounds the readable bytes.
 */
export function checkRecordAt(
  buf: Buffer,
  pos: number,
  end: number,
  expectedPhysicalOffset?: number,
  verifyCrc = true,
): RecordCheck {
  // Raw byte reads: this runs once per record on recovery, where Buffer's checked readers cost
  // more than the rest of the work (every read below is inside [pos, pos + size) ⊆ [pos, end)).
  if (end - pos < 8) return { kind: 'truncated', size: 8 };
  const size = int32(buf, pos);
  const magic = int32(buf, pos + POS_MAGIC);
  if (magic === BLANK_MAGIC_CODE) {
    return size >= END_FILLER_SIZE ? { kind: 'blank', size } : { kind: 'invalid', reason: 'bad filler size' };
  }
  if (magic !== MESSAGE_MAGIC_CODE) return { kind: 'invalid', reason: 'bad magic code' };
  if (size < RECORD_MIN_SIZE) return { kind: 'invalid', reason: `total size ${size} too small` };
  if (end - pos < size) return { kind: 'truncated', size };
  const sysFlag = int32(buf, pos + POS_SYS_FLAG);
  const bornLen = sysFlag & MessageSysFlag.BORNHOST_V6 ? 20 : 8;
  const storeLen = sysFlag & MessageSysFlag.STOREHOST_V6 ? 20 : 8;
  const bodyLenPos = POS_BORN_HOST + bornLen + 8 + storeLen + 4 + 8;
  const bodyLen = int32(buf, pos + bodyLenPos);
  if (bodyLen < 0 || bodyLenPos + 4 + bodyLen + 3 > size)
    return { kind: 'invalid', reason: 'bad body length' };
  const topicLenPos = bodyLenPos + 4 + bodyLen;
  const topicLen = buf[pos + topicLenPos];
  if (topicLen > 127 || topicLenPos + 1 + topicLen + 2 > size)
    return { kind: 'invalid', reason: 'bad topic length' };
  const propsLenPos = topicLenPos + 1 + topicLen;
  const propsLen = (buf[pos + propsLenPos] << 8) | buf[pos + propsLenPos + 1];
  if (propsLen > 32767 || propsLenPos + 2 + propsLen !== size) {
    return { kind: 'invalid', reason: 'field lengths do not add up to the total size' };
  }
  if (
    expectedPhysicalOffset !== undefined &&
    int32(buf, pos + POS_PHYSICAL_OFFSET) * 4294967296 + (int32(buf, pos + POS_PHYSICAL_OFFSET + 4) >>> 0) !==
      expectedPhysicalOffset
  ) {
    return { kind: 'invalid', reason: 'stored physical offset does not match its position' };
  }
  if (!verifyCrc) return { kind: 'message', size };
  const bodyStart = pos + bodyLenPos + 4;
  // A plain Uint8Array view is cheaper to make than a Buffer subarray.
  const body = new Uint8Array(buf.buffer, buf.byteOffset + bodyStart, bodyLen);
  if ((crc32(body) & 0x7fffffff) !== int32(buf, pos + POS_BODY_CRC)) {
    return { kind: 'invalid', reason: 'body CRC mismatch' };
  }
  return { kind: 'message', size };
}

function int32(buf: Buffer, p: number): number {
  return (buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3];
}

/** Where the body of a structurally valid record at `pos` starts (its int32 length just before it). */
export function bodyStartAt(buf: Buffer, pos: number): number {
  const sysFlag = int32(buf, pos + POS_SYS_FLAG);
  return (
    pos +
    POS_BORN_HOST +
    (sysFlag & MessageSysFlag.BORNHOST_V6 ? 20 : 8) +
    8 +
    (sysFlag & MessageSysFlag.STOREHOST_V6 ? 20 : 8) +
    16
  );
}

/**
 * Decodes the record at `pos`. Verifies magic code, lengths and (unless `verifyCrc` is false) the
 * body CRC; throws RecordFormatError otherwise. `body` is a view into `buf`, not a copy.
 */
export function decodeRecord(buf: Buffer, pos = 0, options: { verifyCrc?: boolean } = {}): StoredRecord {
  if (buf.length - pos < 8) throw new RecordFormatError(`need at least 8 bytes at ${pos}`);
  const magic = buf.readInt32BE(pos + POS_MAGIC);
  if (magic !== MESSAGE_MAGIC_CODE) {
    throw new RecordFormatError(`bad magic code 0x${(magic >>> 0).toString(16)} at ${pos}`);
  }
  const check = checkRecordAt(buf, pos, buf.length);
  if (check.kind === 'truncated') {
    throw new RecordFormatError(`record at ${pos} needs ${check.size} bytes; ${buf.length - pos} available`);
  }
  if (check.kind === 'invalid' && !(check.reason === 'body CRC mismatch' && options.verifyCrc === false)) {
    throw new RecordFormatError(`record at ${pos}: ${check.reason}`);
  }
  const totalSize = buf.readInt32BE(pos);
  const sysFlag = buf.readInt32BE(pos + POS_SYS_FLAG);
  const bornV6 = (sysFlag & MessageSysFlag.BORNHOST_V6) !== 0;
  const storeV6 = (sysFlag & MessageSysFlag.STOREHOST_V6) !== 0;
  let p = pos + POS_BORN_HOST;
  const bornHost = readHost(buf, p, bornV6);
  p += bornV6 ? 20 : 8;
  const storeTimestamp = readLong(buf, p);
  p += 8;
  const storeHost = readHost(buf, p, storeV6);
  p += storeV6 ? 20 : 8;
  const reconsumeTimes = buf.readInt32BE(p);
  p += 4;
  const preparedTransactionOffset = buf.readBigInt64BE(p);
  p += 8;
  const bodyLen = buf.readInt32BE(p);
  p += 4;
  const body = buf.subarray(p, p + bodyLen);
  p += bodyLen;
  const topicLen = buf.readInt8(p);
  p += 1;
  const topic = buf.toString('utf8', p, p + topicLen);
  p += topicLen;
  const propsLen = buf.readInt16BE(p);
  p += 2;
  const propertiesString = buf.toString('utf8', p, p + propsLen);
  return {
    totalSize,
    magicCode: magic,
    bodyCRC: buf.readInt32BE(pos + POS_BODY_CRC),
    queueId: buf.readInt32BE(pos + POS_QUEUE_ID),
    flag: buf.readInt32BE(pos + POS_FLAG),
    queueOffset: buf.readBigInt64BE(pos + POS_QUEUE_OFFSET),
    physicalOffset: buf.readBigInt64BE(pos + POS_PHYSICAL_OFFSET),
    sysFlag,
    bornTimestamp: readLong(buf, pos + POS_BORN_TIMESTAMP),
    bornHost,
    storeTimestamp,
    storeHost,
    reconsumeTimes,
    preparedTransactionOffset,
    body,
    topic,
    properties: decodeProperties(propertiesString),
    propertiesString,
  };
}

/** Decodes records concatenated without separators (a pull, query or view body). */
export function decodeRecords(buf: Buffer, options: { verifyCrc?: boolean } = {}): StoredRecord[] {
  const out: StoredRecord[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const record = decodeRecord(buf, pos, options);
    out.push(record);
    pos += record.totalSize;
  }
  return out;
}

/** The store timestamp of the record at `pos` (needs the header up to storeTimestamp). */
export function readStoreTimestamp(buf: Buffer, pos = 0): number {
  return readLong(buf, pos + storeTimestampPos(buf.readInt32BE(pos + POS_SYS_FLAG)));
}

/** One message of a SEND_BATCH_MESSAGE body (protocol.md §3.2.4). */
export interface BatchItem {
  flag: number;
  body: Buffer;
  /** The item's own properties string. */
  properties: string;
}

/** Decodes a SEND_BATCH_MESSAGE body; throws RecordFormatError when an item does not fit. */
export function decodeBatchBody(body: Buffer): BatchItem[] {
  const items: BatchItem[] = [];
  let pos = 0;
  while (pos < body.length) {
    if (body.length - pos < 22) throw new RecordFormatError(`batch item at ${pos} is shorter than 22 bytes`);
    const totalSize = body.readInt32BE(pos);
    const flag = body.readInt32BE(pos + 12);
    const bodyLen = body.readInt32BE(pos + 16);
    if (bodyLen < 0 || pos + 20 + bodyLen + 2 > body.length) {
      throw new RecordFormatError(`batch item at ${pos}: body length ${bodyLen} does not fit`);
    }
    const itemBody = body.subarray(pos + 20, pos + 20 + bodyLen);
    const propsLenPos = pos + 20 + bodyLen;
    const propsLen = body.readInt16BE(propsLenPos);
    if (propsLen < 0 || propsLenPos + 2 + propsLen > body.length) {
      throw new RecordFormatError(`batch item at ${pos}: properties length ${propsLen} does not fit`);
    }
    const itemEnd = propsLenPos + 2 + propsLen;
    if (totalSize !== itemEnd - pos) {
      throw new RecordFormatError(`batch item at ${pos}: total size ${totalSize} does not match its fields`);
    }
    items.push({ flag, body: itemBody, properties: body.toString('utf8', propsLenPos + 2, itemEnd) });
    pos = itemEnd;
  }
  return items;
}

/** Encodes a SEND_BATCH_MESSAGE body (magic code and CRC written as 0, as the Java client does). */
export function encodeBatchBody(items: readonly BatchItem[]): Buffer {
  const parts: Buffer[] = [];
  for (const item of items) {
    const propsLen = Buffer.byteLength(item.properties, 'utf8');
    const size = 20 + item.body.length + 2 + propsLen;
    const buf = Buffer.alloc(size);
    buf.writeInt32BE(size, 0);
    buf.writeInt32BE(item.flag | 0, 12);
    buf.writeInt32BE(item.body.length, 16);
    item.body.copy(buf, 20);
    buf.writeInt16BE(propsLen, 20 + item.body.length);
    buf.write(item.properties, 22 + item.body.length, 'utf8');
    parts.push(buf);
  }
  return Buffer.concat(parts);
}
