// Admin client (what mqadmin and the operator need): topics and subscription groups on brokers,
// routes, cluster info and topic lists from the name server, consume stats (lag), topic stats and
// broker runtime info (protocol.md §2.5–§2.6, §3.8).

import {
  BrokerRequestCode,
  createRequest,
  encodeBodyJson,
  encodeHeader,
  NamesrvRequestCode,
  parseBodyJson,
  parseObjectKey,
  ResponseCode,
} from '../protocol/index.js';
import { RemotingClient } from '../remoting/index.js';
import { ClientApi, PullSysFlag } from './client-api.js';
import { parseResetOffsetBody, resolveClientOptions } from './client-instance.js';
import { MQBrokerError, MQClientError } from './errors.js';
import { compareMessageQueues, type MessageExt, type MessageQueue, retryTopic } from './message.js';
import { decodeMessages } from './message-decoder.js';
import { filterByKey, parseOffsetMsgId, pickByUniqKey, uniqKeyWindow } from './message-query.js';
import type { ClientOptions, ResolvedClientOptions } from './options.js';
import { type BrokerData, MASTER_ID, type TopicRouteData } from './route.js';

export interface TopicConfig {
  topicName: string;
  /** Default 8. */
  readQueueNums?: number;
  /** Default 8. */
  writeQueueNums?: number;
  /** 6 = read + write (default), 4 = read only, 2 = write only. */
  perm?: number;
  topicFilterType?: 'SINGLE_TAG' | 'MULTI_TAG';
  topicSysFlag?: number;
  order?: boolean;
}

export interface SubscriptionGroupConfig {
  groupName: string;
  consumeEnable?: boolean;
  consumeFromMinEnable?: boolean;
  consumeBroadcastEnable?: boolean;
  retryQueueNums?: number;
  retryMaxTimes?: number;
  brokerId?: number;
  whichBrokerWhenConsumeSlowly?: number;
  notifyConsumerIdsChangedEnable?: boolean;
}

export interface ClusterInfo {
  brokerAddrTable: Record<string, BrokerData>;
  clusterAddrTable: Record<string, string[]>;
}

export interface QueueConsumeStats {
  messageQueue: MessageQueue;
  brokerOffset: number;
  consumerOffset: number;
  lastTimestamp: number;
  /** brokerOffset − consumerOffset. */
  lag: number;
}

export interface ConsumeStats {
  consumeTps: number;
  queues: QueueConsumeStats[];
  /** Σ lag, what mqadmin consumerProgress calls Diff. */
  totalLag: number;
}

export interface QueueTopicStats {
  messageQueue: MessageQueue;
  minOffset: number;
  maxOffset: number;
  lastUpdateTimestamp: number;
}

export interface ConsumerConnection {
  clientId: string;
  clientAddr: string;
  language: string;
  version: number;
}

export interface ConsumerConnectionInfo {
  connections: ConsumerConnection[];
  consumeType?: string;
  messageModel?: string;
  consumeFromWhere?: string;
  subscriptions: Record<string, unknown>;
}

/** Group used by tools that read messages without consuming (RocketMQ's TOOLS_CONSUMER). */
export const TOOLS_CONSUMER_GROUP = 'TOOLS_CONSUMER';

const DEFAULT_TOPIC_CONFIG = {
  readQueueNums: 8,
  writeQueueNums: 8,
  perm: 6,
  topicFilterType: 'SINGLE_TAG',
  topicSysFlag: 0,
  order: false,
} as const;

const DEFAULT_GROUP_CONFIG = {
  consumeEnable: true,
  consumeFromMinEnable: true,
  consumeBroadcastEnable: true,
  retryQueueNums: 1,
  retryMaxTimes: 16,
  brokerId: 0,
  whichBrokerWhenConsumeSlowly: 1,
  notifyConsumerIdsChangedEnable: true,
} as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return 0;
}

/** Decodes a fastjson MessageQueue object key (already turned into compact JSON by the parser). */
export function parseMessageQueueKey(key: string): MessageQueue {
  const parsed = parseObjectKey(key);
  if (!isRecord(parsed) || typeof parsed.topic !== 'string' || typeof parsed.brokerName !== 'string') {
    throw new MQClientError(`not a MessageQueue key: ${key}`);
  }
  return { topic: parsed.topic, brokerName: parsed.brokerName, queueId: toNumber(parsed.queueId) };
}

export class AdminClient {
  readonly options: ResolvedClientOptions;
  private readonly remoting: RemotingClient;
  private readonly api: ClientApi;

  constructor(options: ClientOptions = {}) {
    this.options = resolveClientOptions(options);
    this.remoting = new RemotingClient({
      serializeType: this.options.serializeType,
      connectTimeoutMs: this.options.requestTimeoutMs,
      logger: this.options.logger,
      name: 'mq-admin',
    });
    this.api = new ClientApi(this.remoting, {
      namesrvAddrs: this.options.namesrvAddrs,
      namesrvTimeoutMs: this.options.requestTimeoutMs,
    });
  }

  async close(): Promise<void> {
    await this.remoting.close();
  }

  private get timeout(): number {
    return this.options.requestTimeoutMs;
  }

  // ---- name server ----

  async getClusterInfo(): Promise<ClusterInfo> {
    const body = await this.api.getClusterInfo();
    const out: ClusterInfo = { brokerAddrTable: {}, clusterAddrTable: {} };
    if (!isRecord(body)) return out;
    if (isRecord(body.brokerAddrTable)) {
      for (const [name, raw] of Object.entries(body.brokerAddrTable)) {
        if (!isRecord(raw)) continue;
        const addrs: Record<string, string> = {};
        if (isRecord(raw.brokerAddrs))
          for (const [id, a] of Object.entries(raw.brokerAddrs)) addrs[id] = String(a);
        out.brokerAddrTable[name] = {
          brokerName: name,
          cluster: String(raw.cluster ?? ''),
          brokerAddrs: addrs,
        };
      }
    }
    if (isRecord(body.clusterAddrTable)) {
      for (const [cluster, names] of Object.entries(body.clusterAddrTable)) {
        out.clusterAddrTable[cluster] = Array.isArray(names) ? names.map(String) : [];
      }
    }
    return out;
  }

  /** Master addresses of a cluster (or of every cluster when none is given). */
  async masterAddresses(clusterName?: string): Promise<string[]> {
    const info = await this.getClusterInfo();
    let names: string[];
    if (clusterName !== undefined) {
      const listed = info.clusterAddrTable[clusterName];
      if (!listed) throw new MQClientError(`cluster ${clusterName} is not known to the name server`);
      names = listed;
    } else {
      names = Object.keys(info.brokerAddrTable);
    }
    return names
      .map((n) => info.brokerAddrTable[n]?.brokerAddrs[MASTER_ID])
      .filter((a): a is string => typeof a === 'string')
      .sort();
  }

  async getTopicRoute(topic: string): Promise<TopicRouteData | undefined> {
    return this.api.getTopicRoute(topic);
  }

  async listTopics(): Promise<string[]> {
    return (await this.api.getAllTopicList()).sort();
  }

  // ---- topics ----

  async createOrUpdateTopic(brokerAddr: string, config: TopicConfig): Promise<void> {
    const c = { ...DEFAULT_TOPIC_CONFIG, ...config };
    await this.api.brokerCall(
      brokerAddr,
      BrokerRequestCode.UPDATE_AND_CREATE_TOPIC,
      {
        topic: c.topicName,
        defaultTopic: 'TBW102',
        readQueueNums: c.readQueueNums,
        writeQueueNums: c.writeQueueNums,
        perm: c.perm,
        topicFilterType: c.topicFilterType,
        topicSysFlag: c.topicSysFlag,
        order: c.order,
      },
      this.timeout,
    );
  }

  /** Creates or updates the topic on every master of the cluster; returns their addresses. */
  async createOrUpdateTopicInCluster(
    clusterName: string | undefined,
    config: TopicConfig,
  ): Promise<string[]> {
    const masters = await this.masterAddresses(clusterName);
    if (masters.length === 0) throw new MQClientError('no master broker found');
    await Promise.all(masters.map((addr) => this.createOrUpdateTopic(addr, config)));
    return masters;
  }

  /** DELETE_TOPIC_IN_BROKER on one broker: drops its topic config and consume queues (not the route). */
  async deleteTopicInBroker(brokerAddr: string, topic: string): Promise<void> {
    await this.api.brokerCall(brokerAddr, BrokerRequestCode.DELETE_TOPIC_IN_BROKER, { topic }, this.timeout);
  }

  /** DELETE_TOPIC_IN_NAMESRV on one name server (only that cluster's brokers when `clusterName` is given). */
  async deleteTopicInNamesrv(namesrvAddr: string, topic: string, clusterName?: string): Promise<void> {
    await this.api.namesrvCallAt(namesrvAddr, NamesrvRequestCode.DELETE_TOPIC_IN_NAMESRV, {
      topic,
      clusterName,
    });
  }

  /**
   * Deletes the topic on the brokers (every master of the cluster, or of its route) and its route
   * on every name server, like mqadmin deleteTopic.
   */
  async deleteTopic(topic: string, clusterName?: string): Promise<void> {
    let masters: string[];
    if (clusterName !== undefined) {
      masters = await this.masterAddresses(clusterName);
    } else {
      const route = await this.getTopicRoute(topic);
      masters = route ? route.brokerDatas.map((b) => b.brokerAddrs[MASTER_ID]).filter(Boolean) : [];
    }
    await Promise.all(masters.map((addr) => this.deleteTopicInBroker(addr, topic)));
    for (const ns of this.options.namesrvAddrs) await this.deleteTopicInNamesrv(ns, topic, clusterName);
  }

  /** Topic configs held by one broker (GET_ALL_TOPIC_CONFIG). */
  async listTopicConfigs(brokerAddr: string): Promise<Record<string, Required<TopicConfig>>> {
    const response = await this.remoting.invoke(
      brokerAddr,
      createRequest(BrokerRequestCode.GET_ALL_TOPIC_CONFIG),
      this.timeout,
    );
    if (response.code !== ResponseCode.SUCCESS) {
      // An empty broker answers SYSTEM_ERROR "No topic in this broker".
      if (response.code === ResponseCode.SYSTEM_ERROR && /No topic/i.test(response.remark ?? '')) return {};
      throw new MQBrokerError(response.code, response.remark, brokerAddr);
    }
    const body = response.body ? parseBodyJson(response.body, { largeIntegers: 'number' }) : {};
    const table = isRecord(body) && isRecord(body.topicConfigTable) ? body.topicConfigTable : {};
    const out: Record<string, Required<TopicConfig>> = {};
    for (const [name, raw] of Object.entries(table)) {
      if (!isRecord(raw)) continue;
      out[name] = {
        topicName: String(raw.topicName ?? name),
        readQueueNums: toNumber(raw.readQueueNums),
        writeQueueNums: toNumber(raw.writeQueueNums),
        perm: toNumber(raw.perm),
        topicFilterType: raw.topicFilterType === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG',
        topicSysFlag: toNumber(raw.topicSysFlag),
        order: raw.order === true,
      };
    }
    return out;
  }

  // ---- subscription groups ----

  async createOrUpdateSubscriptionGroup(brokerAddr: string, config: SubscriptionGroupConfig): Promise<void> {
    const body = encodeBodyJson({ ...DEFAULT_GROUP_CONFIG, ...config });
    await this.api.brokerCall(
      brokerAddr,
      BrokerRequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
      {},
      this.timeout,
      body,
    );
  }

  async createOrUpdateSubscriptionGroupInCluster(
    clusterName: string | undefined,
    config: SubscriptionGroupConfig,
  ): Promise<string[]> {
    const masters = await this.masterAddresses(clusterName);
    if (masters.length === 0) throw new MQClientError('no master broker found');
    await Promise.all(masters.map((addr) => this.createOrUpdateSubscriptionGroup(addr, config)));
    return masters;
  }

  async deleteSubscriptionGroup(brokerAddr: string, groupName: string, removeOffset = false): Promise<void> {
    await this.api.brokerCall(
      brokerAddr,
      BrokerRequestCode.DELETE_SUBSCRIPTIONGROUP,
      { groupName, removeOffset },
      this.timeout,
    );
  }

  async deleteSubscriptionGroupInCluster(
    clusterName: string | undefined,
    groupName: string,
    removeOffset = false,
  ): Promise<string[]> {
    const masters = await this.masterAddresses(clusterName);
    await Promise.all(masters.map((addr) => this.deleteSubscriptionGroup(addr, groupName, removeOffset)));
    return masters;
  }

  /** Subscription groups held by one broker (GET_ALL_SUBSCRIPTIONGROUP_CONFIG). */
  async listSubscriptionGroups(brokerAddr: string): Promise<Record<string, SubscriptionGroupConfig>> {
    const body = await this.api.brokerJson(
      brokerAddr,
      BrokerRequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG,
      {},
      this.timeout,
    );
    const table = isRecord(body) && isRecord(body.subscriptionGroupTable) ? body.subscriptionGroupTable : {};
    const out: Record<string, SubscriptionGroupConfig> = {};
    for (const [name, raw] of Object.entries(table)) {
      if (isRecord(raw))
        out[name] = {
          ...(raw as unknown as SubscriptionGroupConfig),
          groupName: String(raw.groupName ?? name),
        };
    }
    return out;
  }

  // ---- stats ----

  /** Masters serving a topic, from its route. */
  private async mastersOfTopic(topic: string): Promise<{ brokerName: string; addr: string }[]> {
    const route = await this.getTopicRoute(topic);
    if (!route) return [];
    return route.brokerDatas
      .map((b) => ({ brokerName: b.brokerName, addr: b.brokerAddrs[MASTER_ID] }))
      .filter((b) => typeof b.addr === 'string');
  }

  /**
   * Consume progress and lag of a group (GET_CONSUME_STATS on every broker serving `%RETRY%<group>`,
   * or `topic` when the retry topic has no route). Queues are sorted by topic, broker, queue id.
   */
  async getConsumeStats(group: string, topic?: string): Promise<ConsumeStats> {
    let brokers = await this.mastersOfTopic(retryTopic(group));
    if (brokers.length === 0 && topic !== undefined) brokers = await this.mastersOfTopic(topic);
    if (brokers.length === 0) throw new MQClientError(`no broker serves group ${group}; is it online?`);
    const out: ConsumeStats = { consumeTps: 0, queues: [], totalLag: 0 };
    for (const { addr } of brokers) {
      const body = await this.api.brokerJson(
        addr,
        BrokerRequestCode.GET_CONSUME_STATS,
        { consumerGroup: group, topic },
        this.timeout,
      );
      if (!isRecord(body)) continue;
      out.consumeTps += toNumber(body.consumeTps);
      const table = isRecord(body.offsetTable) ? body.offsetTable : {};
      for (const [key, raw] of Object.entries(table)) {
        if (!isRecord(raw)) continue;
        const brokerOffset = toNumber(raw.brokerOffset);
        const consumerOffset = toNumber(raw.consumerOffset);
        out.queues.push({
          messageQueue: parseMessageQueueKey(key),
          brokerOffset,
          consumerOffset,
          lastTimestamp: toNumber(raw.lastTimestamp),
          lag: brokerOffset - consumerOffset,
        });
      }
    }
    out.queues.sort((a, b) => compareMessageQueues(a.messageQueue, b.messageQueue));
    out.totalLag = out.queues.reduce((sum, q) => sum + q.lag, 0);
    return out;
  }

  /** Min/max offsets per queue of a topic on every broker serving it. */
  async getTopicStats(topic: string): Promise<QueueTopicStats[]> {
    const brokers = await this.mastersOfTopic(topic);
    if (brokers.length === 0) throw new MQClientError(`topic ${topic} has no route`);
    const out: QueueTopicStats[] = [];
    for (const { addr } of brokers) {
      const body = await this.api.brokerJson(
        addr,
        BrokerRequestCode.GET_TOPIC_STATS_INFO,
        { topic },
        this.timeout,
      );
      const table = isRecord(body) && isRecord(body.offsetTable) ? body.offsetTable : {};
      for (const [key, raw] of Object.entries(table)) {
        if (!isRecord(raw)) continue;
        out.push({
          messageQueue: parseMessageQueueKey(key),
          minOffset: toNumber(raw.minOffset),
          maxOffset: toNumber(raw.maxOffset),
          lastUpdateTimestamp: toNumber(raw.lastUpdateTimestamp),
        });
      }
    }
    return out.sort((a, b) => compareMessageQueues(a.messageQueue, b.messageQueue));
  }

  // ---- messages ----

  /**
   * Messages of `topic` whose KEYS contain `key`, stored within [begin, end] (default: all time),
   * from every broker of the topic, oldest first (QUERY_MESSAGE, protocol.md §3.9).
   */
  async queryMessagesByKey(
    topic: string,
    key: string,
    options: { maxNum?: number; begin?: number; end?: number } = {},
  ): Promise<MessageExt[]> {
    const records = await this.queryAllBrokers(
      topic,
      key,
      false,
      options.maxNum ?? 64,
      options.begin ?? 0,
      options.end ?? Date.now(),
    );
    return filterByKey(records, topic, key);
  }

  /** The message of `topic` whose client id (UNIQ_KEY) is `uniqKey`. */
  async queryMessageByUniqKey(topic: string, uniqKey: string): Promise<MessageExt | undefined> {
    const { begin, end } = uniqKeyWindow(uniqKey, Date.now());
    return pickByUniqKey(await this.queryAllBrokers(topic, uniqKey, true, 32, begin, end), uniqKey);
  }

  private async queryAllBrokers(
    topic: string,
    key: string,
    uniqueKey: boolean,
    maxNum: number,
    begin: number,
    end: number,
  ): Promise<MessageExt[]> {
    const route = await this.getTopicRoute(topic);
    if (!route) throw new MQClientError(`topic ${topic} has no route`);
    const out: MessageExt[] = [];
    let lastError: unknown;
    let answered = 0;
    await Promise.all(
      route.brokerDatas.map(async (bd) => {
        const addr = bd.brokerAddrs[MASTER_ID] ?? Object.values(bd.brokerAddrs)[0];
        if (!addr) return;
        try {
          const body = await this.api.queryMessage(
            addr,
            { topic, key, maxNum, beginTimestamp: begin, endTimestamp: end },
            uniqueKey,
            this.timeout,
          );
          answered++;
          for (const m of decodeMessages(body)) {
            m.brokerName = bd.brokerName;
            out.push(m);
          }
        } catch (err) {
          lastError = err;
        }
      }),
    );
    if (answered === 0 && lastError) throw lastError;
    return out;
  }

  /** VIEW_MESSAGE_BY_ID: the message an offset message id names (store address + physical offset). */
  async viewMessage(offsetMsgId: string): Promise<MessageExt> {
    const parsed = parseOffsetMsgId(offsetMsgId);
    if (!parsed) throw new MQClientError(`${offsetMsgId} is not an offset message id`);
    const body = await this.api.viewMessage(parsed.address, parsed.physicalOffset, this.timeout);
    const [msg] = decodeMessages(body);
    if (!msg) throw new MQClientError(`broker ${parsed.address} returned no message for ${offsetMsgId}`);
    return msg;
  }

  /**
   * A message by either id, as the dashboard looks it up: as an offset id first, then (with a
   * topic) as a client id (UNIQ_KEY).
   */
  async findMessage(id: string, topic?: string): Promise<MessageExt | undefined> {
    let viewError: unknown;
    if (parseOffsetMsgId(id)) {
      try {
        return await this.viewMessage(id);
      } catch (err) {
        viewError = err;
      }
    }
    if (topic !== undefined) return this.queryMessageByUniqKey(topic, id);
    if (viewError) throw viewError;
    throw new MQClientError(
      `${id} is not an offset message id; give the topic to look it up as a message key`,
    );
  }

  /**
   * Reads up to `maxNums` messages of one queue from `offset` without a consumer (a tools pull
   * with its own subscription and no offset commit), e.g. to list a DLQ.
   */
  async pullFromQueue(
    mq: MessageQueue,
    offset: number,
    maxNums: number,
  ): Promise<{ messages: MessageExt[]; nextBeginOffset: number; maxOffset: number }> {
    const route = await this.getTopicRoute(mq.topic);
    const bd = route?.brokerDatas.find((b) => b.brokerName === mq.brokerName);
    const addr = bd?.brokerAddrs[MASTER_ID] ?? (bd ? Object.values(bd.brokerAddrs)[0] : undefined);
    if (!addr) throw new MQClientError(`no broker ${mq.brokerName} serves ${mq.topic}`);
    const result = await this.api.pullMessage(
      addr,
      {
        consumerGroup: TOOLS_CONSUMER_GROUP,
        topic: mq.topic,
        queueId: mq.queueId,
        queueOffset: offset,
        maxMsgNums: maxNums,
        sysFlag: PullSysFlag.SUBSCRIPTION,
        commitOffset: 0,
        suspendTimeoutMillis: 0,
        subscription: '*',
        subVersion: 0,
        expressionType: 'TAG',
      },
      this.timeout,
    );
    const messages = result.status === 'FOUND' ? decodeMessages(result.body ?? Buffer.alloc(0)) : [];
    for (const m of messages) m.brokerName = mq.brokerName;
    return { messages, nextBeginOffset: result.nextBeginOffset, maxOffset: result.maxOffset };
  }

  /**
   * Moves the group's offsets of `topic` to the first message stored at or after `timestamp` (−1:
   * to the end), on every broker of the topic. Live consumers are told by the broker
   * (INVOKE_BROKER_TO_RESET_OFFSET → RESET_CONSUMER_CLIENT_OFFSET); with none online, or for a
   * group with no offsets there yet, they are written directly (SEARCH_OFFSET_BY_TIMESTAMP +
   * UPDATE_CONSUMER_OFFSET), as mqadmin and the dashboard do.
   */
  async resetOffsetByTimestamp(
    group: string,
    topic: string,
    timestamp: number,
    force = true,
  ): Promise<{ mq: MessageQueue; offset: number; viaBroker: boolean }[]> {
    const route = await this.getTopicRoute(topic);
    if (!route) throw new MQClientError(`topic ${topic} has no route`);
    const out: { mq: MessageQueue; offset: number; viaBroker: boolean }[] = [];
    for (const bd of route.brokerDatas) {
      const addr = bd.brokerAddrs[MASTER_ID];
      if (!addr) continue;
      const response = await this.remoting.invoke(
        addr,
        createRequest(BrokerRequestCode.INVOKE_BROKER_TO_RESET_OFFSET, {
          extFields: encodeHeader({ topic, group, timestamp, isForce: force }),
        }),
        this.timeout,
      );
      if (response.code === ResponseCode.SUCCESS) {
        for (const entry of parseResetOffsetBody(response.body)) out.push({ ...entry, viaBroker: true });
        continue;
      }
      // No live consumer, or a group that never committed here: write the offsets ourselves.
      const noOffsets =
        response.code === ResponseCode.SYSTEM_ERROR &&
        /consumer group .* not exist/i.test(response.remark ?? '');
      if (response.code !== ResponseCode.CONSUMER_NOT_ONLINE && !noOffsets) {
        throw new MQBrokerError(response.code, response.remark, addr);
      }
      const queueData = route.queueDatas.find((q) => q.brokerName === bd.brokerName);
      for (let queueId = 0; queueId < (queueData?.readQueueNums ?? 0); queueId++) {
        const mq = { topic, brokerName: bd.brokerName, queueId };
        const offset =
          timestamp === -1
            ? await this.api.getMaxOffset(addr, mq, this.timeout)
            : await this.api.searchOffset(addr, mq, timestamp, this.timeout);
        await this.api.updateConsumerOffset(addr, group, mq, offset, false, this.timeout);
        out.push({ mq, offset, viaBroker: false });
      }
    }
    return out.sort((a, b) => compareMessageQueues(a.mq, b.mq));
  }

  /** GET_CONSUMER_RUNNING_INFO of one client of a group, relayed by a broker (the client's JSON). */
  async getConsumerRunningInfo(group: string, clientId: string): Promise<unknown> {
    const brokers = await this.mastersOfTopic(retryTopic(group));
    if (brokers.length === 0) throw new MQClientError(`no broker serves group ${group}`);
    let lastError: unknown;
    for (const { addr } of brokers) {
      try {
        return await this.api.brokerJson(
          addr,
          BrokerRequestCode.GET_CONSUMER_RUNNING_INFO,
          { consumerGroup: group, clientId, jstackEnable: false },
          10_000 + this.timeout,
        );
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  /** GET_BROKER_RUNTIME_INFO: the broker's KV table (all values strings). */
  async getBrokerRuntimeInfo(brokerAddr: string): Promise<Record<string, string>> {
    const body = await this.api.brokerJson(
      brokerAddr,
      BrokerRequestCode.GET_BROKER_RUNTIME_INFO,
      {},
      this.timeout,
    );
    const table = isRecord(body) && isRecord(body.table) ? body.table : {};
    return Object.fromEntries(Object.entries(table).map(([k, v]) => [k, String(v)]));
  }

  /** Live connections of a consumer group (GET_CONSUMER_CONNECTION_LIST on a broker of `%RETRY%<group>`). */
  async getConsumerConnections(group: string): Promise<ConsumerConnectionInfo> {
    const brokers = await this.mastersOfTopic(retryTopic(group));
    if (brokers.length === 0) throw new MQClientError(`no broker serves group ${group}`);
    const connections = new Map<string, ConsumerConnection>();
    let info: ConsumerConnectionInfo = { connections: [], subscriptions: {} };
    let lastError: unknown;
    for (const { addr } of brokers) {
      let body: unknown;
      try {
        body = await this.api.brokerJson(
          addr,
          BrokerRequestCode.GET_CONSUMER_CONNECTION_LIST,
          { consumerGroup: group },
          this.timeout,
        );
      } catch (err) {
        lastError = err;
        continue;
      }
      if (!isRecord(body)) continue;
      for (const c of Array.isArray(body.connectionSet) ? body.connectionSet : []) {
        if (!isRecord(c)) continue;
        connections.set(String(c.clientId), {
          clientId: String(c.clientId),
          clientAddr: String(c.clientAddr ?? ''),
          language: String(c.language ?? ''),
          version: toNumber(c.version),
        });
      }
      info = {
        connections: [],
        consumeType: body.consumeType as string | undefined,
        messageModel: body.messageModel as string | undefined,
        consumeFromWhere: body.consumeFromWhere as string | undefined,
        subscriptions: isRecord(body.subscriptionTable) ? body.subscriptionTable : {},
      };
    }
    if (connections.size === 0 && lastError) throw lastError;
    info.connections = [...connections.values()].sort((a, b) => (a.clientId < b.clientId ? -1 : 1));
    return info;
  }
}
