// BrokerAdmin over the project's TypeScript RocketMQ admin client (the operator's only edge into
// broker-image: client, protocol, remoting). One AdminClient serves every cluster: all calls here
// address a broker or name server directly.
import { AdminClient, MQBrokerError, parseMessageQueueKey } from '../../../broker-image/src/client/index.js';
import {
  BrokerRequestCode,
  createRequest,
  NamesrvRequestCode,
  parseBodyJson,
  ResponseCode,
} from '../../../broker-image/src/protocol/index.js';
import {
  RemotingClient,
  RemotingError,
  type RemotingLogger,
} from '../../../broker-image/src/remoting/index.js';
import type {
  BrokerEndpoint,
  BrokerGroupConfig,
  BrokerTopicConfig,
  QueueConsumeProgress,
  QueueCounts,
} from '../desired/index.js';
import { type BrokerAdmin, BrokerCallError, type ClusterTarget } from './ports.js';

export interface RocketMqAdminOptions {
  /** Per call, connecting included. Default 3000 ms. */
  requestTimeoutMs?: number;
  logger?: RemotingLogger;
}

/** MQBrokerError = the server answered; RemotingError = no answer (refused, timeout, DNS, closed). */
function wrap(what: string, err: unknown): BrokerCallError {
  if (err instanceof BrokerCallError) return err;
  if (err instanceof MQBrokerError) {
    return new BrokerCallError(
      `${what} refused: code ${err.code}${err.remark ? ` (${err.remark})` : ''}`,
      false,
    );
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new BrokerCallError(`${what}: ${reason}`, err instanceof RemotingError || isSocketError(err));
}

function isSocketError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  return [
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EHOSTUNREACH',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EPIPE',
  ].includes(code);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return 0;
}

/** The rows of a ConsumeStats body (`{"offsetTable":{{mq}:{brokerOffset,consumerOffset,…}}}`) for `topic`. */
function consumeRows(group: string, topic: string, body: unknown): QueueConsumeProgress[] {
  const table = isRecord(body) && isRecord(body.offsetTable) ? body.offsetTable : {};
  const rows: QueueConsumeProgress[] = [];
  for (const [key, raw] of Object.entries(table)) {
    if (!isRecord(raw)) continue;
    const mq = parseMessageQueueKey(key);
    if (mq.topic !== topic) continue;
    rows.push({
      group,
      queueId: mq.queueId,
      brokerOffset: toNumber(raw.brokerOffset),
      consumerOffset: toNumber(raw.consumerOffset),
    });
  }
  return rows.sort((a, b) => a.queueId - b.queueId);
}

export class RocketMqAdmin implements BrokerAdmin {
  private readonly admin: AdminClient;
  /** DELETE_TOPIC_IN_BROKER/NAMESRV to one address; AdminClient only deletes cluster-wide so far. */
  private readonly remoting: RemotingClient;
  private readonly timeoutMs: number;

  constructor(options: RocketMqAdminOptions = {}) {
    this.timeoutMs = options.requestTimeoutMs ?? 3000;
    this.admin = new AdminClient({ requestTimeoutMs: this.timeoutMs, logger: options.logger });
    this.remoting = new RemotingClient({
      connectTimeoutMs: this.timeoutMs,
      logger: options.logger,
      name: 'operator-admin',
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.admin.close(), this.remoting.close()]);
  }

  private async call<R>(what: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      throw wrap(what, err);
    }
  }

  /** One request to `address`; non-success codes become MQBrokerError. Returns the parsed JSON body. */
  private async invoke(address: string, code: number, extFields: Record<string, string>): Promise<unknown> {
    const response = await this.remoting.invoke(address, createRequest(code, { extFields }), this.timeoutMs);
    if (response.code !== ResponseCode.SUCCESS)
      throw new MQBrokerError(response.code, response.remark, address);
    if (!response.body || response.body.length === 0) return undefined;
    return parseBodyJson(response.body, { largeIntegers: 'number' });
  }

  createOrUpdateTopic(broker: BrokerEndpoint, config: BrokerTopicConfig): Promise<void> {
    return this.call(`create topic ${config.topicName}`, () =>
      this.admin.createOrUpdateTopic(broker.address, config),
    );
  }

  async deleteTopic(broker: BrokerEndpoint, topic: string): Promise<void> {
    await this.call(`delete topic ${topic}`, () =>
      this.invoke(broker.address, BrokerRequestCode.DELETE_TOPIC_IN_BROKER, { topic }),
    );
  }

  async topicQueues(broker: BrokerEndpoint, topic: string): Promise<QueueCounts | undefined> {
    // GET_ALL_TOPIC_CONFIG: RocketMQ 4.x has no single-topic query. Only asked during queue shrinks.
    const configs = await this.call(`read topic configs`, () => this.admin.listTopicConfigs(broker.address));
    const config = configs[topic];
    return config ? { readQueues: config.readQueueNums, writeQueues: config.writeQueueNums } : undefined;
  }

  async topicConsumeProgress(broker: BrokerEndpoint, topic: string): Promise<QueueConsumeProgress[]> {
    const who = await this.call(`groups consuming ${topic}`, () =>
      this.invoke(broker.address, BrokerRequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic }),
    );
    const list = isRecord(who) && Array.isArray(who.groupList) ? who.groupList : [];
    const groups = [...new Set(list.filter((g): g is string => typeof g === 'string'))].sort();
    const perGroup = await Promise.all(
      groups.map(async (group) => {
        const stats = await this.call(`consume stats of ${group} on ${topic}`, () =>
          this.invoke(broker.address, BrokerRequestCode.GET_CONSUME_STATS, { consumerGroup: group, topic }),
        );
        return consumeRows(group, topic, stats);
      }),
    );
    return perGroup.flat();
  }

  async deleteTopicRoute(cluster: ClusterTarget, topic: string): Promise<void> {
    for (const ns of cluster.nameServers) {
      await this.call(`delete route of ${topic}`, () =>
        this.invoke(ns, NamesrvRequestCode.DELETE_TOPIC_IN_NAMESRV, {
          topic,
          clusterName: cluster.clusterName,
        }),
      );
    }
  }

  createOrUpdateGroup(broker: BrokerEndpoint, config: BrokerGroupConfig): Promise<void> {
    return this.call(`create subscription group ${config.groupName}`, () =>
      this.admin.createOrUpdateSubscriptionGroup(broker.address, config),
    );
  }

  deleteGroup(broker: BrokerEndpoint, groupName: string): Promise<void> {
    return this.call(`delete subscription group ${groupName}`, () =>
      this.admin.deleteSubscriptionGroup(broker.address, groupName, true),
    );
  }
}
