// Option parsing shared by the client commands: strict flags, required values, bounded integers,
// and the connection options every command takes.

import { parseArgs } from 'node:util';
import { AdminClient, type ClientOptions, DEFAULT_NAMESRV_ADDR } from '../client/index.js';
import { UsageError } from './io.js';

const COMMON_OPTIONS = {
  'namesrv-addr': { type: 'string' },
  'serialize-type': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export function parse<T extends OptionSpec>(args: string[], options: T) {
  try {
    return parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function required(value: string | boolean | undefined, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new UsageError(`--${name} is required`);
  return value;
}

export function intOption(
  value: string | boolean | undefined,
  name: string,
  fallback: number,
  min = 0,
  max = 2 ** 31 - 1,
): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got "${value}"`);
  }
  return n;
}

export function clientOptions(values: Record<string, string | boolean | undefined>): ClientOptions {
  const addr = values['namesrv-addr'] ?? process.env.NAMESRV_ADDR ?? DEFAULT_NAMESRV_ADDR;
  const serialize = values['serialize-type'] ?? 'JSON';
  if (serialize !== 'JSON' && serialize !== 'ROCKETMQ') {
    throw new UsageError(`--serialize-type must be JSON or ROCKETMQ, got "${serialize}"`);
  }
  return { namesrvAddr: String(addr), serializeType: serialize, requestTimeoutMs: 5_000 };
}

export async function withAdmin(
  values: Record<string, string | boolean | undefined>,
  run: (admin: AdminClient) => Promise<number>,
) {
  const admin = new AdminClient(clientOptions(values));
  try {
    return await run(admin);
  } finally {
    await admin.close();
  }
}
