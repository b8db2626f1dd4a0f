// Born/store host addresses as RocketMQ stores them: 4 IPv4 bytes or 16 IPv6 bytes, then the port
// as an int (protocol.md §4.1). IPv4-mapped IPv6 text ("::ffff:a.b.c.d") is stored as IPv4 because
// ali-ons assumes 4-byte hosts.

import { isIPv6 } from 'node:net';

/** An IPv4 or IPv6 address and port as carried in a record's born/store host fields. */
export interface HostAddress {
  /** Dotted IPv4 ("10.0.0.1") or IPv6 text; "::ffff:a.b.c.d" is normalised to IPv4. */
  address: string;
  port: number;
}

/** Thrown for an address that is neither IPv4 nor IPv6 text. */
export class HostAddressError extends Error {
  override readonly name = 'HostAddressError';
}

const MAPPED_PREFIX = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** Canonical form: mapped IPv4 unwrapped, IPv6 zone id dropped. */
export function normalizeAddress(address: string): string {
  if (parseIPv4(address)) return address;
  const noZone = address.includes('%') ? address.slice(0, address.indexOf('%')) : address;
  const mapped = MAPPED_PREFIX.exec(noZone);
  return mapped ? mapped[1] : noZone;
}

/** Parses dotted IPv4 text (no leading zeros), writing the bytes when `out` is given. */
function parseIPv4(text: string, out?: Buffer, pos = 0): boolean {
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return false;
      part = part * 10 + c - 48;
      if (++digits > 3 || part > 255) return false;
    } else if (c === 46) {
      if (digits === 0 || parts === 4) return false;
      if (out) out[pos + parts] = part;
      parts++;
      part = 0;
      digits = 0;
    } else return false;
  }
  return parts === 4;
}

function isV4(text: string): boolean {
  return parseIPv4(text);
}

function ipv6Bytes(text: string, out: Buffer, pos: number): void {
  let head = text;
  const v4Groups: number[] = [];
  // An embedded dotted IPv4 tail ("64:ff9b::1.2.3.4") fills the last two groups.
  const lastColon = head.lastIndexOf(':');
  const last = head.slice(lastColon + 1);
  if (last.includes('.')) {
    const b = last.split('.').map(Number);
    v4Groups.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
    head = head.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  let groups: number[];
  const gap = head.indexOf('::');
  if (gap >= 0) {
    const before = parse(head.slice(0, gap));
    const after = parse(head.slice(gap + 2));
    const zeros = new Array<number>(8 - v4Groups.length - before.length - after.length).fill(0);
    groups = [...before, ...zeros, ...after];
  } else {
    groups = parse(head);
  }
  groups.push(...v4Groups);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i] ?? 0, pos + i * 2);
}

/** Byte length of the encoded address (IP bytes + 4-byte port): 8 for IPv4, 20 for IPv6. */
export function hostEncodedLength(host: HostAddress): number {
  return isV4(normalizeAddress(host.address)) ? 8 : 20;
}

/** True when the address is stored as 16 bytes. */
export function isIPv6Host(host: HostAddress): boolean {
  return hostEncodedLength(host) === 20;
}

/** Checks that a host can be encoded; returns a reason when it cannot. */
export function checkHost(host: HostAddress): string | undefined {
  if (host === null || typeof host !== 'object') return 'host must be {address, port}';
  const addr = normalizeAddress(String(host.address));
  if (!isV4(addr) && !isIPv6(addr)) return `'${host.address}' is not an IPv4 or IPv6 address`;
  if (!Number.isInteger(host.port) || host.port < 0 || host.port > 0x7fffffff) {
    return `port ${host.port} is not an integer from 0 to 2147483647`;
  }
  return undefined;
}

/** Writes IP bytes then the port as int32; returns the number of bytes written (8 or 20). */
export function writeHost(host: HostAddress, out: Buffer, pos: number): number {
  const addr = normalizeAddress(host.address);
  if (parseIPv4(addr, out, pos)) {
    out.writeInt32BE(host.port, pos + 4);
    return 8;
  }
  if (isIPv6(addr)) {
    ipv6Bytes(addr, out, pos);
    out.writeInt32BE(host.port, pos + 16);
    return 20;
  }
  throw new HostAddressError(`'${host.address}' is not an IPv4 or IPv6 address`);
}

/** The host's IP bytes followed by its port, as used inside offset message ids. */
export function hostBytes(host: HostAddress): Buffer {
  const out = Buffer.alloc(hostEncodedLength(host));
  writeHost(host, out, 0);
  return out;
}

function formatIPv6(buf: Buffer, pos: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(pos + i * 2));
  // RFC 5952: compress the longest run (length ≥ 2) of zero groups, leftmost on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Reads a host of `length` bytes (8 or 20) at `pos`. */
export function readHost(buf: Buffer, pos: number, ipv6: boolean): HostAddress {
  if (!ipv6) {
    return {
      address: `${buf[pos]}.${buf[pos + 1]}.${buf[pos + 2]}.${buf[pos + 3]}`,
      port: buf.readInt32BE(pos + 4),
    };
  }
  return { address: formatIPv6(buf, pos), port: buf.readInt32BE(pos + 16) };
}

/** "ip:port", with brackets around IPv6 ("[::1]:10911"). */
export function formatHost(host: HostAddress): string {
  const addr = normalizeAddress(host.address);
  return isIPv6(addr) ? `[${addr}]:${host.port}` : `${addr}:${host.port}`;
}

/** Parses "ip:port" or "[ipv6]:port". */
export function parseHost(text: string): HostAddress {
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  const plain = /^([^:]+):(\d+)$/.exec(text);
  const m = bracket ?? plain;
  if (!m) throw new HostAddressError(`'${text}' is not ip:port or [ipv6]:port`);
  const host = { address: normalizeAddress(m[1]), port: Number(m[2]) };
  const problem = checkHost(host);
  if (problem) throw new HostAddressError(problem);
  return host;
}
