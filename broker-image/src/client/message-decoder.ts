// Decodes stored records (protocol.md §4.1) as they arrive in pull, query and view bodies, and does
// what the Java client does next: decompress per sysFlag and pick the msgId (§4.5, §5).

import { inflateSync } from 'node:zlib';
import type { MessageExt } from './message.js';
import { decodeProperties } from './properties-codec.js';

export const MESSAGE_MAGIC_CODE = 0xdaa320a7 | 0;

export const MessageSysFlag = {
  COMPRESSED: 0x1,
  MULTI_TAGS: 0x2,
  TRANSACTION_PREPARED: 0x4,
  TRANSACTION_COMMIT: 0x8,
  BORN_HOST_V6: 0x10,
  STORE_HOST_V6: 0x20,
  /** Bits 8–10: compression type; 0 or 3 = zlib, 1 = LZ4, 2 = ZSTD. */
  COMPRESSION_TYPE_SHIFT: 8,
  ZLIB_TYPE: 0x300,
} as const;

export class MessageDecodeError extends Error {
  override name = 'MessageDecodeError';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

function toSafeNumber(value: bigint, field: string, position: number): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new MessageDecodeError(`record ${field} ${value} is beyond 2^53`, position);
  }
  return Number(value);
}

function readHost(
  buf: Buffer,
  at: number,
  v6: boolean,
): { text: string; ip: Buffer; port: number; next: number } {
  const ipLen = v6 ? 16 : 4;
  const ip = buf.subarray(at, at + ipLen);
  const port = buf.readInt32BE(at + ipLen);
  let address: string;
  if (v6) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(ip.readUInt16BE(i).toString(16));
    address = `[${groups.join(':')}]`;
  } else {
    address = [...ip].join('.');
  }
  return { text: `${address}:${port}`, ip, port, next: at + ipLen + 4 };
}

/** Offset message id: store IP ‖ port ‖ physical offset, upper-case hex (protocol.md §5.1). */
export function createOffsetMsgId(storeIp: Buffer, storePort: number, physicalOffset: bigint): string {
  const out = Buffer.alloc(storeIp.length + 12);
  storeIp.copy(out, 0);
  out.writeInt32BE(storePort, storeIp.length);
  out.writeBigInt64BE(physicalOffset, storeIp.length + 4);
  return out.toString('hex').toUpperCase();
}

/** Decoded form of an offset message id. */
export function decodeOffsetMsgId(msgId: string): { address: string; physicalOffset: bigint } {
  if (!/^[0-9A-Fa-f]+$/.test(msgId) || (msgId.length !== 32 && msgId.length !== 56)) {
    throw new Error(`not an offset message id: ${msgId}`);
  }
  const bytes = Buffer.from(msgId, 'hex');
  const v6 = bytes.length === 28;
  const host = readHost(bytes, 0, v6);
  return { address: host.text, physicalOffset: bytes.readBigInt64BE(host.next) };
}

function decompress(body: Buffer, sysFlag: number, position: number): Buffer {
  if ((sysFlag & MessageSysFlag.COMPRESSED) === 0) return body;
  const type = (sysFlag >> MessageSysFlag.COMPRESSION_TYPE_SHIFT) & 0x7;
  if (type !== 0 && type !== 3) {
    throw new MessageDecodeError(
      `compression type ${type} (LZ4/ZSTD) is not supported by this client`,
      position,
    );
  }
  try {
    return inflateSync(body);
  } catch (err) {
    throw new MessageDecodeError(`compressed body does not inflate: ${(err as Error).message}`, position);
  }
}

/** Decodes one record starting at `position`; returns it and where the next one starts. */
export function decodeMessage(buf: Buffer, position = 0): { message: MessageExt; next: number } {
  const start = position;
  if (buf.length - start < 4) throw new MessageDecodeError('truncated record header', start);
  const totalSize = buf.readInt32BE(start);
  if (totalSize < 91 || start + totalSize > buf.length) {
    throw new MessageDecodeError(
      `record size ${totalSize} does not fit the ${buf.length - start} bytes left`,
      start,
    );
  }
  const rec = buf.subarray(start, start + totalSize);
  try {
    let at = 8;
    const bodyCRC = rec.readInt32BE(at);
    const queueId = rec.readInt32BE(at + 4);
    const flag = rec.readInt32BE(at + 8);
    const queueOffset = toSafeNumber(rec.readBigInt64BE(at + 12), 'queueOffset', start);
    const physicalOffset = rec.readBigInt64BE(at + 20);
    const sysFlag = rec.readInt32BE(at + 28);
    const bornTimestamp = toSafeNumber(rec.readBigInt64BE(at + 32), 'bornTimestamp', start);
    at += 40;
    const born = readHost(rec, at, (sysFlag & MessageSysFlag.BORN_HOST_V6) !== 0);
    at = born.next;
    const storeTimestamp = toSafeNumber(rec.readBigInt64BE(at), 'storeTimestamp', start);
    const store = readHost(rec, at + 8, (sysFlag & MessageSysFlag.STORE_HOST_V6) !== 0);
    at = store.next;
    const reconsumeTimes = rec.readInt32BE(at);
    const preparedTransactionOffset = toSafeNumber(
      rec.readBigInt64BE(at + 4),
      'preparedTransactionOffset',
      start,
    );
    const bodyLength = rec.readInt32BE(at + 12);
    at += 16;
    if (bodyLength < 0 || at + bodyLength > rec.length) throw new RangeError(`body length ${bodyLength}`);
    const rawBody = rec.subarray(at, at + bodyLength);
    at += bodyLength;
    const topicLength = rec.readUInt8(at);
    const topic = rec.toString('utf8', at + 1, at + 1 + topicLength);
    at += 1 + topicLength;
    const propertiesLength = rec.readUInt16BE(at);
    if (at + 2 + propertiesLength > rec.length) throw new RangeError(`properties length ${propertiesLength}`);
    const properties = decodeProperties(rec.toString('utf8', at + 2, at + 2 + propertiesLength));
    const offsetMsgId = createOffsetMsgId(store.ip, store.port, physicalOffset);
    const message: MessageExt = {
      topic,
      body: Buffer.from(decompress(rawBody, sysFlag, start)),
      tags: properties.TAGS,
      keys: properties.KEYS,
      flag,
      properties,
      msgId: properties.UNIQ_KEY ?? offsetMsgId,
      offsetMsgId,
      queueId,
      queueOffset,
      commitLogOffset: toSafeNumber(physicalOffset, 'physicalOffset', start),
      sysFlag,
      bodyCRC,
      bornTimestamp,
      bornHost: born.text,
      storeTimestamp,
      storeHost: store.text,
      reconsumeTimes,
      preparedTransactionOffset,
      brokerName: '',
    };
    return { message, next: start + totalSize };
  } catch (err) {
    if (err instanceof MessageDecodeError) throw err;
    throw new MessageDecodeError(`malformed record: ${(err as Error).message}`, start);
  }
}

/** Decodes every record of a body, in order. Throws MessageDecodeError on the first malformed one. */
export function decodeMessages(body: Buffer): MessageExt[] {
  const out: MessageExt[] = [];
  let position = 0;
  while (position < body.length) {
    const { message, next } = decodeMessage(body, position);
    out.push(message);
    position = next;
  }
  return out;
}
