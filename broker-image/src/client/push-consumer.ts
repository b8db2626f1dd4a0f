// Push consumer, clustering mode, concurrent listener (protocol.md §8.3–§8.6): rebalance by
// average allocation, long-polling pull loop per assigned queue, client-side flow control, offset
// commits every 5 s and on rebalance/shutdown, retry via CONSUMER_SEND_MSG_BACK or locally.

import { ResponseCode } from '../protocol/index.js';
import { type AllocateStrategy, allocateAveragely, allocateQueues } from './allocate.js';
import { type HeartbeatData, PullSysFlag } from './client-api.js';
import { ClientInstance, type ClientMember, type PeriodicTask } from './client-instance.js';
import { Semaphore, sleep } from './concurrency.js';
import { MQBrokerError, MQClientError } from './errors.js';
import {
  type MessageExt,
  MessageProperty,
  type MessageQueue,
  messageQueueKey,
  retryTopic,
  sameMessageQueue,
} from './message.js';
import { decodeMessages } from './message-decoder.js';
import { RemoteOffsetStore } from './offset-store.js';
import type { ClientOptions } from './options.js';
import { ProcessQueue } from './process-queue.js';
import { subscribeQueues, type TopicRouteData } from './route.js';
import { type ConsumeFromWhere, computeStartOffset } from './start-offset.js';
import { buildSubscription, matchesTags, type SubscriptionData } from './subscription.js';

/** Listener verdicts. In async listeners return `ConsumeStatus.CONSUME_SUCCESS` (TypeScript widens bare string literals there). */
export const ConsumeStatus = {
  CONSUME_SUCCESS: 'CONSUME_SUCCESS',
  RECONSUME_LATER: 'RECONSUME_LATER',
} as const;
export type ConsumeStatus = (typeof ConsumeStatus)[keyof typeof ConsumeStatus];

export interface ConsumeContext {
  readonly messageQueue: MessageQueue;
  /** Delay level for the retry when returning RECONSUME_LATER; 0 lets the broker choose (3 + reconsumeTimes). */
  delayLevelWhenNextConsume: number;
}

/**
 * Handles a batch (size ≤ consumeMessageBatchMaxSize). Return (or resolve) CONSUME_SUCCESS or
 * RECONSUME_LATER; returning nothing counts as success, throwing as RECONSUME_LATER.
 */
export type MessageListener = (
  msgs: MessageExt[],
  context: ConsumeContext,
) => ConsumeStatus | undefined | Promise<ConsumeStatus | undefined>;

export interface PushConsumerOptions extends ClientOptions {
  consumerGroup: string;
  /** Where a queue with no committed offset starts (§8.4). Default CONSUME_FROM_LAST_OFFSET. */
  consumeFromWhere?: ConsumeFromWhere;
  /** For CONSUME_FROM_TIMESTAMP: epoch ms, or `yyyyMMddHHmmss` local time. Default 30 minutes before start. */
  consumeTimestamp?: number | string;
  /** Messages per pull. Default 32. */
  pullBatchSize?: number;
  /** Messages per listener call. Default 1. */
  consumeMessageBatchMaxSize?: number;
  /** Listener calls in flight at once across all queues. Default 20. */
  consumeConcurrency?: number;
  /** Flow control: cached messages per queue before pulls pause. Default 1000. */
  pullThresholdForQueue?: number;
  /** Flow control: cached body bytes per queue before pulls pause. Default 100 MiB. */
  pullThresholdSizeForQueue?: number;
  /** Flow control: offset span of cached messages per queue before pulls pause. Default 2000. */
  consumeConcurrentlyMaxSpan?: number;
  /** Retries before the broker moves a message to the DLQ. Default 16. */
  maxReconsumeTimes?: number;
  /** Long-poll hold the broker may apply to a pull, ms. Default 15 000. */
  brokerSuspendMaxTimeMillis?: number;
  /** Client timeout of a long-polled pull, ms. Default 30 000. */
  consumerTimeoutMillisWhenSuspend?: number;
  /** Send the subscription with every pull (sysFlag 4) instead of relying on the heartbeat. Default false. */
  postSubscriptionWhenPull?: boolean;
  /** Pause between pulls of one queue, ms. Default 0. */
  pullIntervalMs?: number;
  /** How long shutdown waits for running listener calls, ms. Default 10 000. */
  awaitTerminationMillisWhenShutdown?: number;
  allocateStrategy?: AllocateStrategy;
}

export interface QueueStats {
  messageQueue: MessageQueue;
  cachedCount: number;
  cachedSize: number;
  nextOffset: number;
  /** Offset that the next commit writes (undefined before the first one). */
  committedOffset: number | undefined;
}

interface QueueTask {
  mq: MessageQueue;
  pq: ProcessQueue;
  nextOffset: number;
  /** Listener calls in progress for this queue. */
  inFlight: number;
  loop?: Promise<void>;
}

const PULL_DELAY_ON_ERROR_MS = 3_000;
const PULL_DELAY_ON_FLOW_CONTROL_MS = 50;
const PULL_DELAY_ON_BROKER_FLOW_CONTROL_MS = 20;
const LOCAL_RETRY_DELAY_MS = 5_000;
const OFFSET_MOVED_DELAY_MS = 10_000;

/** `yyyyMMddHHmmss` in local time → epoch ms. */
export function parseConsumeTimestamp(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value);
  if (!m) throw new MQClientError(`consumeTimestamp "${value}" is not yyyyMMddHHmmss`);
  const [, y, mo, d, h, mi, s] = m.map(Number);
  return new Date(y, mo - 1, d, h, mi, s).getTime();
}

export class PushConsumer implements ClientMember {
  readonly group: string;
  readonly needsAllBrokers = true;
  private readonly instance: ClientInstance;
  private readonly offsetStore: RemoteOffsetStore;
  private readonly subscriptions = new Map<string, SubscriptionData>();
  private readonly tasks = new Map<string, QueueTask>();
  private readonly consumeSlots: Semaphore;
  private readonly running = new Set<Promise<void>>();
  private readonly stopSignal = new AbortController();
  private listener: MessageListener | undefined;
  private rebalanceTask: PeriodicTask | undefined;
  private stopping: Promise<void> | undefined;
  private state: 'created' | 'running' | 'stopping' | 'stopped' = 'created';
  private readonly consumeFromWhere: ConsumeFromWhere;
  private readonly consumeTimestamp: number;
  private readonly pullBatchSize: number;
  private readonly batchMax: number;
  private readonly thresholdCount: number;
  private readonly thresholdSize: number;
  private readonly maxSpan: number;
  private readonly maxReconsumeTimes: number;
  private readonly suspendMs: number;
  private readonly pullTimeoutMs: number;
  private readonly postSubscription: boolean;
  private readonly pullIntervalMs: number;
  private readonly awaitTerminationMs: number;
  private readonly strategy: AllocateStrategy;

  constructor(options: PushConsumerOptions) {
    if (!options?.consumerGroup) throw new MQClientError('consumerGroup is required');
    if (!/^[%|a-zA-Z0-9_-]{1,255}$/.test(options.consumerGroup)) {
      throw new MQClientError(`consumerGroup "${options.consumerGroup}" contains illegal characters`);
    }
    this.group = options.consumerGroup;
    this.consumeFromWhere = options.consumeFromWhere ?? 'CONSUME_FROM_LAST_OFFSET';
    this.consumeTimestamp = parseConsumeTimestamp(options.consumeTimestamp ?? Date.now() - 30 * 60_000);
    this.pullBatchSize = options.pullBatchSize ?? 32;
    this.batchMax = options.consumeMessageBatchMaxSize ?? 1;
    this.thresholdCount = options.pullThresholdForQueue ?? 1000;
    this.thresholdSize = options.pullThresholdSizeForQueue ?? 100 * 1024 * 1024;
    this.maxSpan = options.consumeConcurrentlyMaxSpan ?? 2000;
    this.maxReconsumeTimes = options.maxReconsumeTimes ?? 16;
    this.suspendMs = options.brokerSuspendMaxTimeMillis ?? 15_000;
    this.pullTimeoutMs = options.consumerTimeoutMillisWhenSuspend ?? 30_000;
    this.postSubscription = options.postSubscriptionWhenPull ?? false;
    this.pullIntervalMs = options.pullIntervalMs ?? 0;
    this.awaitTerminationMs = options.awaitTerminationMillisWhenShutdown ?? 10_000;
    this.strategy = options.allocateStrategy ?? allocateAveragely;
    this.consumeSlots = new Semaphore(options.consumeConcurrency ?? 20);
    this.instance = new ClientInstance(options);
    this.instance.register(this);
    const api = this.instance.api;
    const timeout = this.instance.options.requestTimeoutMs;
    this.offsetStore = new RemoteOffsetStore({
      query: async (mq) => api.queryConsumerOffset(await this.addressFor(mq), this.group, mq, timeout),
      update: async (mq, offset, oneway) =>
        api.updateConsumerOffset(await this.addressFor(mq), this.group, mq, offset, oneway, timeout),
    });
  }

  get clientId(): string {
    return this.instance.clientId;
  }

  /** Subscribes to `topic` with a tag expression ("*", "TagA || TagB"). Call before start(). */
  subscribe(topic: string, expression = '*'): void {
    if (this.state !== 'created') throw new MQClientError('subscribe before start()');
    this.subscriptions.set(topic, buildSubscription(topic, expression, Date.now()));
  }

  registerMessageListener(listener: MessageListener): void {
    this.listener = listener;
  }

  /** Queues currently assigned to this consumer. */
  assignedQueues(): MessageQueue[] {
    return [...this.tasks.values()].map((t) => t.mq);
  }

  /** Per assigned queue: cached (pulled, not yet consumed) messages and bytes, and the next pull offset. */
  queueStats(): QueueStats[] {
    return [...this.tasks.values()].map((t) => ({
      messageQueue: t.mq,
      cachedCount: t.pq.cachedCount,
      cachedSize: t.pq.cachedSize,
      nextOffset: t.nextOffset,
      committedOffset: this.offsetStore.readMemory(t.mq),
    }));
  }

  async start(): Promise<void> {
    if (this.state !== 'created')
      throw new MQClientError(`consumer is ${this.state}; it can be started once`);
    if (!this.listener) throw new MQClientError('registerMessageListener before start()');
    if (this.subscriptions.size === 0)
      throw new MQClientError('subscribe to at least one topic before start()');
    const retry = retryTopic(this.group);
    this.subscriptions.set(retry, buildSubscription(retry, '*', Date.now()));
    this.state = 'running';
    for (const topic of this.subscriptions.keys()) {
      try {
        await this.instance.updateRoute(topic);
      } catch (err) {
        this.instance.logger.warn('route lookup failed at start', { topic, error: (err as Error).message });
      }
    }
    this.instance.start();
    await this.instance.sendHeartbeatToAllBrokers();
    this.rebalanceTask = this.instance.createTask(
      'rebalance',
      this.instance.options.rebalanceIntervalMs,
      () => this.rebalance(),
      0,
    );
  }

  /** Stops pulling, waits for running listener calls, commits offsets, leaves the group. */
  shutdown(): Promise<void> {
    if (!this.stopping) {
      if (this.state === 'running') this.stopping = this.stop();
      else {
        this.state = 'stopped';
        this.stopping = Promise.resolve();
      }
    }
    return this.stopping;
  }

  private async stop(): Promise<void> {
    this.state = 'stopping';
    // Mark queues dropped before yielding, so no listener call starts after shutdown() was called.
    for (const task of this.tasks.values()) task.pq.dropped = true;
    this.stopSignal.abort();
    await this.rebalanceTask?.stop();
    const waited = new AbortController();
    await Promise.race([
      Promise.allSettled([...this.running]),
      sleep(this.awaitTerminationMs, waited.signal),
    ]);
    waited.abort();
    await this.persistOffsets(false);
    const timeout = this.instance.options.requestTimeoutMs;
    await Promise.all(
      this.instance
        .allBrokerAddresses(false)
        .map((addr) =>
          this.instance.api
            .unregisterClient(addr, this.instance.clientId, { consumerGroup: this.group }, timeout)
            .catch(() => {}),
        ),
    );
    this.state = 'stopped';
    this.instance.unregister(this);
    await this.instance.shutdown();
    await Promise.allSettled([...this.tasks.values()].map((t) => t.loop));
    this.tasks.clear();
  }

  // ---- ClientMember ----

  topics(): string[] {
    return [...this.subscriptions.keys()];
  }

  fillHeartbeat(data: HeartbeatData): void {
    data.consumerDataSet.push({
      groupName: this.group,
      consumeType: 'CONSUME_PASSIVELY',
      messageModel: 'CLUSTERING',
      consumeFromWhere: this.consumeFromWhere,
      subscriptionDataSet: [...this.subscriptions.values()],
      unitMode: false,
    });
  }

  onConsumerIdsChanged(group: string): void {
    if (group === this.group) this.rebalanceTask?.trigger();
  }

  onRouteChanged(topic: string, _route: TopicRouteData): void {
    if (this.subscriptions.has(topic)) this.rebalanceTask?.trigger();
  }

  async persistOffsets(oneway = true): Promise<void> {
    const mqs = [...this.tasks.values()].map((t) => t.mq);
    const errors = await this.offsetStore.persistAll(mqs, oneway);
    for (const err of errors)
      this.instance.logger.warn('offset commit failed', { group: this.group, error: err.message });
  }

  // ---- rebalance ----

  async rebalance(): Promise<void> {
    if (this.state !== 'running') return;
    for (const sub of this.subscriptions.values()) {
      if (this.state !== 'running') return;
      try {
        await this.rebalanceTopic(sub.topic);
      } catch (err) {
        this.instance.logger.warn('rebalance failed', {
          group: this.group,
          topic: sub.topic,
          error: (err as Error).message,
        });
      }
    }
  }

  private async rebalanceTopic(topic: string): Promise<void> {
    const route = this.instance.route(topic) ?? (await this.instance.updateRoute(topic));
    if (!route) return;
    const mqAll = subscribeQueues(topic, route);
    const addr = this.instance.brokerForTopic(topic);
    if (!addr) return;
    let cidAll: string[];
    try {
      cidAll = await this.instance.api.getConsumerIdList(
        addr,
        this.group,
        this.instance.options.requestTimeoutMs,
      );
    } catch (err) {
      this.instance.logger.warn('consumer list unavailable; skipping rebalance', {
        topic,
        error: (err as Error).message,
      });
      return;
    }
    if (cidAll.length === 0 || mqAll.length === 0) return;
    const allocated = allocateQueues(this.instance.clientId, mqAll, cidAll, this.strategy);
    await this.applyAssignment(topic, allocated);
  }

  private async applyAssignment(topic: string, allocated: MessageQueue[]): Promise<void> {
    const removals: Promise<void>[] = [];
    for (const [key, task] of this.tasks) {
      if (task.mq.topic !== topic) continue;
      if (allocated.some((mq) => sameMessageQueue(mq, task.mq))) continue;
      this.tasks.delete(key);
      removals.push(this.releaseQueue(task));
    }
    await Promise.all(removals);
    for (const mq of allocated) {
      const key = messageQueueKey(mq);
      if (this.tasks.has(key) || this.state !== 'running') continue;
      this.offsetStore.remove(mq);
      const offset = await this.startOffset(mq);
      if (offset === undefined || this.state !== 'running' || this.tasks.has(key)) continue;
      const task: QueueTask = { mq, pq: new ProcessQueue(), nextOffset: offset, inFlight: 0 };
      this.offsetStore.update(mq, offset, false);
      this.tasks.set(key, task);
      task.loop = this.pullLoop(task);
    }
  }

  /** Stops a queue we no longer own: let running listener calls finish briefly, then commit. */
  private async releaseQueue(task: QueueTask): Promise<void> {
    task.pq.dropped = true;
    const deadline = Date.now() + 3_000;
    while (task.inFlight > 0 && Date.now() < deadline) await sleep(10);
    try {
      await this.offsetStore.persist(task.mq, false);
    } catch (err) {
      this.instance.logger.warn('offset commit on rebalance failed', {
        mq: task.mq,
        error: (err as Error).message,
      });
    }
    this.offsetStore.remove(task.mq);
  }

  /** protocol.md §8.4. Undefined means "skip this queue this round". */
  private async startOffset(mq: MessageQueue): Promise<number | undefined> {
    const api = this.instance.api;
    const timeout = this.instance.options.requestTimeoutMs;
    try {
      return await computeStartOffset(mq, this.consumeFromWhere, this.consumeTimestamp, {
        committed: (q) => this.offsetStore.readStore(q),
        maxOffset: async (q) => api.getMaxOffset(await this.addressFor(q), q, timeout),
        searchOffset: async (q, ts) => api.searchOffset(await this.addressFor(q), q, ts, timeout),
      });
    } catch (err) {
      this.instance.logger.warn('cannot compute start offset; will retry at next rebalance', {
        mq,
        error: (err as Error).message,
      });
      return undefined;
    }
  }

  private async addressFor(mq: MessageQueue): Promise<string> {
    let addr = this.instance.anyAddress(mq.brokerName);
    if (!addr) {
      await this.instance.updateRoute(mq.topic);
      addr = this.instance.anyAddress(mq.brokerName);
    }
    if (!addr) throw new MQClientError(`The broker[${mq.brokerName}] not exist`);
    return addr;
  }

  // ---- pulling ----

  private async pullLoop(task: QueueTask): Promise<void> {
    const signal = this.stopSignal.signal;
    const { mq, pq } = task;
    while (!pq.dropped && this.state === 'running') {
      if (
        pq.cachedCount > this.thresholdCount ||
        pq.cachedSize > this.thresholdSize ||
        pq.offsetSpan > this.maxSpan
      ) {
        await sleep(PULL_DELAY_ON_FLOW_CONTROL_MS, signal);
        continue;
      }
      const sub = this.subscriptions.get(mq.topic);
      if (!sub) return;
      const commitOffset = this.offsetStore.readMemory(mq) ?? 0;
      let delay = 0;
      try {
        const addr = await this.addressFor(mq);
        pq.lastPullTimestamp = Date.now();
        const result = await this.instance.api.pullMessage(
          addr,
          {
            consumerGroup: this.group,
            topic: mq.topic,
            queueId: mq.queueId,
            queueOffset: task.nextOffset,
            maxMsgNums: this.pullBatchSize,
            sysFlag:
              (commitOffset > 0 ? PullSysFlag.COMMIT_OFFSET : 0) |
              PullSysFlag.SUSPEND |
              (this.postSubscription ? PullSysFlag.SUBSCRIPTION : 0),
            commitOffset,
            suspendTimeoutMillis: this.suspendMs,
            subscription: this.postSubscription ? sub.subString : undefined,
            subVersion: sub.subVersion,
            expressionType: 'TAG',
          },
          this.pullTimeoutMs,
        );
        if (pq.dropped) return;
        switch (result.status) {
          case 'FOUND': {
            task.nextOffset = result.nextBeginOffset;
            const msgs = this.prepareMessages(
              decodeMessages(result.body ?? Buffer.alloc(0)),
              sub,
              mq,
              result,
            );
            if (msgs.length > 0) {
              pq.putMessages(msgs);
              this.dispatch(task, msgs);
            }
            break;
          }
          case 'NO_NEW_MSG':
          case 'NO_MATCHED_MSG':
            task.nextOffset = result.nextBeginOffset;
            if (pq.cachedCount === 0) this.offsetStore.update(mq, result.nextBeginOffset, true);
            break;
          case 'OFFSET_ILLEGAL':
            this.instance.logger.warn('pull offset moved', {
              mq,
              from: task.nextOffset,
              to: result.nextBeginOffset,
            });
            pq.dropped = true;
            await this.handleOffsetMoved(task, result.nextBeginOffset);
            return;
        }
        delay = this.pullIntervalMs;
      } catch (err) {
        if (pq.dropped || this.state !== 'running') return;
        // A restarted broker does not know this group until it hears a heartbeat again.
        if (
          err instanceof MQBrokerError &&
          (err.code === ResponseCode.SUBSCRIPTION_NOT_EXIST ||
            err.code === ResponseCode.SUBSCRIPTION_NOT_LATEST)
        ) {
          this.instance.triggerHeartbeat();
        }
        delay =
          err instanceof MQBrokerError && err.code === ResponseCode.FLOW_CONTROL
            ? PULL_DELAY_ON_BROKER_FLOW_CONTROL_MS
            : PULL_DELAY_ON_ERROR_MS;
        this.instance.logger.warn('pull failed', {
          mq,
          offset: task.nextOffset,
          error: (err as Error).message,
        });
      }
      if (delay > 0) await sleep(delay, signal);
    }
  }

  private async handleOffsetMoved(task: QueueTask, nextOffset: number): Promise<void> {
    await sleep(OFFSET_MOVED_DELAY_MS, this.stopSignal.signal);
    if (this.state !== 'running') return;
    this.offsetStore.update(task.mq, nextOffset, false);
    try {
      await this.offsetStore.persist(task.mq, false);
    } catch (err) {
      this.instance.logger.warn('offset commit after offset moved failed', {
        mq: task.mq,
        error: (err as Error).message,
      });
    }
    const key = messageQueueKey(task.mq);
    if (this.tasks.get(key) === task) this.tasks.delete(key);
    this.offsetStore.remove(task.mq);
    this.rebalanceTask?.trigger();
  }

  private prepareMessages(
    decoded: MessageExt[],
    sub: SubscriptionData,
    mq: MessageQueue,
    result: { minOffset: number; maxOffset: number },
  ): MessageExt[] {
    const retry = retryTopic(this.group);
    const out: MessageExt[] = [];
    for (const msg of decoded) {
      if (!matchesTags(sub, msg.tags)) continue;
      msg.brokerName = mq.brokerName;
      msg.properties[MessageProperty.MIN_OFFSET] = String(result.minOffset);
      msg.properties[MessageProperty.MAX_OFFSET] = String(result.maxOffset);
      const original = msg.properties[MessageProperty.RETRY_TOPIC];
      if (original && msg.topic === retry) msg.topic = original;
      out.push(msg);
    }
    return out;
  }

  // ---- consuming ----

  private dispatch(task: QueueTask, msgs: MessageExt[]): void {
    for (let i = 0; i < msgs.length; i += this.batchMax) {
      this.track(this.consume(task, msgs.slice(i, i + this.batchMax)));
    }
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    p.finally(() => this.running.delete(p));
  }

  private async consume(task: QueueTask, msgs: MessageExt[]): Promise<void> {
    await this.consumeSlots.acquire();
    let status: ConsumeStatus = 'RECONSUME_LATER';
    const context: ConsumeContext = { messageQueue: task.mq, delayLevelWhenNextConsume: 0 };
    try {
      // A queue given away, or a consumer shutting down, leaves unstarted messages to the next owner.
      if (task.pq.dropped) return;
      task.inFlight++;
      const now = String(Date.now());
      for (const m of msgs) m.properties[MessageProperty.CONSUME_START_TIME] = now;
      try {
        status = (await this.listener!(msgs, context)) ?? 'CONSUME_SUCCESS';
        if (status !== 'CONSUME_SUCCESS' && status !== 'RECONSUME_LATER') status = 'RECONSUME_LATER';
      } catch (err) {
        this.instance.logger.warn('message listener threw; will retry', {
          group: this.group,
          error: (err as Error).message,
        });
        status = 'RECONSUME_LATER';
      }
    } finally {
      this.consumeSlots.release();
    }
    try {
      let localRetry: MessageExt[] = [];
      if (status === 'RECONSUME_LATER')
        localRetry = await this.sendBack(msgs, context.delayLevelWhenNextConsume);
      const done = msgs.filter((m) => !localRetry.includes(m));
      const offset = task.pq.removeMessages(done);
      if (offset >= 0) this.offsetStore.update(task.mq, offset, true);
      if (localRetry.length > 0 && this.state === 'running') {
        for (const m of localRetry) m.reconsumeTimes++;
        this.track(
          sleep(LOCAL_RETRY_DELAY_MS, this.stopSignal.signal).then(() => {
            if (this.state === 'running' && !task.pq.dropped) return this.consume(task, localRetry);
          }),
        );
      }
    } finally {
      task.inFlight--;
    }
  }

  /** Sends failed messages back to the broker; returns those that must be retried locally. */
  private async sendBack(msgs: MessageExt[], delayLevel: number): Promise<MessageExt[]> {
    const failed: MessageExt[] = [];
    for (const msg of msgs) {
      try {
        const addr = this.instance.anyAddress(msg.brokerName) ?? msg.storeHost;
        await this.instance.api.consumerSendMessageBack(
          addr,
          {
            offset: msg.commitLogOffset,
            group: this.group,
            delayLevel,
            originMsgId: msg.msgId,
            originTopic: msg.topic,
            maxReconsumeTimes: this.maxReconsumeTimes,
          },
          5_000,
        );
      } catch (err) {
        this.instance.logger.warn('send-back failed; retrying locally', {
          msgId: msg.msgId,
          error: (err as Error).message,
        });
        failed.push(msg);
      }
    }
    return failed;
  }
}
