// Options shared by producers, consumers and the admin client, with RocketMQ 4.9 defaults
// (protocol.md §8.1).

import { createLogger } from '../common/index.js';
import type { RemotingLogger } from '../remoting/index.js';

export interface ClientOptions {
  /** "host:port", several separated by ";" or ",", or an array. Default 127.0.0.1:9876. */
  namesrvAddr?: string | string[];
  /** Address reported in the client id; default: first non-internal IPv4 of this host. */
  clientIP?: string;
  /** Part of the client id; default `<pid>#<hrtime>` so every client object has its own id. */
  instanceName?: string;
  /** Header serialization for every request: JSON (default) or the binary ROCKETMQ form. */
  serializeType?: 'JSON' | 'ROCKETMQ';
  /** Route refresh period (pollNameServerInterval), ms. Default 30 000. */
  pollNameServerIntervalMs?: number;
  /** Heartbeat period, ms. Default 30 000. */
  heartbeatBrokerIntervalMs?: number;
  /** Consumer offset persistence period, ms. Default 5 000. */
  persistConsumerOffsetIntervalMs?: number;
  /** Rebalance period, ms. Default 20 000 (also runs at once on NOTIFY_CONSUMER_IDS_CHANGED). */
  rebalanceIntervalMs?: number;
  /** Timeout for name server and small broker calls (mqClientApiTimeout), ms. Default 3 000. */
  requestTimeoutMs?: number;
  logger?: RemotingLogger;
}

export interface ResolvedClientOptions {
  namesrvAddrs: string[];
  clientIP: string;
  instanceName: string;
  serializeType: 'JSON' | 'ROCKETMQ';
  pollNameServerIntervalMs: number;
  heartbeatBrokerIntervalMs: number;
  persistConsumerOffsetIntervalMs: number;
  rebalanceIntervalMs: number;
  requestTimeoutMs: number;
  logger: RemotingLogger;
}

export const DEFAULT_NAMESRV_ADDR = '127.0.0.1:9876';

export function splitNamesrvAddr(value: string | string[] | undefined): string[] {
  const parts = Array.isArray(value) ? value : (value ?? DEFAULT_NAMESRV_ADDR).split(/[;,]/);
  const addrs = parts.map((p) => p.trim()).filter((p) => p.length > 0);
  for (const addr of addrs) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(addr)) {
      throw new Error(`bad name server address "${addr}", expected host:port`);
    }
  }
  if (addrs.length === 0) throw new Error('no name server address given');
  return addrs;
}

/** Warnings and errors to stderr; clients are quiet by default. */
export function defaultClientLogger(): RemotingLogger {
  return createLogger('rocketmq-client', { level: 'warn' });
}
