// Decodes stored records (protocol.md §4.1) as they arrive in pull, query and view bodies, and does
// what the Java client does next: decompress per sysFlag and pick the msgId (§4.5, §5).

import { inflateSync } from 'node:zlib';
import { formatHost, parseOffsetMessageId, readHost } from '../message/index.js';
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

/** The signed 64-bit big-endian integer at `pos` as a number; throws beyond ±2^53. */
function readSafeLong(buf: Buffer, pos: number, field: string, position: number): number {
  const hi = buf.readInt32BE(pos);
  const lo = buf.readUInt32BE(pos + 4);
  // |value| < 2^53 ⇔ the high word lies in [-2^21, 2^21) (the top 11 bits are sign copies).
  if (hi >= 0x200000 || hi < -0x200000) {
    throw new MessageDecodeError(`record ${field} ${buf.readBigInt64BE(pos)} is beyond 2^53`, position);
  }
  return hi * 4294967296 + lo;
}

/** "ip:port" of the host stored at `pos` (IPv6 in brackets), as formatHost(readHost(…)) gives. */
function hostText(buf: Buffer, pos: number, ipv6: boolean): string {
  if (!ipv6) return `${buf[pos]}.${buf[pos + 1]}.${buf[pos + 2]}.${buf[pos + 3]}:${buf.readInt32BE(pos + 4)}`;
  return formatHost(readHost(buf, pos, true));
}

/** Decoded form of an offset message id (protocol.md §5.1): "ip:port" and the physical offset. */
export function decodeOffsetMsgId(msgId: string): { address: string; physicalOffset: bigint } {
  const { storeHost, physicalOffset } = parseOffsetMessageId(msgId);
  return { address: formatHost(storeHost), physicalOffset };
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
    const queueOffset = readSafeLong(rec, at + 12, 'queueOffset', start);
    const physicalOffsetPos = at + 20;
    const physicalOffset = readSafeLong(rec, physicalOffsetPos, 'physicalOffset', start);
    const sysFlag = rec.readInt32BE(at + 28);
    const bornTimestamp = readSafeLong(rec, at + 32, 'bornTimestamp', start);
    at += 40;
    const bornV6 = (sysFlag & MessageSysFlag.BORN_HOST_V6) !== 0;
    const bornHost = hostText(rec, at, bornV6);
    at += bornV6 ? 20 : 8;
    const storeTimestamp = readSafeLong(rec, at, 'storeTimestamp', start);
    const storeV6 = (sysFlag & MessageSysFlag.STORE_HOST_V6) !== 0;
    const storeHostPos = at + 8;
    const storeHostLength = storeV6 ? 20 : 8;
    const storeHost = hostText(rec, storeHostPos, storeV6);
    at += 8 + storeHostLength;
    const reconsumeTimes = rec.readInt32BE(at);
    const preparedTransactionOffset = readSafeLong(rec, at + 4, 'preparedTransactionOffset', start);
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
    // The offset message id is the stored host bytes then the physical offset, in hex (§5.1):
    // both lie in the record as they are.
    const offsetMsgId = (
      rec.toString('hex', storeHostPos, storeHostPos + storeHostLength) +
      rec.toString('hex', physicalOffsetPos, physicalOffsetPos + 8)
    ).toUpperCase();
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
      commitLogOffset: physicalOffset,
      sysFlag,
      bodyCRC,
      bornTimestamp,
      bornHost,
      storeTimestamp,
      storeHost,
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
