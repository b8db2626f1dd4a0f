// Producer with RocketMQ 4.9 semantics (protocol.md §3.2, §8.2): sync sends retry up to twice on
// another broker for transport errors and codes 1/14/16/17/204/205; async sends re-send only on
// transport errors; oneway sends once; batches go as SEND_BATCH_MESSAGE; ordered sends use a queue
// selector and never move to another queue.

import { deflateSync } from 'node:zlib';
import {
  BrokerRequestCode,
  createRequest,
  encodeHeader,
  type HeaderValue,
  markOneway,
  type RemotingCommand,
  ResponseCode,
} from '../protocol/index.js';
import { RemotingError } from '../remoting/index.js';
import { encodeBatch } from './batch-codec.js';
import type { HeartbeatData, SendResult } from './client-api.js';
import { ClientInstance, type ClientMember } from './client-instance.js';
import { MQBrokerError, MQClientError } from './errors.js';
import {
  AUTO_CREATE_TOPIC_KEY,
  CLIENT_INNER_PRODUCER_GROUP,
  joinKeys,
  type Message,
  MessageProperty,
  type MessageQueue,
  RETRY_GROUP_TOPIC_PREFIX,
} from './message.js';
import { MessageSysFlag } from './message-decoder.js';
import type { ClientOptions } from './options.js';
import { encodeProperties } from './properties-codec.js';
import { type MessageQueueSelector, TopicPublishInfo } from './publish-info.js';
import { masterAddress, publishQueues, routeFromDefaultTopic, type TopicRouteData } from './route.js';

export interface ProducerOptions extends ClientOptions {
  /** Default `DEFAULT_PRODUCER`. */
  producerGroup?: string;
  /** Total time budget of one send including retries, ms. Default 3 000. */
  sendMsgTimeoutMs?: number;
  /** Extra attempts of a sync send. Default 2. */
  retryTimesWhenSendFailed?: number;
  /** Extra attempts of an async send (transport errors only). Default 2. */
  retryTimesWhenSendAsyncFailed?: number;
  /** Bodies at least this large are zlib-compressed (single sends only). Default 4 096. */
  compressMsgBodyOverHowmuch?: number;
  /** Largest body (or whole batch body) accepted. Default 4 MiB. */
  maxMessageSize?: number;
  /** Queues of an auto-created topic. Default 4. */
  defaultTopicQueueNums?: number;
  /** Use SEND_MESSAGE_V2 (short header keys). Default true, like Java's sendSmartMsg. */
  sendSmartMsg?: boolean;
}

export interface SendOptions {
  /** Overrides sendMsgTimeoutMs for this call. */
  timeoutMs?: number;
}

/** Sync send retries on these codes (protocol.md §8.2). */
const RETRY_RESPONSE_CODES = new Set<number>([
  ResponseCode.TOPIC_NOT_EXIST,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.NO_PERMISSION,
  ResponseCode.NO_BUYER_ID,
  ResponseCode.NOT_IN_CURRENT_UNIT,
]);

const TOPIC_PATTERN = /^[%|a-zA-Z0-9_-]+$/;

/** Client-side checks of Java's Validators.checkTopic / checkMessage. */
export function validateMessage(msg: Message, maxMessageSize: number): void {
  if (!msg || typeof msg.topic !== 'string') throw new MQClientError('the message or its topic is missing');
  if (msg.topic.length === 0) throw new MQClientError('the specified topic is blank');
  if (msg.topic.length > 127)
    throw new MQClientError('the specified topic is longer than topic max length 127');
  if (!TOPIC_PATTERN.test(msg.topic)) {
    throw new MQClientError(
      `the specified topic[${msg.topic}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`,
    );
  }
  if (msg.topic === AUTO_CREATE_TOPIC_KEY) {
    throw new MQClientError(`the topic[${msg.topic}] is conflict with AUTO_CREATE_TOPIC_KEY_TOPIC`);
  }
  if (!Buffer.isBuffer(msg.body)) throw new MQClientError('the message body must be a Buffer');
  if (msg.body.length === 0) throw new MQClientError('the message body length is zero');
  if (msg.body.length > maxMessageSize) {
    throw new MQClientError(`the message body size over max value, MAX: ${maxMessageSize}`);
  }
}

interface PreparedMessage {
  topic: string;
  body: Buffer;
  sysFlag: number;
  flag: number;
  properties: Record<string, string>;
  /** `properties` in wire form, encoded once per message (the hot path sends it as is). */
  encodedProperties: string;
  uniqKey: string;
}

export class Producer implements ClientMember {
  readonly group: string;
  readonly needsAllBrokers = false;
  protected readonly instance: ClientInstance;
  private readonly publishInfo = new Map<string, TopicPublishInfo>();
  /** Route lookups in progress, so concurrent first sends to a topic share one. */
  private readonly routeLookups = new Map<string, Promise<TopicPublishInfo>>();
  protected readonly sendMsgTimeoutMs: number;
  private readonly retryTimes: number;
  private readonly retryTimesAsync: number;
  private readonly compressOver: number;
  private readonly maxMessageSize: number;
  private readonly defaultTopicQueueNums: number;
  private readonly smart: boolean;
  private state: 'created' | 'running' | 'stopped' = 'created';
  private stopping: Promise<void> | undefined;

  constructor(options: ProducerOptions = {}) {
    this.group = options.producerGroup ?? 'DEFAULT_PRODUCER';
    this.sendMsgTimeoutMs = options.sendMsgTimeoutMs ?? 3_000;
    this.retryTimes = options.retryTimesWhenSendFailed ?? 2;
    this.retryTimesAsync = options.retryTimesWhenSendAsyncFailed ?? 2;
    this.compressOver = options.compressMsgBodyOverHowmuch ?? 4_096;
    this.maxMessageSize = options.maxMessageSize ?? 4 * 1024 * 1024;
    this.defaultTopicQueueNums = options.defaultTopicQueueNums ?? 4;
    this.smart = options.sendSmartMsg ?? true;
    this.instance = new ClientInstance(options);
    this.instance.register(this);
  }

  get clientId(): string {
    return this.instance.clientId;
  }

  async start(): Promise<void> {
    if (this.state !== 'created')
      throw new MQClientError(`producer is ${this.state}; it can be started once`);
    this.state = 'running';
    this.instance.start();
  }

  /** Unregisters from every broker (best effort) and closes connections. */
  shutdown(): Promise<void> {
    if (!this.stopping) {
      const wasRunning = this.state === 'running';
      this.state = 'stopped';
      this.stopping = wasRunning ? this.stop() : Promise.resolve();
    }
    return this.stopping;
  }

  private async stop(): Promise<void> {
    const timeout = this.instance.options.requestTimeoutMs;
    await Promise.all(
      this.instance
        .allBrokerAddresses(true)
        .map((addr) =>
          this.instance.api
            .unregisterClient(addr, this.instance.clientId, { producerGroup: this.group }, timeout)
            .catch(() => {}),
        ),
    );
    this.instance.unregister(this);
    await this.instance.shutdown();
  }

  // ---- ClientMember ----

  topics(): string[] {
    return [...this.publishInfo.keys()];
  }

  fillHeartbeat(data: HeartbeatData): void {
    data.producerDataSet.push({ groupName: this.group });
    if (!data.producerDataSet.some((p) => p.groupName === CLIENT_INNER_PRODUCER_GROUP)) {
      data.producerDataSet.push({ groupName: CLIENT_INNER_PRODUCER_GROUP });
    }
  }

  onRouteChanged(topic: string, route: TopicRouteData): void {
    if (!this.publishInfo.has(topic)) return;
    const queues = publishQueues(topic, route);
    if (queues.length > 0) this.publishInfo.set(topic, new TopicPublishInfo(queues));
  }

  // ---- sending ----

  /** Sync send: waits for the broker; retries on another broker (protocol.md §8.2). */
  async send(msg: Message, options: SendOptions = {}): Promise<SendResult> {
    this.ensureRunning();
    const prepared = this.prepare(msg, true);
    return this.sendWithRetries(
      prepared,
      1 + this.retryTimes,
      true,
      options.timeoutMs ?? this.sendMsgTimeoutMs,
    );
  }

  /** Async semantics: re-sends only on transport failures; a broker error code ends it. */
  async sendAsync(msg: Message, options: SendOptions = {}): Promise<SendResult> {
    this.ensureRunning();
    const prepared = this.prepare(msg, true);
    return this.sendWithRetries(
      prepared,
      1 + this.retryTimesAsync,
      false,
      options.timeoutMs ?? this.sendMsgTimeoutMs,
    );
  }

  /** Fire and forget: resolves once the request is written; no response, no retry. */
  async sendOneway(msg: Message): Promise<void> {
    this.ensureRunning();
    const prepared = this.prepare(msg, true);
    const info = await this.findPublishInfo(prepared.topic);
    const mq = info.select();
    const addr = await this.brokerAddress(mq);
    const command = markOneway(this.buildSendCommand(prepared, mq, false));
    await this.instance.remoting.invokeOneway(addr, command, this.sendMsgTimeoutMs);
  }

  /** Sends to the queue chosen by `selector` (ordered messages). No retry on another queue. */
  async sendOrderly(
    msg: Message,
    selector: MessageQueueSelector,
    arg: unknown,
    options: SendOptions = {},
  ): Promise<SendResult> {
    this.ensureRunning();
    const prepared = this.prepare(msg, true);
    const info = await this.findPublishInfo(prepared.topic);
    const mq = selector(info.queues, msg, arg);
    if (!mq || !info.queues.some((q) => q.brokerName === mq.brokerName && q.queueId === mq.queueId)) {
      throw new MQClientError('the queue selector returned a queue that is not in the topic route');
    }
    return this.sendToResolvedQueue(prepared, mq, options.timeoutMs ?? this.sendMsgTimeoutMs);
  }

  /** Sends to one given queue. */
  async sendToQueue(msg: Message, mq: MessageQueue, options: SendOptions = {}): Promise<SendResult> {
    this.ensureRunning();
    if (mq.topic !== msg.topic)
      throw new MQClientError(`message topic ${msg.topic} does not match queue topic ${mq.topic}`);
    const prepared = this.prepare(msg, true);
    await this.findPublishInfo(prepared.topic);
    return this.sendToResolvedQueue(prepared, mq, options.timeoutMs ?? this.sendMsgTimeoutMs);
  }

  /** One SEND_BATCH_MESSAGE: all messages share a topic, none delayed; stored consecutively in one queue. */
  async sendBatch(msgs: readonly Message[], options: SendOptions = {}): Promise<SendResult> {
    this.ensureRunning();
    if (msgs.length === 0) throw new MQClientError('a batch needs at least one message');
    const topic = msgs[0].topic;
    const items = msgs.map((m) => {
      if (m.topic !== topic)
        throw new MQClientError('the topic of the messages in one batch should be the same');
      if (m.delayTimeLevel && m.delayTimeLevel > 0)
        throw new MQClientError('TimeDelayLevel is not supported for batching');
      if (m.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX))
        throw new MQClientError('retry group topic is not supported for batching');
      return this.prepare(m, false);
    });
    const body = encodeBatch(
      items.map((p) => ({
        flag: p.flag,
        body: p.body,
        properties: p.encodedProperties,
      })),
    );
    if (body.length > this.maxMessageSize) {
      throw new MQClientError(
        `the batch body size ${body.length} is over the max value ${this.maxMessageSize}`,
      );
    }
    const batchProperties = { [MessageProperty.WAIT]: msgs[0].waitStoreMsgOK === false ? 'false' : 'true' };
    const batch: PreparedMessage = {
      topic,
      body,
      sysFlag: 0,
      flag: 0,
      properties: batchProperties,
      encodedProperties: encodeProperties(batchProperties),
      uniqKey: items.map((p) => p.uniqKey).join(','),
    };
    return this.sendWithRetries(
      batch,
      1 + this.retryTimes,
      true,
      options.timeoutMs ?? this.sendMsgTimeoutMs,
      true,
    );
  }

  /** The queues a send to `topic` may use (fetches the route if needed). */
  async fetchPublishMessageQueues(topic: string): Promise<MessageQueue[]> {
    this.ensureRunning();
    return [...(await this.findPublishInfo(topic)).queues];
  }

  // ---- internals ----

  private ensureRunning(): void {
    if (this.state !== 'running') throw new MQClientError(`producer is ${this.state}; call start() first`);
  }

  private prepare(msg: Message, allowCompression: boolean): PreparedMessage {
    validateMessage(msg, this.maxMessageSize);
    const properties: Record<string, string> = {};
    const keys = joinKeys(msg.keys);
    if (keys !== undefined) properties[MessageProperty.KEYS] = keys;
    if (msg.tags !== undefined && msg.tags.length > 0) properties[MessageProperty.TAGS] = msg.tags;
    properties[MessageProperty.WAIT] = msg.waitStoreMsgOK === false ? 'false' : 'true';
    if (msg.delayTimeLevel !== undefined && msg.delayTimeLevel > 0) {
      properties[MessageProperty.DELAY] = String(msg.delayTimeLevel);
    }
    Object.assign(properties, msg.properties ?? {});
    const uniqKey = properties[MessageProperty.UNIQ_KEY] ?? this.instance.uniqKeys.next();
    properties[MessageProperty.UNIQ_KEY] = uniqKey;
    let body = msg.body;
    // A transactional half message (protocol.md §3.10) carries the prepared bit.
    let sysFlag = properties[MessageProperty.TRAN_MSG] === 'true' ? MessageSysFlag.TRANSACTION_PREPARED : 0;
    if (allowCompression && body.length >= this.compressOver) {
      const compressed = deflateSync(body, { level: 5 });
      if (compressed.length < body.length) {
        body = compressed;
        sysFlag |= MessageSysFlag.COMPRESSED | MessageSysFlag.ZLIB_TYPE;
      }
    }
    // Encoded now so a bad property fails before any network call; sends reuse the result.
    const encodedProperties = encodeProperties(properties);
    return { topic: msg.topic, body, sysFlag, flag: msg.flag ?? 0, properties, encodedProperties, uniqKey };
  }

  private async findPublishInfo(topic: string): Promise<TopicPublishInfo> {
    const known = this.publishInfo.get(topic);
    if (known && known.queues.length > 0) return known;
    let lookup = this.routeLookups.get(topic);
    if (!lookup) {
      lookup = this.lookupPublishInfo(topic).finally(() => this.routeLookups.delete(topic));
      this.routeLookups.set(topic, lookup);
    }
    return lookup;
  }

  private async lookupPublishInfo(topic: string): Promise<TopicPublishInfo> {
    const route = await this.instance.updateRoute(topic, (defaultRoute) =>
      routeFromDefaultTopic(defaultRoute, this.defaultTopicQueueNums),
    );
    const queues = route ? publishQueues(topic, route) : [];
    if (queues.length === 0) {
      throw new MQClientError(
        `No route info of this topic: ${topic} (name servers ${this.instance.options.namesrvAddrs.join(';')})`,
      );
    }
    const info = new TopicPublishInfo(queues);
    this.publishInfo.set(topic, info);
    return info;
  }

  protected async brokerAddress(mq: MessageQueue): Promise<string> {
    let addr = this.instance.masterAddress(mq.brokerName);
    if (!addr) {
      const route = await this.instance.updateRoute(mq.topic);
      addr = route ? masterAddress(route, mq.brokerName) : undefined;
    }
    if (!addr) throw new MQClientError(`The broker[${mq.brokerName}] not exist`);
    return addr;
  }

  private buildSendCommand(p: PreparedMessage, mq: MessageQueue, batch: boolean): RemotingCommand {
    let encodedProperties = p.encodedProperties;
    let reconsumeTimes: number | undefined;
    let maxReconsumeTimes: number | undefined;
    if (mq.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
      // Retry sends move two properties into header fields, so they need their own encoding.
      const properties = { ...p.properties };
      if (properties[MessageProperty.RECONSUME_TIME] !== undefined) {
        reconsumeTimes = Number(properties[MessageProperty.RECONSUME_TIME]);
        delete properties[MessageProperty.RECONSUME_TIME];
      }
      if (properties[MessageProperty.MAX_RECONSUME_TIMES] !== undefined) {
        maxReconsumeTimes = Number(properties[MessageProperty.MAX_RECONSUME_TIMES]);
        delete properties[MessageProperty.MAX_RECONSUME_TIMES];
      }
      encodedProperties = encodeProperties(properties);
    }
    const v1: Record<string, HeaderValue> = {
      producerGroup: this.group,
      topic: mq.topic,
      defaultTopic: AUTO_CREATE_TOPIC_KEY,
      defaultTopicQueueNums: this.defaultTopicQueueNums,
      queueId: mq.queueId,
      sysFlag: p.sysFlag,
      bornTimestamp: Date.now(),
      flag: p.flag,
      properties: encodedProperties,
      reconsumeTimes: reconsumeTimes ?? 0,
      unitMode: false,
      maxReconsumeTimes,
      batch,
    };
    const useV2 = this.smart || batch;
    const header: Record<string, HeaderValue> = useV2
      ? {
          a: v1.producerGroup,
          b: v1.topic,
          c: v1.defaultTopic,
          d: v1.defaultTopicQueueNums,
          e: v1.queueId,
          f: v1.sysFlag,
          g: v1.bornTimestamp,
          h: v1.flag,
          i: v1.properties,
          j: v1.reconsumeTimes,
          k: v1.unitMode,
          l: v1.maxReconsumeTimes,
          m: v1.batch,
        }
      : v1;
    const code = batch
      ? BrokerRequestCode.SEND_BATCH_MESSAGE
      : useV2
        ? BrokerRequestCode.SEND_MESSAGE_V2
        : BrokerRequestCode.SEND_MESSAGE;
    return createRequest(code, { extFields: encodeHeader(header), body: p.body });
  }

  private async sendToResolvedQueue(
    p: PreparedMessage,
    mq: MessageQueue,
    timeoutMs: number,
  ): Promise<SendResult> {
    const addr = await this.brokerAddress(mq);
    const command = this.buildSendCommand(p, mq, false);
    const response = await this.instance.remoting.invoke(addr, command, timeoutMs);
    return this.instance.api.toSendResult(addr, response, mq, p.uniqKey);
  }

  private async sendWithRetries(
    p: PreparedMessage,
    attempts: number,
    retryOnBrokerCodes: boolean,
    timeoutMs: number,
    batch = false,
  ): Promise<SendResult> {
    const started = Date.now();
    const info = await this.findPublishInfo(p.topic);
    let lastBrokerName: string | undefined;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const remaining = timeoutMs - (Date.now() - started);
      if (remaining <= 0) break;
      const mq = info.select(lastBrokerName);
      lastBrokerName = mq.brokerName;
      try {
        const addr = await this.brokerAddress(mq);
        const command = this.buildSendCommand(p, mq, batch);
        const response = await this.instance.remoting.invoke(addr, command, remaining);
        return this.instance.api.toSendResult(addr, response, mq, p.uniqKey);
      } catch (err) {
        lastError = err;
        if (err instanceof RemotingError) continue;
        if (err instanceof MQBrokerError && retryOnBrokerCodes && RETRY_RESPONSE_CODES.has(err.code))
          continue;
        throw err;
      }
    }
    if (lastError === undefined) {
      throw new MQClientError(
        `send to ${p.topic} timed out after ${timeoutMs} ms before an attempt could be made`,
      );
    }
    throw lastError;
  }
}
