// The single writer: validates and encodes appends as they arrive, then writes everything that
// arrived during one event-loop turn as one batch (one writev per segment touched). Queue offsets
// and physical offsets are assigned at write time, dispatch runs as soon as the batch is written,
// and SYNC_FLUSH appends are answered by the group commit of the CommitLog.

import type { Logger } from '../common/index.js';
import type { CommitLog } from './commit-log.js';
import { computeTagsCode, type Dispatcher, type DispatchRequest, occupiesQueue } from './dispatcher.js';
import { checkHost, hostBytes } from './host-address.js';
import { createOffsetMessageId } from './message-id.js';
import type { HostAddress, MessageToStore, PutResult, PutStatus } from './message-store.js';
import { checkProperties, encodeProperties, MessageProperty } from './properties-codec.js';
import {
  END_FILLER_SIZE,
  encodeRecordParts,
  MAX_PROPERTIES_BYTES,
  MAX_RECORD_OVERHEAD,
  MAX_TOPIC_BYTES,
  POS_PHYSICAL_OFFSET,
  POS_QUEUE_OFFSET,
  writeLong,
} from './record-codec.js';
import type { StoreConfig } from './store-config.js';

/** Next queue offset per topic/queue (RocketMQ's topicQueueTable). */
export class QueueOffsetTable {
  private readonly topics = new Map<string, Map<number, number>>();

  get(topic: string, queueId: number): number {
    return this.topics.get(topic)?.get(queueId) ?? 0;
  }

  set(topic: string, queueId: number, next: number): void {
    let byId = this.topics.get(topic);
    if (!byId) {
      byId = new Map();
      this.topics.set(topic, byId);
    }
    byId.set(queueId, next);
  }

  removeTopic(topic: string): void {
    this.topics.delete(topic);
  }
}

interface EncodedMessage {
  buf: Buffer;
  storeTimestampPos: number;
  tags: string | undefined;
  keys: string | undefined;
  uniqKey: string | undefined;
  delay: string | undefined;
}

interface PendingPut {
  /** The encoded records, in order (what the CommitLog writes). */
  buffers: Buffer[];
  topic: string;
  queueId: number;
  sysFlag: number;
  messages: EncodedMessage[];
  size: number;
  waitDurable: boolean;
  storeHost: HostAddress;
  resolve(result: PutResult): void;
  physicalOffset: number;
  queueOffset: number;
  storeTimestamp: number;
}

export interface WriterDeps {
  config: StoreConfig;
  commitLog: CommitLog;
  dispatcher: Dispatcher;
  offsets: QueueOffsetTable;
  delayLevels: readonly number[];
  clock: () => number;
  logger: Logger;
  /** A reason to refuse appends now (shutting down, disk full), if any. */
  refusal: () => { status: PutStatus; remark: string } | undefined;
  /** Called when a write failed for lack of space. */
  onDiskFull: () => void;
}

export interface WriterStats {
  putMessages: number;
  putBytes: number;
  putFailures: Partial<Record<PutStatus, number>>;
}

const MAX_BATCH_BYTES = 4 * 1024 * 1024;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function isInt32(n: unknown): boolean {
  return typeof n === 'number' && Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX;
}

/** A reason the topic cannot be stored (or used as a directory name), if any. */
export function checkTopic(topic: unknown): string | undefined {
  if (typeof topic !== 'string' || topic === '') return 'topic is empty';
  if (Buffer.byteLength(topic, 'utf8') > MAX_TOPIC_BYTES)
    return `topic is longer than ${MAX_TOPIC_BYTES} bytes`;
  if (topic === '.' || topic === '..' || /[/\\\0]/.test(topic))
    return `topic ${JSON.stringify(topic)} is not a valid name`;
  return undefined;
}

export class MessageWriter {
  private queue: PendingPut[] = [];
  private queuedBytes = 0;
  private running = false;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  readonly stats: WriterStats = { putMessages: 0, putBytes: 0, putFailures: {} };

  // Encoded hosts by "address|port": producers are few, so this saves parsing every message.
  private readonly hostCache = new Map<string, Buffer>();

  constructor(private readonly deps: WriterDeps) {}

  /** IP bytes + port of a host, or the reason it is not valid. */
  private hostBytes(host: HostAddress): Buffer | string {
    const key = `${host?.address}|${host?.port}`;
    const cached = this.hostCache.get(key);
    if (cached) return cached;
    const problem = checkHost(host);
    if (problem) return problem;
    if (this.hostCache.size >= 4096) this.hostCache.clear();
    const bytes = hostBytes(host);
    this.hostCache.set(key, bytes);
    return bytes;
  }

  /** Appends one message, or a batch (all for one topic and queue) stored contiguously. */
  put(msgs: readonly MessageToStore[]): Promise<PutResult> {
    const refused = this.deps.refusal();
    if (refused) return Promise.resolve(this.failure(refused.status, refused.remark, msgs.length));
    const prepared = this.prepare(msgs);
    if ('status' in prepared)
      return Promise.resolve(this.failure(prepared.status, prepared.remark, msgs.length));
    if (this.queuedBytes + prepared.size > this.deps.config.maxPendingAppendBytes && this.queue.length > 0) {
      return Promise.resolve(
        this.failure('OS_PAGE_CACHE_BUSY', 'too many bytes waiting to be written; try again', msgs.length),
      );
    }
    return new Promise<PutResult>((resolve) => {
      prepared.resolve = resolve;
      this.queue.push(prepared);
      this.queuedBytes += prepared.size;
      if (!this.running && !this.scheduled) {
        // Everything that arrives during this turn is written together.
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          void this.run();
        });
      }
    });
  }

  /** Resolves when every accepted append has been written (and answered, except SYNC waits). */
  drain(): Promise<void> {
    if (!this.running && !this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  private failure(status: PutStatus, remark: string, count: number): PutResult {
    this.stats.putFailures[status] = (this.stats.putFailures[status] ?? 0) + count;
    return {
      status,
      physicalOffset: -1n,
      queueOffset: -1n,
      count: 0,
      wroteBytes: 0,
      storeTimestamp: 0,
      msgIds: [],
      remark,
    };
  }

  private prepare(msgs: readonly MessageToStore[]): PendingPut | { status: PutStatus; remark: string } {
    const { config } = this.deps;
    if (msgs.length === 0) return { status: 'MESSAGE_ILLEGAL', remark: 'no messages' };
    const first = msgs[0];
    const topicProblem = checkTopic(first.topic);
    if (topicProblem) return { status: 'MESSAGE_ILLEGAL', remark: topicProblem };
    if (!isInt32(first.queueId) || first.queueId < 0) {
      return {
        status: 'MESSAGE_ILLEGAL',
        remark: `queueId ${first.queueId} is not an integer from 0 to ${INT32_MAX}`,
      };
    }
    const storeHost = first.storeHost ?? config.storeHost;
    const messages: EncodedMessage[] = [];
    let size = 0;
    for (const m of msgs) {
      if (m.topic !== first.topic || m.queueId !== first.queueId) {
        return {
          status: 'MESSAGE_ILLEGAL',
          remark: 'all messages of a batch must have the same topic and queue',
        };
      }
      if (!Buffer.isBuffer(m.body)) return { status: 'MESSAGE_ILLEGAL', remark: 'body must be a Buffer' };
      if (m.body.length > config.maxMessageSize) {
        return {
          status: 'MESSAGE_ILLEGAL',
          remark: `body of ${m.body.length} bytes exceeds maxMessageSize (${config.maxMessageSize})`,
        };
      }
      if (!isInt32(m.flag))
        return { status: 'MESSAGE_ILLEGAL', remark: `flag ${m.flag} is not a 32-bit integer` };
      if (!isInt32(m.sysFlag)) {
        return { status: 'MESSAGE_ILLEGAL', remark: `sysFlag ${m.sysFlag} is not a 32-bit integer` };
      }
      if (!isInt32(m.reconsumeTimes)) {
        return {
          status: 'MESSAGE_ILLEGAL',
          remark: `reconsumeTimes ${m.reconsumeTimes} is not a 32-bit integer`,
        };
      }
      if (!Number.isSafeInteger(m.bornTimestamp)) {
        return { status: 'MESSAGE_ILLEGAL', remark: `bornTimestamp ${m.bornTimestamp} is not an integer` };
      }
      if (typeof m.preparedTransactionOffset !== 'bigint') {
        return { status: 'MESSAGE_ILLEGAL', remark: 'preparedTransactionOffset must be a bigint' };
      }
      const bornHostBytes = this.hostBytes(m.bornHost);
      if (typeof bornHostBytes === 'string')
        return { status: 'MESSAGE_ILLEGAL', remark: `bornHost: ${bornHostBytes}` };
      const storeHostBytes = this.hostBytes(storeHost);
      if (typeof storeHostBytes === 'string') {
        return { status: 'MESSAGE_ILLEGAL', remark: `storeHost: ${storeHostBytes}` };
      }
      if (!(m.properties instanceof Map))
        return { status: 'MESSAGE_ILLEGAL', remark: 'properties must be a Map' };
      const propProblem = checkProperties(m.properties);
      if (propProblem) return { status: 'MESSAGE_ILLEGAL', remark: propProblem };
      const properties = encodeProperties(m.properties);
      if (Buffer.byteLength(properties, 'utf8') > MAX_PROPERTIES_BYTES) {
        return {
          status: 'PROPERTIES_SIZE_EXCEEDED',
          remark: `properties exceed ${MAX_PROPERTIES_BYTES} bytes`,
        };
      }
      const encoded = encodeRecordParts({
        topic: m.topic,
        queueId: m.queueId,
        flag: m.flag,
        queueOffset: 0,
        physicalOffset: 0,
        sysFlag: m.sysFlag,
        bornTimestamp: m.bornTimestamp,
        bornHost: m.bornHost,
        storeTimestamp: 0,
        storeHost,
        reconsumeTimes: m.reconsumeTimes,
        preparedTransactionOffset: m.preparedTransactionOffset,
        body: m.body,
        properties,
        bornHostBytes,
        storeHostBytes,
      });
      if (encoded.buf.length > config.maxMessageSize + MAX_RECORD_OVERHEAD) {
        return { status: 'MESSAGE_ILLEGAL', remark: `record of ${encoded.buf.length} bytes is too large` };
      }
      size += encoded.buf.length;
      messages.push({
        buf: encoded.buf,
        storeTimestampPos: encoded.storeTimestampPos,
        tags: m.properties.get(MessageProperty.TAGS),
        keys: m.properties.get(MessageProperty.KEYS),
        uniqKey: m.properties.get(MessageProperty.UNIQ_KEY),
        delay: m.properties.get(MessageProperty.DELAY),
      });
    }
    if (size + END_FILLER_SIZE > this.deps.commitLog.segmentSize) {
      return {
        status: 'MESSAGE_ILLEGAL',
        remark: `batch of ${size} bytes does not fit one commit log segment (${this.deps.commitLog.segmentSize})`,
      };
    }
    return {
      buffers: messages.map((m) => m.buf),
      topic: first.topic,
      queueId: first.queueId,
      sysFlag: first.sysFlag,
      messages,
      size,
      waitDurable:
        this.deps.config.flushDiskType === 'SYNC_FLUSH' && msgs.every((m) => m.waitStoreMsgOK !== false),
      storeHost,
      resolve: () => undefined,
      physicalOffset: -1,
      queueOffset: -1,
      storeTimestamp: 0,
    };
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        let take = 0;
        let bytes = 0;
        while (take < this.queue.length && (take === 0 || bytes + this.queue[take].size <= MAX_BATCH_BYTES)) {
          bytes += this.queue[take].size;
          take++;
        }
        const batch = this.queue.splice(0, take);
        await this.writeBatch(batch);
        this.queuedBytes -= bytes;
      }
    } finally {
      this.running = false;
      if (this.queue.length === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      } else {
        void this.run();
      }
    }
  }

  private async writeBatch(batch: PendingPut[]): Promise<void> {
    const { commitLog, dispatcher, offsets, config } = this.deps;
    const now = this.deps.clock();
    const previous = new Map<string, { topic: string; queueId: number; next: number }>();
    const requests: DispatchRequest[] = [];
    this.batchNow = now;
    this.batchPrevious = previous;
    this.batchRequests = requests;
    try {
      await commitLog.append(batch, this.placeItem);
    } catch (err) {
      for (const prev of previous.values()) offsets.set(prev.topic, prev.queueId, prev.next);
      const code = (err as NodeJS.ErrnoException).code;
      const status: PutStatus = code === 'ENOSPC' ? 'SERVICE_NOT_AVAILABLE' : 'UNKNOWN_ERROR';
      if (code === 'ENOSPC') this.deps.onDiskFull();
      this.deps.logger.error('commit log write failed', { err, messages: batch.length });
      for (const p of batch)
        p.resolve(this.failure(status, `write failed: ${(err as Error).message}`, p.messages.length));
      return;
    }
    dispatcher.dispatch(requests, commitLog.writtenOffset);
    for (const p of batch) {
      this.stats.putMessages += p.messages.length;
      this.stats.putBytes += p.size;
      if (!p.waitDurable) {
        p.resolve(this.success(p, 'PUT_OK'));
        continue;
      }
      commitLog.waitDurable(p.physicalOffset + p.size, config.syncFlushTimeout).then((outcome) => {
        if (outcome === 'ok') p.resolve(this.success(p, 'PUT_OK'));
        else if (outcome === 'timeout') {
          this.stats.putFailures.FLUSH_DISK_TIMEOUT = (this.stats.putFailures.FLUSH_DISK_TIMEOUT ?? 0) + 1;
          p.resolve(
            this.success(
              p,
              'FLUSH_DISK_TIMEOUT',
              `fdatasync did not finish within ${config.syncFlushTimeout} ms`,
            ),
          );
        } else {
          p.resolve(
            this.success(p, 'UNKNOWN_ERROR', `fdatasync failed: ${commitLog.failureReason ?? 'unknown'}`),
          );
        }
      });
    }
  }

  // Context of the batch being placed (one batch at a time), so that placing needs no closures.
  private batchNow = 0;
  private batchPrevious = new Map<string, { topic: string; queueId: number; next: number }>();
  private batchRequests: DispatchRequest[] = [];
  private readonly placeItem = (p: PendingPut, physicalOffset: number): void => this.place(p, physicalOffset);

  private place(p: PendingPut, physicalOffset: number): void {
    const { offsets, delayLevels } = this.deps;
    const now = this.batchNow;
    const previous = this.batchPrevious;
    const requests = this.batchRequests;
    p.physicalOffset = physicalOffset;
    p.storeTimestamp = now;
    const inQueue = occupiesQueue(p.sysFlag);
    const key = `${p.queueId}\u0000${p.topic}`;
    let next = offsets.get(p.topic, p.queueId);
    if (!previous.has(key)) previous.set(key, { topic: p.topic, queueId: p.queueId, next });
    p.queueOffset = inQueue ? next : 0;
    let at = physicalOffset;
    for (const m of p.messages) {
      const queueOffset = inQueue ? next++ : 0;
      writeLong(m.buf, queueOffset, POS_QUEUE_OFFSET);
      writeLong(m.buf, at, POS_PHYSICAL_OFFSET);
      writeLong(m.buf, now, m.storeTimestampPos);
      requests.push({
        topic: p.topic,
        queueId: p.queueId,
        queueOffset,
        physicalOffset: at,
        size: m.buf.length,
        tagsCode: computeTagsCode(p.topic, m.tags, m.delay, now, delayLevels),
        storeTimestamp: now,
        sysFlag: m.buf.readInt32BE(36),
        keys: m.keys,
        uniqKey: m.uniqKey,
      });
      at += m.buf.length;
    }
    if (inQueue) offsets.set(p.topic, p.queueId, next);
  }

  private success(p: PendingPut, status: PutStatus, remark?: string): PutResult {
    const msgIds: string[] = [];
    let at = p.physicalOffset;
    for (const m of p.messages) {
      msgIds.push(createOffsetMessageId(p.storeHost, at));
      at += m.buf.length;
    }
    const result: PutResult = {
      status,
      physicalOffset: BigInt(p.physicalOffset),
      queueOffset: BigInt(p.queueOffset),
      count: p.messages.length,
      wroteBytes: p.size,
      storeTimestamp: p.storeTimestamp,
      msgIds,
    };
    if (remark) result.remark = remark;
    return result;
  }
}
