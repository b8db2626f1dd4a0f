// Client message ids (UNIQ_KEY), laid out like the Java producer's MessageClientIDSetter so tools
// that read a time out of an id (mqadmin, dashboard) work on ours too (protocol.md §5.2):
// ip (4|16) ‖ pid low 16 bits (2) ‖ per-process random (4) ‖ ms since month start (4) ‖ counter (2).

import { randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

export interface UniqKeyOptions {
  /** Client IP address (IPv4 or IPv6 text). */
  ip: string;
  pid: number;
  /** Stands in for the Java class loader's hash code; random per generator by default. */
  instanceHash?: number;
  now?: () => number;
}

/** Start of the calendar month containing `ms`, in local time, like java.util.Calendar. */
function monthStart(ms: number): { start: number; next: number } {
  const d = new Date(ms);
  const start = new Date(d.getFullYear(), d.getMonth(), 1, 0, 0, 0, 0).getTime();
  const next = new Date(d.getFullYear(), d.getMonth() + 1, 1, 0, 0, 0, 0).getTime();
  return { start, next };
}

export function ipToBytes(ip: string): Buffer {
  const plain = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(plain)) return Buffer.from(plain.split('.').map((p) => Number(p)));
  if (isIPv6(plain)) {
    const [head, tail] = plain.split('::');
    const headGroups = head ? head.split(':') : [];
    const tailGroups = tail ? tail.split(':') : [];
    const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
    const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups];
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => {
      out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
    });
    return out;
  }
  throw new Error(`not an IP address: ${ip}`);
}

/** Generates UNIQ_KEYs. One instance per client process side; it owns the counter. */
export class UniqKeyGenerator {
  private readonly prefix: string;
  private readonly now: () => number;
  private counter = 0;
  private startTime = 0;
  private nextStartTime = 0;

  constructor(options: UniqKeyOptions) {
    const ip = ipToBytes(options.ip);
    const fixed = Buffer.alloc(ip.length + 6);
    ip.copy(fixed, 0);
    fixed.writeUInt16BE(options.pid & 0xffff, ip.length);
    fixed.writeInt32BE((options.instanceHash ?? randomBytes(4).readInt32BE(0)) | 0, ip.length + 2);
    this.prefix = fixed.toString('hex').toUpperCase();
    this.now = options.now ?? Date.now;
  }

  next(): string {
    const current = this.now();
    if (current >= this.nextStartTime || current < this.startTime) {
      const { start, next } = monthStart(current);
      this.startTime = start;
      this.nextStartTime = next;
    }
    const tail = Buffer.alloc(6);
    // A 31-day month overflows int32 ms; Java truncates to int the same way.
    tail.writeInt32BE((current - this.startTime) | 0, 0);
    tail.writeUInt16BE(this.counter, 4);
    this.counter = (this.counter + 1) & 0xffff;
    return this.prefix + tail.toString('hex').toUpperCase();
  }
}

/** Approximate creation time encoded in a UNIQ_KEY (what mqadmin derives to bound queries). */
export function uniqKeyTimestamp(uniqKey: string, now: number = Date.now()): number {
  if (!/^[0-9A-Fa-f]+$/.test(uniqKey) || (uniqKey.length !== 32 && uniqKey.length !== 56)) {
    throw new Error(`not a UNIQ_KEY: ${uniqKey}`);
  }
  const bytes = Buffer.from(uniqKey, 'hex');
  const diff = bytes.readUInt32BE(bytes.length - 6);
  const { start } = monthStart(now);
  const candidate = start + diff;
  // An id from last month decodes to a time in the future relative to this month's start.
  if (candidate > now) {
    const prev = new Date(start);
    return new Date(prev.getFullYear(), prev.getMonth() - 1, 1).getTime() + diff;
  }
  return candidate;
}
