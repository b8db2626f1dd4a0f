// Client registration (protocol.md §3.5): HEART_BEAT, UNREGISTER_CLIENT, CHECK_CLIENT_CONFIG,
// GET_CONSUMER_LIST_BY_GROUP, and NOTIFY_CONSUMER_IDS_CHANGED to a group when its members change.

import {
  BrokerRequestCode,
  createRequest,
  createResponse,
  decodeHeader,
  markOneway,
  parseBodyJson,
  type RemotingCommand,
  ResponseCode,
} from '../protocol/index.js';
import type { RequestContext } from '../remoting/index.js';
import type { ClientChannelInfo, GroupChange } from './client-manager.js';
import { Perm, retryTopicOf } from './constants.js';
import type { BrokerRuntime } from './runtime.js';
import { normaliseSubscription, type SubscriptionData, SubscriptionParseError } from './subscription.js';
import { groupNameProblem } from './topic-validation.js';

interface HeartbeatData {
  clientID?: string;
  producerDataSet?: { groupName?: string }[];
  consumerDataSet?: {
    groupName?: string;
    consumeType?: string;
    messageModel?: string;
    consumeFromWhere?: string;
    subscriptionDataSet?: Record<string, unknown>[];
    unitMode?: boolean;
  }[];
}

export class ClientManageService {
  private readonly rt: BrokerRuntime;
  private expiryTimer: NodeJS.Timeout | null = null;

  constructor(rt: BrokerRuntime) {
    this.rt = rt;
  }

  /** Starts the 10 s scan that drops clients silent for longer than channelExpiredTimeout. */
  start(intervalMs = 10_000): void {
    this.expiryTimer = setInterval(() => this.expire(), intervalMs);
    this.expiryTimer.unref();
  }

  stop(): void {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = null;
  }

  expire(): void {
    const now = this.rt.now();
    const timeout = this.rt.config.channelExpiredTimeout;
    const ids = new Set([
      ...this.rt.consumers.expiredChannels(now, timeout),
      ...this.rt.producers.expiredChannels(now, timeout),
    ]);
    for (const id of ids) {
      this.rt.logger.warn('client heartbeat expired; closing its connection', {
        channel: id,
        timeoutMs: timeout,
      });
      this.onChannelClose(id);
      this.rt.closeChannel(id);
    }
  }

  /** A connection closed: drop it from every group and tell the remaining consumers. */
  onChannelClose(channelId: string): void {
    this.rt.producers.removeChannel(channelId);
    for (const change of this.rt.consumers.removeChannel(channelId)) this.notifyChanged(change);
  }

  private notifyChanged(change: GroupChange): void {
    if (change.channels.length === 0) return;
    const group = this.rt.groups.get(change.group);
    if (group && !group.notifyConsumerIdsChangedEnable) return;
    for (const ch of change.channels) {
      const request = markOneway(
        createRequest(BrokerRequestCode.NOTIFY_CONSUMER_IDS_CHANGED, {
          extFields: { consumerGroup: change.group },
        }),
      );
      this.rt.sendOneway(ch.channelId, request);
    }
  }

  readonly heartbeat = async (req: RemotingCommand, ctx: RequestContext): Promise<RemotingCommand> => {
    if (!req.body || req.body.length === 0) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, { remark: 'HEART_BEAT without a body' });
    }
    const data = parseBodyJson(req.body, { largeIntegers: 'number' }) as HeartbeatData | null;
    if (!data || typeof data !== 'object' || typeof data.clientID !== 'string') {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, { remark: 'HEART_BEAT body has no clientID' });
    }
    const now = this.rt.now();
    const channel: ClientChannelInfo = {
      channelId: ctx.channelId,
      clientId: data.clientID,
      language: req.language,
      version: req.version,
      clientAddr: ctx.remoteAddress,
      lastUpdateTimestamp: now,
    };
    const consumers = Array.isArray(data.consumerDataSet) ? data.consumerDataSet : [];
    const producers = Array.isArray(data.producerDataSet) ? data.producerDataSet : [];
    for (const entry of [...consumers, ...producers]) {
      const name = entry && typeof entry === 'object' ? entry.groupName : undefined;
      const problem =
        typeof name === 'string' ? groupNameProblem(name) : 'a heartbeat entry has no groupName';
      if (problem) return createResponse(req, ResponseCode.SYSTEM_ERROR, { remark: problem });
    }
    for (const consumer of consumers) {
      const groupName = consumer.groupName as string;
      const groupConfig = await this.rt.groups.findOrCreate(groupName, now);
      if (groupConfig) {
        const retry = retryTopicOf(groupName);
        // The retry topic must be routable at once: consumers resolve their brokers through it.
        const { created } = await this.rt.topics.createIfAbsent(
          retry,
          Math.max(1, groupConfig.retryQueueNums),
          Perm.READ | Perm.WRITE,
          0,
          now,
        );
        // Answer only once the name servers know it, so a member that joins right after this
        // heartbeat (or this client's next route update) finds the route.
        if (created) await this.rt.topicsPublished(3000);
      }
      const subscriptions: SubscriptionData[] = [];
      for (const raw of Array.isArray(consumer.subscriptionDataSet) ? consumer.subscriptionDataSet : []) {
        if (!raw || typeof raw !== 'object') continue;
        try {
          subscriptions.push(normaliseSubscription(raw));
        } catch (err) {
          if (!(err instanceof SubscriptionParseError)) throw err;
          return createResponse(req, ResponseCode.SUBSCRIPTION_PARSE_FAILED, { remark: err.message });
        }
      }
      const changed = this.rt.consumers.register(
        {
          group: groupName,
          consumeType: consumer.consumeType ?? 'CONSUME_PASSIVELY',
          messageModel: consumer.messageModel ?? 'CLUSTERING',
          consumeFromWhere: consumer.consumeFromWhere ?? 'CONSUME_FROM_LAST_OFFSET',
          subscriptions,
        },
        channel,
        now,
      );
      if (changed) {
        const info = this.rt.consumers.get(groupName);
        this.notifyChanged({ group: groupName, channels: info ? [...info.channels.values()] : [] });
      }
    }
    for (const producer of producers) this.rt.producers.register(producer.groupName as string, channel, now);
    return createResponse(req);
  };

  readonly unregisterClient = async (req: RemotingCommand, ctx: RequestContext): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, {
      clientID: 'string',
      producerGroup: 'string?',
      consumerGroup: 'string?',
    });
    if (h.producerGroup) this.rt.producers.unregister(h.producerGroup, ctx.channelId);
    if (h.consumerGroup) {
      const change = this.rt.consumers.unregister(h.consumerGroup, ctx.channelId);
      if (change) this.notifyChanged(change);
    }
    return createResponse(req);
  };

  readonly checkClientConfig = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const body = req.body
      ? (parseBodyJson(req.body, { largeIntegers: 'number' }) as Record<string, unknown>)
      : {};
    const sub = (body?.subscriptionData ?? {}) as Record<string, unknown>;
    const type = sub.expressionType ? String(sub.expressionType) : 'TAG';
    if (type !== 'TAG') {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, {
        remark: `The broker does not support consumer to filter message by ${type}`,
      });
    }
    try {
      normaliseSubscription(sub);
    } catch (err) {
      return createResponse(req, ResponseCode.SUBSCRIPTION_PARSE_FAILED, { remark: (err as Error).message });
    }
    return createResponse(req);
  };

  readonly getConsumerListByGroup = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const { consumerGroup } = decodeHeader(req.extFields, { consumerGroup: 'string' });
    const ids = this.rt.consumers.clientIds(consumerGroup);
    if (ids.length === 0) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, {
        remark: `no consumer for this group, ${consumerGroup}`,
      });
    }
    return createResponse(req, ResponseCode.SUCCESS, {
      body: Buffer.from(JSON.stringify({ consumerIdList: ids }), 'utf8'),
    });
  };
}
