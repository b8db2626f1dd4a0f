// Push consumer (protocol.md §8.3–§8.6): rebalance by average allocation (clustering) or every
// queue (broadcasting), long-polling pull loop per assigned queue, client-side flow control, offset
// commits every 5 s and on rebalance/shutdown (to the broker, or a local file when broadcasting).
// Listeners are concurrent (retry via CONSUMER_SEND_MSG_BACK) or orderly (queue locks on the
// broker, one batch of a queue at a time, local retries, DLQ after the limit). Answers the
// broker's RESET_CONSUMER_CLIENT_OFFSET and GET_CONSUMER_RUNNING_INFO.

import { ResponseCode } from '../protocol/index.js';
import { type AllocateStrategy, allocateAveragely, allocateQueues } from './allocate.js';
import { type HeartbeatData, PullSysFlag } from './client-api.js';
import { ClientInstance, type ClientMember, type PeriodicTask } from './client-instance.js';
import { Semaphore, sleep } from './concurrency.js';
import { OrderlyConsumeService, type OrderlyHost } from './consume-orderly.js';
import {
  ConcurrentConsumeService,
  type ConsumeService,
  type QueueTask,
  sendMessageBack,
} from './consume-service.js';
import { MQBrokerError, MQClientError } from './errors.js';
import type { MessageListener, MessageListenerOrderly } from './listener.js';
import {
  defaultLocalOffsetStoreDir,
  LocalFileOffsetStore,
  localOffsetFilePath,
} from './local-offset-store.js';
import {
  type MessageExt,
  MessageProperty,
  type MessageQueue,
  messageQueueKey,
  retryTopic,
  sameMessageQueue,
} from './message.js';
import { decodeMessages } from './message-decoder.js';
import { type OffsetStore, RemoteOffsetStore } from './offset-store.js';
import type { ClientOptions } from './options.js';
import { ProcessQueue } from './process-queue.js';
import { LOCK_INTERVAL_MS, QueueLocker } from './queue-locks.js';
import { subscribeQueues, type TopicRouteData } from './route.js';
import { encodeConsumerRunningInfo } from './running-info.js';
import { type ConsumeFromWhere, computeStartOffset } from './start-offset.js';
import { buildSubscription, matchesTags, type SubscriptionData } from './subscription.js';

export type MessageModel = 'CLUSTERING' | 'BROADCASTING';

export interface PushConsumerOptions extends ClientOptions {
  consumerGroup: string;
  /**
   * CLUSTERING (default): the group shares the queues, offsets live on the broker. BROADCASTING:
   * every consumer gets every message, offsets live in a local file, failures are not retried.
   */
  messageModel?: MessageModel;
  /** Broadcasting: root of the offset files (`<dir>/<clientId>/<group>/offsets.json`). Default ~/.rocketmq_offsets. */
  localOffsetStoreDir?: string;
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
  /**
   * Retries before a message goes to the DLQ. Default (or -1): 16 for concurrent listeners (the
   * broker counts), unlimited (2147483647) for orderly ones (the client counts), as in RocketMQ.
   */
  maxReconsumeTimes?: number;
  /** Orderly: pause of a queue after a failed batch, ms. Default 1 000. */
  suspendCurrentQueueTimeMillis?: number;
  /** Orderly, clustering: how often the queue locks are renewed, ms. Default 20 000. */
  lockIntervalMs?: number;
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

const PULL_DELAY_ON_ERROR_MS = 3_000;
const PULL_DELAY_ON_FLOW_CONTROL_MS = 50;
const PULL_DELAY_ON_BROKER_FLOW_CONTROL_MS = 20;
const PULL_DELAY_WHEN_NOT_LOCKED_MS = 3_000;
const OFFSET_MOVED_DELAY_MS = 10_000;
const INT_MAX = 2_147_483_647;
const REBALANCE_RELEASE_WAIT_MS = 3_000;

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
  readonly messageModel: MessageModel;
  private readonly instance: ClientInstance;
  private readonly offsetStore: OffsetStore;
  private readonly subscriptions = new Map<string, SubscriptionData>();
  private readonly tasks = new Map<string, QueueTask>();
  private readonly consumeSlots: Semaphore;
  private readonly running = new Set<Promise<void>>();
  private readonly stopSignal = new AbortController();
  private readonly locker: QueueLocker;
  private listener: MessageListener | undefined;
  private orderlyListener: MessageListenerOrderly | undefined;
  private service: ConsumeService | undefined;
  private rebalanceTask: PeriodicTask | undefined;
  private lockTask: PeriodicTask | undefined;
  /** Offset resets from the broker, applied by the rebalance task so they never race a rebalance. */
  private pendingResets: { topic: string; offsets: Map<string, { mq: MessageQueue; offset: number }> }[] = [];
  private stopping: Promise<void> | undefined;
  private state: 'created' | 'running' | 'stopping' | 'stopped' = 'created';
  private startTimestamp = 0;
  private readonly consumeFromWhere: ConsumeFromWhere;
  private readonly consumeTimestamp: number;
  private readonly pullBatchSize: number;
  private readonly batchMax: number;
  private readonly thresholdCount: number;
  private readonly thresholdSize: number;
  private readonly maxSpan: number;
  private readonly configuredMaxReconsumeTimes: number;
  private readonly suspendCurrentQueueMs: number;
  private readonly lockIntervalMs: number;
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
    const model = options.messageModel ?? 'CLUSTERING';
    if (model !== 'CLUSTERING' && model !== 'BROADCASTING') {
      throw new MQClientError(`messageModel must be CLUSTERING or BROADCASTING, got "${String(model)}"`);
    }
    this.group = options.consumerGroup;
    this.messageModel = model;
    this.consumeFromWhere = options.consumeFromWhere ?? 'CONSUME_FROM_LAST_OFFSET';
    this.consumeTimestamp = parseConsumeTimestamp(options.consumeTimestamp ?? Date.now() - 30 * 60_000);
    this.pullBatchSize = options.pullBatchSize ?? 32;
    this.batchMax = options.consumeMessageBatchMaxSize ?? 1;
    this.thresholdCount = options.pullThresholdForQueue ?? 1000;
    this.thresholdSize = options.pullThresholdSizeForQueue ?? 100 * 1024 * 1024;
    this.maxSpan = options.consumeConcurrentlyMaxSpan ?? 2000;
    this.configuredMaxReconsumeTimes = options.maxReconsumeTimes ?? -1;
    if (!Number.isInteger(this.configuredMaxReconsumeTimes) || this.configuredMaxReconsumeTimes < -1) {
      throw new MQClientError(`maxReconsumeTimes must be an integer ≥ -1, got ${options.maxReconsumeTimes}`);
    }
    this.suspendCurrentQueueMs = options.suspendCurrentQueueTimeMillis ?? 1_000;
    this.lockIntervalMs = options.lockIntervalMs ?? LOCK_INTERVAL_MS;
    this.suspendMs = options.brokerSuspendMaxTimeMillis ?? 15_000;
    this.pullTimeoutMs = options.consumerTimeoutMillisWhenSuspend ?? 30_000;
    this.postSubscription = options.postSubscriptionWhenPull ?? false;
    this.pullIntervalMs = options.pullIntervalMs ?? 0;
    this.awaitTerminationMs = options.awaitTerminationMillisWhenShutdown ?? 10_000;
    this.strategy = options.allocateStrategy ?? allocateAveragely;
    this.consumeSlots = new Semaphore(options.consumeConcurrency ?? 20);
    this.instance = new ClientInstance(options);
    this.instance.register(this);
    this.locker = new QueueLocker(this.instance, this.group);
    const api = this.instance.api;
    const timeout = this.instance.options.requestTimeoutMs;
    this.offsetStore =
      model === 'BROADCASTING'
        ? new LocalFileOffsetStore(
            localOffsetFilePath(
              options.localOffsetStoreDir ?? defaultLocalOffsetStoreDir(),
              this.instance.clientId,
              this.group,
            ),
            this.instance.logger,
          )
        : new RemoteOffsetStore({
            query: async (mq) => api.queryConsumerOffset(await this.addressFor(mq), this.group, mq, timeout),
            update: async (mq, offset, oneway) =>
              api.updateConsumerOffset(await this.addressFor(mq), this.group, mq, offset, oneway, timeout),
          });
  }

  get clientId(): string {
    return this.instance.clientId;
  }

  /** Broadcasting: the file that holds this consumer's offsets. */
  get localOffsetFile(): string | undefined {
    return this.offsetStore instanceof LocalFileOffsetStore ? this.offsetStore.filePath : undefined;
  }

  /** Whether an orderly listener is registered. */
  get orderly(): boolean {
    return this.orderlyListener !== undefined;
  }

  /** Retries before the DLQ, as used now (mode default resolved). */
  get maxReconsumeTimes(): number {
    if (this.configuredMaxReconsumeTimes >= 0) return this.configuredMaxReconsumeTimes;
    return this.orderly ? INT_MAX : 16;
  }

  private get broadcasting(): boolean {
    return this.messageModel === 'BROADCASTING';
  }

  /** Orderly clustering consumers hold broker locks on their queues. */
  private get usesLocks(): boolean {
    return this.orderly && !this.broadcasting;
  }

  /** Subscribes to `topic` with a tag expression ("*", "TagA || TagB"). Call before start(). */
  subscribe(topic: string, expression = '*'): void {
    if (this.state !== 'created') throw new MQClientError('subscribe before start()');
    this.subscriptions.set(topic, buildSubscription(topic, expression, Date.now()));
  }

  /** Concurrent listener (MessageListenerConcurrently). */
  registerMessageListener(listener: MessageListener): void {
    if (this.state !== 'created') throw new MQClientError('register the listener before start()');
    this.listener = listener;
    this.orderlyListener = undefined;
  }

  /** Orderly listener (MessageListenerOrderly): per queue, one batch at a time, in queue order. */
  registerMessageListenerOrderly(listener: MessageListenerOrderly): void {
    if (this.state !== 'created') throw new MQClientError('register the listener before start()');
    this.orderlyListener = listener;
    this.listener = undefined;
  }

  /** Queues currently assigned to this consumer. */
  assignedQueues(): MessageQueue[] {
    return [...this.tasks.values()].map((t) => t.mq);
  }

  /** Assigned queues whose broker lock this consumer holds (orderly clustering). */
  lockedQueues(): MessageQueue[] {
    return [...this.tasks.values()].filter((t) => t.pq.locked && !t.pq.dropped).map((t) => t.mq);
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
    if (!this.listener && !this.orderlyListener)
      throw new MQClientError('registerMessageListener (or registerMessageListenerOrderly) before start()');
    if (this.subscriptions.size === 0)
      throw new MQClientError('subscribe to at least one topic before start()');
    if (this.offsetStore instanceof LocalFileOffsetStore) await this.offsetStore.load();
    // Only clustering consumers retry through the broker.
    if (!this.broadcasting) {
      const retry = retryTopic(this.group);
      this.subscriptions.set(retry, buildSubscription(retry, '*', Date.now()));
    }
    this.service = this.orderlyListener
      ? new OrderlyConsumeService(this.orderlyHost(), this.orderlyListener, this.suspendCurrentQueueMs)
      : new ConcurrentConsumeService(this.orderlyHost(), this.listener!);
    this.state = 'running';
    this.startTimestamp = Date.now();
    for (const topic of this.subscriptions.keys()) {
      try {
        await this.instance.updateRoute(topic);
      } catch (err) {
        this.instance.logger.warn('route lookup failed at start', { topic, error: (err as Error).message });
      }
    }
    this.instance.start();
    await this.instance.sendHeartbeatToAllBrokers();
    if (this.usesLocks) {
      this.lockTask = this.instance.createTask(
        'queue lock',
        this.lockIntervalMs,
        () => this.lockAll(),
        1_000,
      );
    }
    this.rebalanceTask = this.instance.createTask(
      'rebalance',
      this.instance.options.rebalanceIntervalMs,
      () => this.rebalance(),
      0,
    );
  }

  private orderlyHost(): OrderlyHost {
    const consumer = this;
    return {
      group: this.group,
      logger: this.instance.logger,
      offsetStore: this.offsetStore,
      broadcasting: this.broadcasting,
      get maxReconsumeTimes() {
        return consumer.maxReconsumeTimes;
      },
      batchMax: this.batchMax,
      signal: this.stopSignal.signal,
      slots: this.consumeSlots,
      isRunning: () => this.state === 'running',
      track: (p) => this.track(p),
      relock: (task) => this.relock(task),
      sendBack: (msg, delayLevel, max) => sendMessageBack(this.instance, this.group, msg, delayLevel, max),
    };
  }

  /** Stops pulling, waits for running listener calls, commits offsets, releases locks, leaves the group. */
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
    await this.lockTask?.stop();
    const waited = new AbortController();
    await Promise.race([
      Promise.allSettled([...this.running]),
      sleep(this.awaitTerminationMs, waited.signal),
    ]);
    waited.abort();
    await this.persistOffsets(false);
    // Offsets first, then the locks: the next owner must read the final offset.
    if (this.usesLocks) {
      const idle = [...this.tasks.values()].filter((t) => t.inFlight === 0).map((t) => t.mq);
      if (idle.length > 0) await this.locker.unlock(idle, false);
    }
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
      messageModel: this.messageModel,
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

  /** RESET_CONSUMER_CLIENT_OFFSET from the broker: queued for the rebalance task. */
  resetOffset(group: string, topic: string, offsets: { mq: MessageQueue; offset: number }[]): boolean {
    if (group !== this.group || this.state !== 'running') return false;
    const table = new Map<string, { mq: MessageQueue; offset: number }>();
    for (const entry of offsets) table.set(messageQueueKey(entry.mq), entry);
    this.pendingResets.push({ topic, offsets: table });
    this.rebalanceTask?.trigger();
    return true;
  }

  /** GET_CONSUMER_RUNNING_INFO body, or undefined when `group` is not ours. */
  runningInfo(group: string): Buffer | undefined {
    if (group !== this.group) return undefined;
    return encodeConsumerRunningInfo({
      properties: {
        consumerGroup: this.group,
        messageModel: this.messageModel,
        consumeFromWhere: this.consumeFromWhere,
        consumeMessageBatchMaxSize: this.batchMax,
        pullBatchSize: this.pullBatchSize,
        maxReconsumeTimes: this.maxReconsumeTimes,
        PROP_CONSUME_TYPE: 'CONSUME_PASSIVELY',
        PROP_CONSUMEORDERLY: this.orderly,
        PROP_CLIENT_VERSION: 'V4_9_8',
        PROP_CONSUMER_START_TIMESTAMP: this.startTimestamp,
        PROP_NAMESERVER_ADDR: this.instance.options.namesrvAddrs.join(';'),
        PROP_THREADPOOL_CORE_SIZE: this.consumeSlots.capacity,
      },
      subscriptions: [...this.subscriptions.values()],
      queues: [...this.tasks.values()].map((t) => {
        const range = t.pq.cachedOffsetRange();
        return {
          mq: t.mq,
          commitOffset: this.offsetStore.readMemory(t.mq) ?? -1,
          cachedMsgMinOffset: range.min,
          cachedMsgMaxOffset: range.max,
          cachedMsgCount: t.pq.cachedCount,
          cachedMsgSizeInMiB: Math.floor(t.pq.cachedSize / (1024 * 1024)),
          locked: t.pq.locked,
          lastLockTimestamp: t.pq.lastLockTimestamp,
          dropped: t.pq.dropped,
          lastPullTimestamp: t.pq.lastPullTimestamp,
          lastConsumeTimestamp: t.pq.lastConsumeTimestamp,
        };
      }),
    });
  }

  // ---- rebalance ----

  async rebalance(): Promise<void> {
    if (this.state !== 'running') return;
    await this.applyResets();
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

  /** Drops the reset queues, writes their new offsets, and lets the rebalance below re-add them. */
  private async applyResets(): Promise<void> {
    const resets = this.pendingResets;
    this.pendingResets = [];
    for (const { topic, offsets } of resets) {
      const affected: QueueTask[] = [];
      for (const [key, task] of this.tasks) {
        if (task.mq.topic !== topic || !offsets.has(key)) continue;
        task.pq.dropped = true;
        this.tasks.delete(key);
        affected.push(task);
      }
      await Promise.all(affected.map((t) => this.waitIdle(t, REBALANCE_RELEASE_WAIT_MS)));
      for (const task of affected) {
        const { offset } = offsets.get(messageQueueKey(task.mq))!;
        this.offsetStore.update(task.mq, offset, false);
        try {
          await this.offsetStore.persist(task.mq, false);
        } catch (err) {
          this.instance.logger.warn('offset reset not persisted', {
            mq: task.mq,
            error: (err as Error).message,
          });
        }
        this.offsetStore.remove(task.mq);
      }
      this.instance.logger.info('consumer offsets reset by the broker', {
        group: this.group,
        topic,
        queues: affected.length,
      });
    }
  }

  private async rebalanceTopic(topic: string): Promise<void> {
    const route = this.instance.route(topic) ?? (await this.instance.updateRoute(topic));
    if (!route) return;
    const mqAll = subscribeQueues(topic, route);
    if (this.broadcasting) {
      await this.applyAssignment(topic, mqAll);
      return;
    }
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
    let added = allocated.filter((mq) => !this.tasks.has(messageQueueKey(mq)));
    if (added.length === 0 || this.state !== 'running') return;
    // Orderly clustering: a queue is only consumed once the broker granted us its lock.
    let locks: Set<string> | undefined;
    if (this.usesLocks) {
      locks = (await this.locker.lock(added)).granted;
      added = added.filter((mq) => locks!.has(messageQueueKey(mq)));
    }
    for (const mq of added) {
      const key = messageQueueKey(mq);
      if (this.tasks.has(key) || this.state !== 'running') continue;
      this.offsetStore.remove(mq);
      const offset = await this.startOffset(mq);
      if (offset === undefined || this.state !== 'running' || this.tasks.has(key)) continue;
      const task: QueueTask = { mq, pq: new ProcessQueue(), nextOffset: offset, inFlight: 0 };
      if (locks) {
        task.pq.locked = true;
        task.pq.lastLockTimestamp = Date.now();
      }
      this.offsetStore.update(mq, offset, false);
      this.tasks.set(key, task);
      task.loop = this.pullLoop(task);
    }
  }

  /** Waits until no listener call of `task` runs, at most `maxMs`; true when idle. */
  private async waitIdle(task: QueueTask, maxMs: number): Promise<boolean> {
    const deadline = Date.now() + maxMs;
    while (task.inFlight > 0 && Date.now() < deadline) await sleep(10);
    return task.inFlight === 0;
  }

  /** Stops a queue we no longer own: let running listener calls finish, commit, then unlock. */
  private async releaseQueue(task: QueueTask): Promise<void> {
    task.pq.dropped = true;
    const idle = await this.waitIdle(task, REBALANCE_RELEASE_WAIT_MS);
    if (!idle && this.usesLocks) {
      // Still consuming: the lock stays ours until the call ends, so no one else consumes meanwhile.
      this.track(
        (async () => {
          while (task.inFlight > 0) await sleep(50);
          await this.commitAndUnlock(task);
        })(),
      );
      return;
    }
    await this.commitAndUnlock(task);
  }

  private async commitAndUnlock(task: QueueTask): Promise<void> {
    try {
      await this.offsetStore.persist(task.mq, false);
    } catch (err) {
      this.instance.logger.warn('offset commit on rebalance failed', {
        mq: task.mq,
        error: (err as Error).message,
      });
    }
    this.offsetStore.remove(task.mq);
    if (this.usesLocks) await this.locker.unlock([task.mq], false);
  }

  // ---- orderly locks ----

  /** Renews the locks of every assigned queue (every lockIntervalMs). */
  private async lockAll(): Promise<void> {
    if (this.state !== 'running') return;
    const live = [...this.tasks.values()].filter((t) => !t.pq.dropped);
    if (live.length === 0) return;
    const outcome = await this.locker.lock(live.map((t) => t.mq));
    const now = Date.now();
    for (const task of live) {
      const key = messageQueueKey(task.mq);
      if (outcome.granted.has(key)) {
        const regained = !task.pq.locked;
        task.pq.locked = true;
        task.pq.lastLockTimestamp = now;
        if (regained && task.pq.cachedCount > 0) this.service?.submit(task, []);
      } else if (outcome.answered.has(key)) {
        task.pq.locked = false;
      }
    }
  }

  /** Takes the lock of one queue again (after it was lost or expired). */
  private async relock(task: QueueTask): Promise<boolean> {
    if (!this.usesLocks) return true;
    const outcome = await this.locker.lock([task.mq]);
    const key = messageQueueKey(task.mq);
    if (outcome.granted.has(key)) {
      task.pq.locked = true;
      task.pq.lastLockTimestamp = Date.now();
      return true;
    }
    if (outcome.answered.has(key)) task.pq.locked = false;
    return false;
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
        (!this.orderly && pq.offsetSpan > this.maxSpan)
      ) {
        await sleep(PULL_DELAY_ON_FLOW_CONTROL_MS, signal);
        continue;
      }
      if (this.usesLocks && !pq.locked) {
        await sleep(PULL_DELAY_WHEN_NOT_LOCKED_MS, signal);
        continue;
      }
      const sub = this.subscriptions.get(mq.topic);
      if (!sub) return;
      const commitOffset = this.broadcasting ? 0 : (this.offsetStore.readMemory(mq) ?? 0);
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
              this.service!.submit(task, msgs);
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

  private track(p: Promise<void>): void {
    this.running.add(p);
    p.finally(() => this.running.delete(p));
  }
}
