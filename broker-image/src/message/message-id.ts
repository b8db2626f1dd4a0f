// Offset message ids: upper-case hex of storeHost IP ‖ port ‖ physical offset (protocol.md §5.1).

import { type HostAddress, hostEncodedLength, readHost, writeHost } from './host-address.js';

export class MessageIdError extends Error {
  override readonly name = 'MessageIdError';
}

/** The offset message id of a record stored at `physicalOffset` by `storeHost`. */
export function createOffsetMessageId(storeHost: HostAddress, physicalOffset: bigint | number): string {
  const hostLen = hostEncodedLength(storeHost);
  const buf = Buffer.allocUnsafe(hostLen + 8);
  writeHost(storeHost, buf, 0);
  buf.writeBigInt64BE(BigInt(physicalOffset), hostLen);
  return buf.toString('hex').toUpperCase();
}

/** Host and physical offset encoded in an offset message id (32 hex chars = IPv4, 56 = IPv6). */
export function parseOffsetMessageId(id: string): { storeHost: HostAddress; physicalOffset: bigint } {
  if ((id.length !== 32 && id.length !== 56) || !/^[0-9a-fA-F]+$/.test(id)) {
    throw new MessageIdError(`'${id}' is not an offset message id (32 or 56 hex characters)`);
  }
  const buf = Buffer.from(id, 'hex');
  const ipv6 = id.length === 56;
  const hostLen = ipv6 ? 20 : 8;
  return { storeHost: readHost(buf, 0, ipv6), physicalOffset: buf.readBigInt64BE(hostLen) };
}
