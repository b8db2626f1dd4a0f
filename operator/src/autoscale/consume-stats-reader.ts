// LagReader over the RocketMQ admin protocol: GET_CONSUME_STATS (208) with the group and one topic,
// on every master directly (the operator knows the masters; no name-server route lookup).

import { MQBrokerError, parseMessageQueueKey } from '../../../broker-image/src/client/index.js';
import {
  BrokerRequestCode,
  createRequest,
  parseBodyJson,
  ResponseCode,
} from '../../../broker-image/src/protocol/index.js';
import { RemotingClient, type RemotingLogger } from '../../../broker-image/src/remoting/index.js';
import type { BrokerEndpoint } from '../desired/index.js';
import type { LagReader } from './autoscaler.js';
import type { QueueProgress } from './lag.js';

export interface ConsumeStatsReaderOptions {
  /** Per call, connecting included. Default 3000 ms. */
  requestTimeoutMs?: number;
  logger?: RemotingLogger;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return 0;
}

/** The rows of a ConsumeStats body (`{"consumeTps":…,"offsetTable":{{mq}:{brokerOffset,consumerOffset,…}}}`). */
export function parseConsumeStats(body: Buffer | undefined): QueueProgress[] {
  if (!body || body.length === 0) return [];
  const parsed = parseBodyJson(body, { largeIntegers: 'number' });
  const table = isRecord(parsed) && isRecord(parsed.offsetTable) ? parsed.offsetTable : {};
  const rows: QueueProgress[] = [];
  for (const [key, raw] of Object.entries(table)) {
    if (!isRecord(raw)) continue;
    const mq = parseMessageQueueKey(key);
    rows.push({
      topic: mq.topic,
      brokerName: mq.brokerName,
      queueId: mq.queueId,
      brokerOffset: toNumber(raw.brokerOffset),
      consumerOffset: toNumber(raw.consumerOffset),
    });
  }
  return rows;
}

export class ConsumeStatsReader implements LagReader {
  private readonly remoting: RemotingClient;
  private readonly timeoutMs: number;

  constructor(options: ConsumeStatsReaderOptions = {}) {
    this.timeoutMs = options.requestTimeoutMs ?? 3000;
    this.remoting = new RemotingClient({
      connectTimeoutMs: this.timeoutMs,
      logger: options.logger,
      name: 'operator-lag',
    });
  }

  /** One call per (master, topic), all at once; any failure fails the whole reading (no partial lag). */
  async read(
    masters: readonly BrokerEndpoint[],
    group: string,
    topics: readonly string[],
  ): Promise<QueueProgress[]> {
    const calls = masters.flatMap((m) => topics.map((topic) => this.one(m, group, topic)));
    return (await Promise.all(calls)).flat();
  }

  private async one(master: BrokerEndpoint, group: string, topic: string): Promise<QueueProgress[]> {
    const request = createRequest(BrokerRequestCode.GET_CONSUME_STATS, {
      extFields: { consumerGroup: group, topic },
    });
    let response: Awaited<ReturnType<RemotingClient['invoke']>>;
    try {
      response = await this.remoting.invoke(master.address, request, this.timeoutMs);
    } catch (err) {
      throw new Error(`${master.brokerName} (${master.address}): ${(err as Error).message}`);
    }
    if (response.code !== ResponseCode.SUCCESS)
      throw new MQBrokerError(response.code, response.remark, master.address);
    // Queues are counted per master asked, whatever name the broker puts in its keys.
    return parseConsumeStats(response.body).map((r) => ({ ...r, brokerName: master.brokerName }));
  }

  async close(): Promise<void> {
    await this.remoting.close();
  }
}
