// Typed RocketMQ calls over one RemotingClient: name server lookups with fail-over, and the broker
// requests producers, consumers and the admin client make (protocol.md §2, §3).

import {
  BrokerRequestCode,
  createRequest,
  encodeBodyJson,
  encodeHeader,
  type HeaderValue,
  markOneway,
  NamesrvRequestCode,
  parseBodyJson,
  parseLongField,
  type RemotingCommand,
  ResponseCode,
} from '../protocol/index.js';
import type { RemotingClient } from '../remoting/index.js';
import { MQBrokerError, MQClientError } from './errors.js';
import type { MessageQueue } from './message.js';
import { parseTopicRoute, type TopicRouteData } from './route.js';

export type SendStatus = 'SEND_OK' | 'FLUSH_DISK_TIMEOUT' | 'FLUSH_SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE';

export interface SendResult {
  sendStatus: SendStatus;
  /** Client id (UNIQ_KEY); comma-joined for a batch. */
  msgId: string;
  /** Broker id(s): store host + physical offset; comma-joined for a batch. */
  offsetMsgId: string;
  messageQueue: MessageQueue;
  /** Queue offset of the (first) stored message. */
  queueOffset: number;
  regionId?: string;
  traceOn?: boolean;
  /** Set by brokers that assign transaction ids (send response header `transactionId`). */
  transactionId?: string;
}

export type PullStatus = 'FOUND' | 'NO_NEW_MSG' | 'NO_MATCHED_MSG' | 'OFFSET_ILLEGAL';

export interface PullResult {
  status: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  suggestWhichBrokerId: number;
  /** Raw records (protocol.md §4.1) when FOUND. */
  body?: Buffer;
}

export interface PullRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  queueOffset: number;
  maxMsgNums: number;
  sysFlag: number;
  commitOffset: number;
  suspendTimeoutMillis: number;
  subscription?: string;
  subVersion: number;
  expressionType?: string;
}

/** PULL_MESSAGE sysFlag bits (protocol.md §3.3.1). */
export const PullSysFlag = {
  COMMIT_OFFSET: 1,
  SUSPEND: 2,
  SUBSCRIPTION: 4,
  CLASS_FILTER: 8,
  LITE_PULL: 16,
} as const;

export interface HeartbeatData {
  clientID: string;
  producerDataSet: { groupName: string }[];
  consumerDataSet: {
    groupName: string;
    consumeType: 'CONSUME_PASSIVELY' | 'CONSUME_ACTIVELY';
    messageModel: 'CLUSTERING' | 'BROADCASTING';
    consumeFromWhere: string;
    subscriptionDataSet: unknown[];
    unitMode: boolean;
  }[];
}

export interface EndTransactionHeader {
  producerGroup: string;
  tranStateTableOffset: number;
  commitLogOffset: bigint;
  /** 0 = unknown, 8 = commit, 12 = rollback. */
  commitOrRollback: number;
  fromTransactionCheck: boolean;
  msgId: string;
  transactionId?: string;
}

export interface ClientApiOptions {
  namesrvAddrs: string[];
  /** Name server calls (protocol.md §8.1: 3 s). */
  namesrvTimeoutMs: number;
}

/** Converts a long header field to a safe JS number. */
export function longField(command: RemotingCommand, field: string): number {
  const raw = command.extFields[field];
  if (raw === undefined) {
    throw new MQClientError(`response code ${command.code} lacks header field ${field}`);
  }
  const value = parseLongField(field, raw);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new MQClientError(`header field ${field}=${raw} is beyond 2^53`);
  }
  return Number(value);
}

function request(code: number, header: Record<string, HeaderValue> = {}, body?: Buffer): RemotingCommand {
  return createRequest(code, { extFields: encodeHeader(header), body });
}

function lockBody(group: string, clientId: string, mqs: readonly MessageQueue[]): Buffer {
  return encodeBodyJson({
    clientId,
    consumerGroup: group,
    mqSet: mqs.map((q) => ({ brokerName: q.brokerName, queueId: q.queueId, topic: q.topic })),
  });
}

function parseJson(command: RemotingCommand): unknown {
  if (!command.body || command.body.length === 0) return undefined;
  return parseBodyJson(command.body, { largeIntegers: 'number' });
}

export class ClientApi {
  private namesrvIndex: number;

  constructor(
    readonly remoting: RemotingClient,
    private readonly options: ClientApiOptions,
  ) {
    if (options.namesrvAddrs.length === 0) throw new MQClientError('no name server address configured');
    this.namesrvIndex = Math.floor(Math.random() * options.namesrvAddrs.length);
  }

  get namesrvAddrs(): readonly string[] {
    return this.options.namesrvAddrs;
  }

  /** Calls the current name server; on a transport failure moves on to the next one. */
  async invokeNamesrv(
    command: RemotingCommand,
    timeoutMs = this.options.namesrvTimeoutMs,
  ): Promise<RemotingCommand> {
    const addrs = this.options.namesrvAddrs;
    let lastError: unknown;
    for (let i = 0; i < addrs.length; i++) {
      const addr = addrs[(this.namesrvIndex + i) % addrs.length];
      try {
        const response = await this.remoting.invoke(
          addr,
          { ...command, extFields: { ...command.extFields } },
          timeoutMs,
        );
        this.namesrvIndex = (this.namesrvIndex + i) % addrs.length;
        return response;
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  /** Calls one name server address (for operations that must reach every name server). */
  async invokeNamesrvAt(addr: string, command: RemotingCommand): Promise<RemotingCommand> {
    return this.remoting.invoke(addr, command, this.options.namesrvTimeoutMs);
  }

  /** Sends to a broker and throws MQBrokerError unless the code is one of `okCodes`. */
  async invokeBroker(
    addr: string,
    command: RemotingCommand,
    timeoutMs: number,
    okCodes: readonly number[] = [ResponseCode.SUCCESS],
  ): Promise<RemotingCommand> {
    const response = await this.remoting.invoke(addr, command, timeoutMs);
    if (!okCodes.includes(response.code)) throw new MQBrokerError(response.code, response.remark, addr);
    return response;
  }

  // ---- name server ----

  /** The topic's route, or undefined when the name server says TOPIC_NOT_EXIST. */
  async getTopicRoute(topic: string): Promise<TopicRouteData | undefined> {
    const response = await this.invokeNamesrv(request(NamesrvRequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }));
    if (response.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
    if (response.code !== ResponseCode.SUCCESS) {
      throw new MQBrokerError(response.code, response.remark, 'name server');
    }
    return parseTopicRoute(parseJson(response));
  }

  async getClusterInfo(): Promise<unknown> {
    const response = await this.invokeNamesrv(request(NamesrvRequestCode.GET_BROKER_CLUSTER_INFO));
    if (response.code !== ResponseCode.SUCCESS)
      throw new MQBrokerError(response.code, response.remark, 'name server');
    return parseJson(response);
  }

  async getAllTopicList(): Promise<string[]> {
    const response = await this.invokeNamesrv(request(NamesrvRequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER));
    if (response.code !== ResponseCode.SUCCESS)
      throw new MQBrokerError(response.code, response.remark, 'name server');
    const body = parseJson(response) as { topicList?: unknown } | undefined;
    return Array.isArray(body?.topicList) ? body.topicList.map(String) : [];
  }

  // ---- broker: produce ----

  async sendMessage(
    addr: string,
    code: number,
    header: Record<string, HeaderValue>,
    body: Buffer,
    mq: MessageQueue,
    uniqIds: string,
    timeoutMs: number,
  ): Promise<SendResult> {
    const response = await this.remoting.invoke(addr, request(code, header, body), timeoutMs);
    return this.toSendResult(addr, response, mq, uniqIds);
  }

  toSendResult(addr: string, response: RemotingCommand, mq: MessageQueue, uniqIds: string): SendResult {
    let sendStatus: SendStatus;
    switch (response.code) {
      case ResponseCode.SUCCESS:
        sendStatus = 'SEND_OK';
        break;
      case ResponseCode.FLUSH_DISK_TIMEOUT:
        sendStatus = 'FLUSH_DISK_TIMEOUT';
        break;
      case ResponseCode.FLUSH_SLAVE_TIMEOUT:
        sendStatus = 'FLUSH_SLAVE_TIMEOUT';
        break;
      case ResponseCode.SLAVE_NOT_AVAILABLE:
        sendStatus = 'SLAVE_NOT_AVAILABLE';
        break;
      default:
        throw new MQBrokerError(response.code, response.remark, addr);
    }
    const ext = response.extFields;
    const queueId = Number(ext.queueId ?? mq.queueId);
    return {
      sendStatus,
      msgId: uniqIds,
      offsetMsgId: ext.msgId ?? '',
      messageQueue: {
        topic: mq.topic,
        brokerName: mq.brokerName,
        queueId: Number.isInteger(queueId) ? queueId : mq.queueId,
      },
      queueOffset: longField(response, 'queueOffset'),
      regionId: ext.MSG_REGION,
      traceOn: ext.TRACE_ON === undefined ? undefined : ext.TRACE_ON === 'true',
      transactionId: ext.transactionId || undefined,
    };
  }

  // ---- broker: consume ----

  async pullMessage(addr: string, header: PullRequestHeader, timeoutMs: number): Promise<PullResult> {
    const response = await this.remoting.invoke(
      addr,
      request(BrokerRequestCode.PULL_MESSAGE, { ...header }),
      timeoutMs,
    );
    let status: PullStatus;
    switch (response.code) {
      case ResponseCode.SUCCESS:
        status = 'FOUND';
        break;
      case ResponseCode.PULL_NOT_FOUND:
        status = 'NO_NEW_MSG';
        break;
      case ResponseCode.PULL_RETRY_IMMEDIATELY:
        status = 'NO_MATCHED_MSG';
        break;
      case ResponseCode.PULL_OFFSET_MOVED:
        status = 'OFFSET_ILLEGAL';
        break;
      default:
        throw new MQBrokerError(response.code, response.remark, addr);
    }
    return {
      status,
      nextBeginOffset: longField(response, 'nextBeginOffset'),
      minOffset: longField(response, 'minOffset'),
      maxOffset: longField(response, 'maxOffset'),
      suggestWhichBrokerId: longField(response, 'suggestWhichBrokerId'),
      body: response.body,
    };
  }

  /** The stored offset, or undefined when the broker answers with any error code (§8.4). */
  async queryConsumerOffset(
    addr: string,
    group: string,
    mq: MessageQueue,
    timeoutMs: number,
  ): Promise<number | undefined> {
    const response = await this.remoting.invoke(
      addr,
      request(BrokerRequestCode.QUERY_CONSUMER_OFFSET, {
        consumerGroup: group,
        topic: mq.topic,
        queueId: mq.queueId,
      }),
      timeoutMs,
    );
    if (response.code !== ResponseCode.SUCCESS) return undefined;
    return longField(response, 'offset');
  }

  async updateConsumerOffset(
    addr: string,
    group: string,
    mq: MessageQueue,
    offset: number,
    oneway: boolean,
    timeoutMs: number,
  ): Promise<void> {
    const command = request(BrokerRequestCode.UPDATE_CONSUMER_OFFSET, {
      consumerGroup: group,
      topic: mq.topic,
      queueId: mq.queueId,
      commitOffset: offset,
    });
    if (oneway) {
      markOneway(command);
      await this.remoting.invokeOneway(addr, command, timeoutMs);
      return;
    }
    await this.invokeBroker(addr, command, timeoutMs);
  }

  async getMaxOffset(addr: string, mq: MessageQueue, timeoutMs: number): Promise<number> {
    const response = await this.invokeBroker(
      addr,
      request(BrokerRequestCode.GET_MAX_OFFSET, { topic: mq.topic, queueId: mq.queueId }),
      timeoutMs,
    );
    return longField(response, 'offset');
  }

  async getMinOffset(addr: string, mq: MessageQueue, timeoutMs: number): Promise<number> {
    const response = await this.invokeBroker(
      addr,
      request(BrokerRequestCode.GET_MIN_OFFSET, { topic: mq.topic, queueId: mq.queueId }),
      timeoutMs,
    );
    return longField(response, 'offset');
  }

  async searchOffset(addr: string, mq: MessageQueue, timestamp: number, timeoutMs: number): Promise<number> {
    const response = await this.invokeBroker(
      addr,
      request(BrokerRequestCode.SEARCH_OFFSET_BY_TIMESTAMP, {
        topic: mq.topic,
        queueId: mq.queueId,
        timestamp,
      }),
      timeoutMs,
    );
    return longField(response, 'offset');
  }

  async heartbeat(addr: string, data: HeartbeatData, timeoutMs: number): Promise<number> {
    const response = await this.invokeBroker(
      addr,
      request(BrokerRequestCode.HEART_BEAT, {}, encodeBodyJson(data)),
      timeoutMs,
    );
    return response.version;
  }

  async unregisterClient(
    addr: string,
    clientID: string,
    groups: { producerGroup?: string; consumerGroup?: string },
    timeoutMs: number,
  ): Promise<void> {
    await this.invokeBroker(
      addr,
      request(BrokerRequestCode.UNREGISTER_CLIENT, { clientID, ...groups }),
      timeoutMs,
    );
  }

  async getConsumerIdList(addr: string, group: string, timeoutMs: number): Promise<string[]> {
    const response = await this.invokeBroker(
      addr,
      request(BrokerRequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: group }),
      timeoutMs,
    );
    const body = parseJson(response) as { consumerIdList?: unknown } | undefined;
    return Array.isArray(body?.consumerIdList) ? body.consumerIdList.map(String) : [];
  }

  async consumerSendMessageBack(
    addr: string,
    header: {
      offset: number;
      group: string;
      delayLevel: number;
      originMsgId: string;
      originTopic: string;
      maxReconsumeTimes: number;
    },
    timeoutMs: number,
  ): Promise<void> {
    await this.invokeBroker(
      addr,
      request(BrokerRequestCode.CONSUMER_SEND_MSG_BACK, { ...header, unitMode: false }),
      timeoutMs,
    );
  }

  /** LOCK_BATCH_MQ (41): the queues of `mqs` the broker granted to `clientId` (protocol.md §3.7). */
  async lockBatchMQ(
    addr: string,
    group: string,
    clientId: string,
    mqs: readonly MessageQueue[],
    timeoutMs: number,
  ): Promise<MessageQueue[]> {
    const response = await this.invokeBroker(
      addr,
      request(BrokerRequestCode.LOCK_BATCH_MQ, {}, lockBody(group, clientId, mqs)),
      timeoutMs,
    );
    const body = parseJson(response) as { lockOKMQSet?: unknown } | undefined;
    const granted = Array.isArray(body?.lockOKMQSet) ? body.lockOKMQSet : [];
    const out: MessageQueue[] = [];
    for (const raw of granted) {
      const q = raw as Partial<MessageQueue> | null;
      if (q && typeof q.topic === 'string' && typeof q.brokerName === 'string') {
        out.push({ topic: q.topic, brokerName: q.brokerName, queueId: Number(q.queueId) });
      }
    }
    return out;
  }

  /** UNLOCK_BATCH_MQ (42), oneway or waiting for the answer. */
  async unlockBatchMQ(
    addr: string,
    group: string,
    clientId: string,
    mqs: readonly MessageQueue[],
    oneway: boolean,
    timeoutMs: number,
  ): Promise<void> {
    const command = request(BrokerRequestCode.UNLOCK_BATCH_MQ, {}, lockBody(group, clientId, mqs));
    if (oneway) {
      await this.remoting.invokeOneway(addr, markOneway(command), timeoutMs);
      return;
    }
    await this.invokeBroker(addr, command, timeoutMs);
  }

  /** END_TRANSACTION (37), oneway (protocol.md §3.10). */
  async endTransactionOneway(
    addr: string,
    header: EndTransactionHeader,
    remark: string | undefined,
    timeoutMs: number,
  ): Promise<void> {
    const command = markOneway(request(BrokerRequestCode.END_TRANSACTION, { ...header }));
    if (remark !== undefined) command.remark = remark;
    await this.remoting.invokeOneway(addr, command, timeoutMs);
  }

  /** QUERY_MESSAGE (12): raw records, or an empty buffer on QUERY_NOT_FOUND (protocol.md §3.9). */
  async queryMessage(
    addr: string,
    header: { topic: string; key: string; maxNum: number; beginTimestamp: number; endTimestamp: number },
    uniqueKey: boolean,
    timeoutMs: number,
  ): Promise<Buffer> {
    const command = request(BrokerRequestCode.QUERY_MESSAGE, { ...header });
    if (uniqueKey) command.extFields._UNIQUE_KEY_QUERY = 'true';
    const response = await this.invokeBroker(addr, command, timeoutMs, [
      ResponseCode.SUCCESS,
      ResponseCode.QUERY_NOT_FOUND,
    ]);
    return response.code === ResponseCode.SUCCESS ? (response.body ?? Buffer.alloc(0)) : Buffer.alloc(0);
  }

  /** VIEW_MESSAGE_BY_ID (33): the raw record at a physical offset. */
  async viewMessage(addr: string, offset: bigint, timeoutMs: number): Promise<Buffer> {
    const response = await this.invokeBroker(
      addr,
      request(BrokerRequestCode.VIEW_MESSAGE_BY_ID, { offset }),
      timeoutMs,
    );
    return response.body ?? Buffer.alloc(0);
  }

  // ---- generic helpers for admin calls ----

  async brokerJson(
    addr: string,
    code: number,
    header: Record<string, HeaderValue>,
    timeoutMs: number,
    body?: Buffer,
  ): Promise<unknown> {
    const response = await this.invokeBroker(addr, request(code, header, body), timeoutMs);
    return parseJson(response);
  }

  async brokerCall(
    addr: string,
    code: number,
    header: Record<string, HeaderValue>,
    timeoutMs: number,
    body?: Buffer,
  ): Promise<RemotingCommand> {
    return this.invokeBroker(addr, request(code, header, body), timeoutMs);
  }

  async namesrvCallAt(
    addr: string,
    code: number,
    header: Record<string, HeaderValue>,
  ): Promise<RemotingCommand> {
    const response = await this.invokeNamesrvAt(addr, request(code, header));
    if (response.code !== ResponseCode.SUCCESS) throw new MQBrokerError(response.code, response.remark, addr);
    return response;
  }
}
