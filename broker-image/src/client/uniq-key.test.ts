import { describe, expect, it } from 'vitest';
import { ipToBytes, UniqKeyGenerator, uniqKeyTimestamp } from './uniq-key.js';

describe('UniqKeyGenerator', () => {
  const fixedNow = new Date(2024, 4, 3, 10, 20, 30, 400).getTime();

  it('lays out ip, pid, instance hash, ms since month start and counter like the Java client', () => {
    const gen = new UniqKeyGenerator({
      ip: '10.0.0.9',
      pid: 0x1d431,
      instanceHash: 0x12345678,
      now: () => fixedNow,
    });
    const id = gen.next();
    expect(id).toHaveLength(32);
    expect(id).toMatch(/^[0-9A-F]+$/);
    const bytes = Buffer.from(id, 'hex');
    expect([...bytes.subarray(0, 4)]).toEqual([10, 0, 0, 9]);
    expect(bytes.readUInt16BE(4)).toBe(0xd431);
    expect(bytes.readUInt32BE(6)).toBe(0x12345678);
    const monthStart = new Date(2024, 4, 1).getTime();
    expect(bytes.readUInt32BE(10)).toBe(fixedNow - monthStart);
    expect(bytes.readUInt16BE(14)).toBe(0);
    expect(Buffer.from(gen.next(), 'hex').readUInt16BE(14)).toBe(1);
  });

  it('produces distinct ids and wraps the counter at 65536', () => {
    const gen = new UniqKeyGenerator({ ip: '127.0.0.1', pid: 1, instanceHash: 7, now: () => fixedNow });
    const seen = new Set<string>();
    for (let i = 0; i < 65536; i++) seen.add(gen.next());
    expect(seen.size).toBe(65536);
    expect(Buffer.from(gen.next(), 'hex').readUInt16BE(14)).toBe(0);
  });

  it('restarts the time base when the month changes', () => {
    let now = new Date(2024, 0, 31, 23, 59, 59, 999).getTime();
    const gen = new UniqKeyGenerator({ ip: '127.0.0.1', pid: 1, instanceHash: 7, now: () => now });
    gen.next();
    now = new Date(2024, 1, 1, 0, 0, 1, 0).getTime();
    expect(Buffer.from(gen.next(), 'hex').readUInt32BE(10)).toBe(1000);
  });

  it('uses 16 address bytes for IPv6 clients (56 hex characters)', () => {
    const gen = new UniqKeyGenerator({ ip: 'fe80::1', pid: 1, instanceHash: 7, now: () => fixedNow });
    const id = gen.next();
    expect(id).toHaveLength(56);
    expect(id.slice(0, 32)).toBe('FE800000000000000000000000000001');
  });

  it('decodes its creation time back', () => {
    const gen = new UniqKeyGenerator({ ip: '10.1.2.3', pid: 99, now: () => fixedNow });
    expect(uniqKeyTimestamp(gen.next(), fixedNow + 5000)).toBe(fixedNow);
    expect(() => uniqKeyTimestamp('XYZ')).toThrow(/UNIQ_KEY/);
  });
});

describe('ipToBytes', () => {
  it('maps IPv4-mapped IPv6 to 4 bytes and expands IPv6', () => {
    expect([...ipToBytes('::ffff:192.168.1.2')]).toEqual([192, 168, 1, 2]);
    expect(ipToBytes('2001:db8::ff00:42:8329').toString('hex')).toBe('20010db8000000000000ff0000428329');
    expect(() => ipToBytes('nope')).toThrow(/not an IP/);
  });
});
