// The single writer: validates and encodes appends as they arrive, then writes everything that
// arrived during one event-loop turn as one batch. Records are encoded straight into a shared
// ring buffer in arrival order, so a batch is one contiguous slice (one write, no copying). Queue
// and physical offsets are assigned at write time, dispatch runs as soon as the batch is written,
// and SYNC_FLUSH appends are answered by the group commit of the CommitLog. The per-message path
// avoids temporary objects: at high rates, garbage collection is its largest cost.

import type { Logger } from '../common/index.js';
import { checkHost, hostBytes } from '../message/host-address.js';
import { MessageProperty } from '../message/properties.js';
import type { CommitLog } from './commit-log.js';
import {
  computeTagsCode,
  type Dispatcher,
  type DispatchRequest,
  emptyRequest,
  keyHashesInto,
  occupiesQueue,
} from './dispatcher.js';
import { TopicSeeds } from './key-index.js';
import type { HostAddress, MessageToStore, PutResult, PutStatus } from './message-store.js';
import {
  bodyCrc,
  END_FILLER_SIZE,
  MAX_PROPERTIES_BYTES,
  MAX_RECORD_OVERHEAD,
  MAX_TOPIC_BYTES,
  POS_PHYSICAL_OFFSET,
  POS_QUEUE_OFFSET,
  recordSize,
  writeLong,
  writeRecordInto,
} from './record-codec.js';
import type { StoreConfig } from './store-config.js';

/** The next queue offset of one queue, plus what a failed batch must restore. */
interface QueueCursor {
  next: number;
  batch: number;
  before: number;
}

/** Next queue offset per topic/queue (RocketMQ's topicQueueTable). */
export class QueueOffsetTable {
  private readonly topics = new Map<string, Map<number, QueueCursor>>();

  cursor(topic: string, queueId: number): QueueCursor {
    let byId = this.topics.get(topic);
    if (!byId) {
      byId = new Map();
      this.topics.set(topic, byId);
    }
    let c = byId.get(queueId);
    if (!c) {
      c = { next: 0, batch: -1, before: 0 };
      byId.set(queueId, c);
    }
    return c;
  }

  get(topic: string, queueId: number): number {
    return this.topics.get(topic)?.get(queueId)?.next ?? 0;
  }

  set(topic: string, queueId: number, next: number): void {
    this.cursor(topic, queueId).next = next;
  }

  removeTopic(topic: string): void {
    this.topics.delete(topic);
  }
}

interface EncodedHost {
  bytes: Buffer;
  /** Upper-case hex of the bytes: the prefix of offset message ids. */
  hex: string;
}

/** One record of an append: its bytes (a slice of the ring) and what dispatch needs. */
interface PendingRecord {
  buf: Buffer;
  storeTimestampPos: number;
  tags: string | undefined;
  keys: string | undefined;
  uniqKey: string | undefined;
  delay: string | undefined;
  queueOffset: number;
}

interface PendingPut {
  /** The encoded records, in order: what the CommitLog writes. */
  buffers: Buffer[];
  records: PendingRecord[];
  /** Virtual ring position after the last record (released once the batch is written). */
  ringEnd: number;
  size: number;
  topic: string;
  queueId: number;
  sysFlag: number;
  waitDurable: boolean;
  storeHost: EncodedHost;
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
const RING_SIZE = 16 * 1024 * 1024;
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

/** UTF-8 length of `text`, or -1 when it contains U+0001 or U+0002 (one pass for ASCII text). */
function propertyTextLength(text: string): number {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 1 || c === 2) return -1;
    if (c >= 0x80) ascii = false;
  }
  return ascii ? text.length : Buffer.byteLength(text, 'utf8');
}

/** Short ASCII strings are copied byte by byte: cheaper than a call into the native encoder. */
const SHORT_TEXT = 64;

/** Writes `text` at `pos` (`ascii`: every char below U+0080); returns the position after it. */
function writeText(buf: Buffer, text: string, pos: number, ascii: boolean): number {
  if (!ascii) return pos + buf.write(text, pos, 'utf8');
  const n = text.length;
  if (n > SHORT_TEXT) return pos + buf.write(text, pos, n, 'latin1');
  for (let i = 0; i < n; i++) buf[pos + i] = text.charCodeAt(i);
  return pos + n;
}

type Refused = { status: PutStatus; remark: string };

function refused(status: PutStatus, remark: string): Refused {
  return { status, remark };
}

/** A reason a message cannot be stored, if any (the topic and queue are checked once per put). */
function checkMessage(m: MessageToStore, first: MessageToStore, maxMessageSize: number): Refused | undefined {
  if (m.topic !== first.topic || m.queueId !== first.queueId) {
    return refused('MESSAGE_ILLEGAL', 'all messages of a batch must have the same topic and queue');
  }
  if (!Buffer.isBuffer(m.body)) return refused('MESSAGE_ILLEGAL', 'body must be a Buffer');
  if (m.body.length > maxMessageSize) {
    return refused(
      'MESSAGE_ILLEGAL',
      `body of ${m.body.length} bytes exceeds maxMessageSize (${maxMessageSize})`,
    );
  }
  if (!isInt32(m.flag)) return refused('MESSAGE_ILLEGAL', `flag ${m.flag} is not a 32-bit integer`);
  if (!isInt32(m.sysFlag)) return refused('MESSAGE_ILLEGAL', `sysFlag ${m.sysFlag} is not a 32-bit integer`);
  if (!isInt32(m.reconsumeTimes)) {
    return refused('MESSAGE_ILLEGAL', `reconsumeTimes ${m.reconsumeTimes} is not a 32-bit integer`);
  }
  if (!Number.isSafeInteger(m.bornTimestamp)) {
    return refused('MESSAGE_ILLEGAL', `bornTimestamp ${m.bornTimestamp} is not an integer`);
  }
  if (typeof m.preparedTransactionOffset !== 'bigint') {
    return refused('MESSAGE_ILLEGAL', 'preparedTransactionOffset must be a bigint');
  }
  if (!(m.properties instanceof Map)) return refused('MESSAGE_ILLEGAL', 'properties must be a Map');
  return undefined;
}

export class MessageWriter {
  private queue: PendingPut[] = [];
  private queuedBytes = 0;
  private running = false;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  private readonly ring = Buffer.allocUnsafe(RING_SIZE);
  private ringAllocated = 0;
  private ringReleased = 0;
  // Encoded hosts by address then port: producers are few, so this saves parsing every message.
  private readonly hosts = new Map<string, Map<number, EncodedHost>>();
  private hostCount = 0;
  // Results of `scanProperties` for the message being prepared (preparing is synchronous): the
  // names and values to encode, their encoded length, and what dispatch needs.
  private readonly propNames: string[] = [];
  private readonly propValues: string[] = [];
  private propCount = 0;
  private propsLength = 0;
  private propsAscii = true;
  private lastTopic: string | undefined;
  private lastTopicLength = 0;
  private propTags: string | undefined;
  private propKeys: string | undefined;
  private propUniqKey: string | undefined;
  private propDelay: string | undefined;
  // Context of the batch being placed (one batch at a time), so that placing needs no closures.
  private batchId = 0;
  private batchNow = 0;
  private batchCursors: QueueCursor[] = [];
  private readonly placeItem = (p: PendingPut, physicalOffset: number): void => this.place(p, physicalOffset);
  private readonly request: DispatchRequest = emptyRequest();
  private readonly seeds = new TopicSeeds();
  readonly stats: WriterStats = { putMessages: 0, putBytes: 0, putFailures: {} };

  constructor(private readonly deps: WriterDeps) {}

  /** Appends one message, or a batch (all for one topic and queue) stored contiguously. */
  put(msgs: readonly MessageToStore[]): Promise<PutResult> {
    const refusal = this.deps.refusal();
    if (refusal) return Promise.resolve(this.failure(refusal.status, refusal.remark, msgs.length));
    if (this.queuedBytes > this.deps.config.maxPendingAppendBytes) {
      return Promise.resolve(
        this.failure('OS_PAGE_CACHE_BUSY', 'too many bytes waiting to be written; try again', msgs.length),
      );
    }
    const prepared = this.prepare(msgs);
    if (!('buffers' in prepared))
      return Promise.resolve(this.failure(prepared.status, prepared.remark, msgs.length));
    return new Promise<PutResult>((resolve) => {
      prepared.resolve = resolve;
      this.queue.push(prepared);
      this.queuedBytes += prepared.size;
      if (!this.running && !this.scheduled) {
        // Everything that arrives during this turn is written together.
        this.scheduled = true;
        setImmediate(this.startRun);
      }
    });
  }

  private readonly startRun = (): void => {
    this.scheduled = false;
    void this.run();
  };

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

  /** IP bytes + port of a host, or the reason it is not valid. */
  private host(host: HostAddress): EncodedHost | string {
    const cached = this.hosts.get(host?.address)?.get(host.port);
    if (cached) return cached;
    const problem = checkHost(host);
    if (problem) return problem;
    if (this.hostCount >= 4096) {
      this.hosts.clear();
      this.hostCount = 0;
    }
    const bytes = hostBytes(host);
    const encoded = { bytes, hex: bytes.toString('hex').toUpperCase() };
    let ports = this.hosts.get(host.address);
    if (!ports) {
      ports = new Map();
      this.hosts.set(host.address, ports);
    }
    ports.set(host.port, encoded);
    this.hostCount++;
    return encoded;
  }

  /**
   * One pass over the properties: measures their encoding (name U+0001 value, joined by U+0002,
   * null values skipped), rejects separators inside names or values, and keeps what dispatch
   * needs. Returns a reason when they cannot be stored. `writeProperties` then encodes them.
   */
  private scanProperties(props: ReadonlyMap<string, string>): string | undefined {
    this.propTags = undefined;
    this.propKeys = undefined;
    this.propUniqKey = undefined;
    this.propDelay = undefined;
    this.propCount = 0;
    this.propsLength = 0;
    this.propsAscii = true;
    this.propProblem = undefined;
    // forEach with one bound callback: iterating entries would allocate a pair per property.
    props.forEach(this.scanProperty);
    return this.propProblem;
  }

  private propProblem: string | undefined;

  private readonly scanProperty = (raw: string, name: string): void => {
    if (raw === undefined || raw === null || this.propProblem !== undefined) return;
    const value = typeof raw === 'string' ? raw : String(raw);
    const nameLength = propertyTextLength(name);
    if (name === '' || nameLength < 0) {
      this.propProblem = `property name ${JSON.stringify(name)} is empty or contains U+0001/U+0002`;
      return;
    }
    const valueLength = propertyTextLength(value);
    if (valueLength < 0) {
      this.propProblem = `value of property ${name} contains U+0001 or U+0002`;
      return;
    }
    if (nameLength !== name.length || valueLength !== value.length) this.propsAscii = false;
    const n = this.propCount;
    this.propsLength += (n > 0 ? 1 : 0) + nameLength + 1 + valueLength;
    this.propNames[n] = name;
    this.propValues[n] = value;
    this.propCount = n + 1;
    if (name === MessageProperty.TAGS) this.propTags = value;
    else if (name === MessageProperty.KEYS) this.propKeys = value;
    else if (name === MessageProperty.UNIQ_KEY) this.propUniqKey = value;
    else if (name === MessageProperty.DELAY) this.propDelay = value;
  };

  /** Encodes the properties of the last `scanProperties` at `pos` of `buf`. */
  private writeProperties(buf: Buffer, pos: number): void {
    const ascii = this.propsAscii;
    for (let k = 0; k < this.propCount; k++) {
      if (k > 0) buf[pos++] = 2;
      pos = writeText(buf, this.propNames[k], pos, ascii);
      buf[pos++] = 1;
      pos = writeText(buf, this.propValues[k], pos, ascii);
    }
  }

  // Records are encoded into a ring in arrival order and released in the same order once their
  // batch is written, so the memory is reused instead of left to the garbage collector. Positions
  // are virtual (ever increasing); a record that does not fit before the end of the ring starts
  // at its beginning, the skipped bytes being released with it.
  private allocate(size: number): Buffer {
    const capacity = this.ring.length;
    let start = this.ringAllocated % capacity;
    let padding = 0;
    if (start + size > capacity) {
      padding = capacity - start;
      start = 0;
    }
    if (this.ringAllocated + padding + size - this.ringReleased > capacity) return Buffer.allocUnsafe(size);
    this.ringAllocated += padding + size;
    return this.ring.subarray(start, start + size);
  }

  private prepare(msgs: readonly MessageToStore[]): PendingPut | Refused {
    const { config } = this.deps;
    if (msgs.length === 0) return refused('MESSAGE_ILLEGAL', 'no messages');
    const first = msgs[0];
    // Appends mostly go to few topics: the last valid one is not checked again.
    if (first.topic !== this.lastTopic) {
      const topicProblem = checkTopic(first.topic);
      if (topicProblem) return refused('MESSAGE_ILLEGAL', topicProblem);
      this.lastTopic = first.topic;
      this.lastTopicLength = Buffer.byteLength(first.topic, 'utf8');
    }
    if (!isInt32(first.queueId) || first.queueId < 0) {
      return refused('MESSAGE_ILLEGAL', `queueId ${first.queueId} is not an integer from 0 to ${INT32_MAX}`);
    }
    const storeHost = this.host(first.storeHost ?? config.storeHost);
    if (typeof storeHost === 'string') return refused('MESSAGE_ILLEGAL', `storeHost: ${storeHost}`);
    const topicLength = this.lastTopicLength;
    if (msgs.length === 1) return this.prepareOne(first, storeHost, topicLength);
    // A batch: validate every message before taking ring space for any.
    let size = 0;
    for (const m of msgs) {
      const problem = this.checkOne(m, first, storeHost, topicLength);
      if (typeof problem !== 'number') return problem;
      size += problem;
    }
    if (size + END_FILLER_SIZE > this.deps.commitLog.segmentSize) {
      return refused(
        'MESSAGE_ILLEGAL',
        `batch of ${size} bytes does not fit one commit log segment (${this.deps.commitLog.segmentSize})`,
      );
    }
    const p = this.pending(first, storeHost, size);
    for (const m of msgs) {
      this.checkOne(m, first, storeHost, topicLength);
      this.encode(p, m, storeHost, topicLength);
    }
    p.ringEnd = this.ringAllocated;
    return p;
  }

  private prepareOne(m: MessageToStore, storeHost: EncodedHost, topicLength: number): PendingPut | Refused {
    const size = this.checkOne(m, m, storeHost, topicLength);
    if (typeof size !== 'number') return size;
    const p = this.pending(m, storeHost, size);
    this.encode(p, m, storeHost, topicLength);
    p.ringEnd = this.ringAllocated;
    return p;
  }

  /** Validates a message and scans its properties; returns its record size or why it is refused. */
  private checkOne(m: MessageToStore, first: MessageToStore, storeHost: EncodedHost, topicLength: number) {
    const problem = checkMessage(m, first, this.deps.config.maxMessageSize);
    if (problem) return problem;
    const born = this.host(m.bornHost);
    if (typeof born === 'string') return refused('MESSAGE_ILLEGAL', `bornHost: ${born}`);
    const propProblem = this.scanProperties(m.properties);
    if (propProblem) return refused('MESSAGE_ILLEGAL', propProblem);
    const propsLength = this.propsLength;
    if (propsLength > MAX_PROPERTIES_BYTES) {
      return refused('PROPERTIES_SIZE_EXCEEDED', `properties exceed ${MAX_PROPERTIES_BYTES} bytes`);
    }
    const bytes = recordSize(
      m.body.length,
      topicLength,
      propsLength,
      born.bytes.length === 20,
      storeHost.bytes.length === 20,
    );
    if (bytes > this.deps.config.maxMessageSize + MAX_RECORD_OVERHEAD) {
      return refused('MESSAGE_ILLEGAL', `record of ${bytes} bytes is too large`);
    }
    return bytes;
  }

  private pending(first: MessageToStore, storeHost: EncodedHost, size: number): PendingPut {
    let waitDurable = this.deps.config.flushDiskType === 'SYNC_FLUSH';
    if (first.waitStoreMsgOK === false) waitDurable = false;
    return {
      buffers: [],
      records: [],
      ringEnd: 0,
      size,
      topic: first.topic,
      queueId: first.queueId,
      sysFlag: first.sysFlag,
      waitDurable,
      storeHost,
      resolve: noop,
      physicalOffset: -1,
      queueOffset: -1,
      storeTimestamp: 0,
    };
  }

  /** Encodes a message already checked by `checkOne` (whose property scan is still current). */
  private encode(p: PendingPut, m: MessageToStore, storeHost: EncodedHost, topicLength: number): void {
    if (m.waitStoreMsgOK === false) p.waitDurable = false;
    const born = this.host(m.bornHost) as EncodedHost;
    const propsLength = this.propsLength;
    const size = recordSize(
      m.body.length,
      topicLength,
      propsLength,
      born.bytes.length === 20,
      storeHost.bytes.length === 20,
    );
    const buf = this.allocate(size);
    const storeTimestampPos = writeRecordInto(
      buf,
      m.topic,
      topicLength,
      m.queueId,
      m.flag,
      m.sysFlag,
      m.bornTimestamp,
      born.bytes,
      storeHost.bytes,
      m.reconsumeTimes,
      m.preparedTransactionOffset,
      m.body,
      null,
      propsLength,
      bodyCrc(m.body),
    );
    this.writeProperties(buf, size - propsLength);
    const record: PendingRecord = {
      buf,
      storeTimestampPos,
      tags: this.propTags,
      keys: this.propKeys,
      uniqKey: this.propUniqKey,
      delay: this.propDelay,
      queueOffset: 0,
    };
    // Most appends are one message: exact one-element arrays, not a first push's spare room.
    if (p.buffers.length === 0) {
      p.buffers = [buf];
      p.records = [record];
    } else {
      p.buffers.push(buf);
      p.records.push(record);
    }
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      // Only what was queued when the run started: appends are written synchronously, so those
      // that arrive meanwhile (answered callers appending again, all in microtasks) would keep
      // this loop going forever and starve timers and I/O callbacks (flushes, consume-queue and
      // index writes, checkpoints, sockets). They wait for the next turn of the event loop.
      let left = this.queue.length;
      while (left > 0) {
        let take = 0;
        let bytes = 0;
        while (take < left && (take === 0 || bytes + this.queue[take].size <= MAX_BATCH_BYTES)) {
          bytes += this.queue[take].size;
          take++;
        }
        const batch = take === this.queue.length ? this.queue : this.queue.slice(0, take);
        this.queue = take === this.queue.length ? [] : this.queue.slice(take);
        left -= take;
        await this.writeBatch(batch);
        this.queuedBytes -= bytes;
      }
    } finally {
      this.running = false;
      if (this.queue.length === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      } else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.startRun);
      }
    }
  }

  private async writeBatch(batch: PendingPut[]): Promise<void> {
    const { commitLog, dispatcher, config } = this.deps;
    this.batchId++;
    this.batchNow = this.deps.clock();
    this.batchCursors = [];
    try {
      await commitLog.append(batch, this.placeItem);
    } catch (err) {
      this.ringReleased = batch[batch.length - 1].ringEnd;
      for (const c of this.batchCursors) c.next = c.before;
      const code = (err as NodeJS.ErrnoException).code;
      const status: PutStatus = code === 'ENOSPC' ? 'SERVICE_NOT_AVAILABLE' : 'UNKNOWN_ERROR';
      if (code === 'ENOSPC') this.deps.onDiskFull();
      this.deps.logger.error('commit log write failed', { err, messages: batch.length });
      for (const p of batch)
        p.resolve(this.failure(status, `write failed: ${(err as Error).message}`, p.buffers.length));
      return;
    }
    this.dispatchBatch(batch);
    dispatcher.advanceTo(commitLog.writtenOffset);
    // The records' bytes are not read after this point; their ring space may be reused.
    this.ringReleased = batch[batch.length - 1].ringEnd;
    for (const p of batch) {
      this.stats.putMessages += p.buffers.length;
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

  private place(p: PendingPut, physicalOffset: number): void {
    const now = this.batchNow;
    p.physicalOffset = physicalOffset;
    p.storeTimestamp = now;
    const inQueue = occupiesQueue(p.sysFlag);
    const cursor = this.deps.offsets.cursor(p.topic, p.queueId);
    if (cursor.batch !== this.batchId) {
      cursor.batch = this.batchId;
      cursor.before = cursor.next;
      this.batchCursors.push(cursor);
    }
    p.queueOffset = inQueue ? cursor.next : 0;
    let at = physicalOffset;
    for (const r of p.records) {
      r.queueOffset = inQueue ? cursor.next++ : 0;
      writeLong(r.buf, r.queueOffset, POS_QUEUE_OFFSET);
      writeLong(r.buf, at, POS_PHYSICAL_OFFSET);
      writeLong(r.buf, now, r.storeTimestampPos);
      at += r.buf.length;
    }
  }

  // Dispatch right after the write, through one reused request object.
  private dispatchBatch(batch: PendingPut[]): void {
    const req = this.request;
    const hashes = req.keyHashes;
    for (const p of batch) {
      const seed = this.seeds.get(p.topic);
      req.topic = p.topic;
      req.queueId = p.queueId;
      req.storeTimestamp = p.storeTimestamp;
      let at = p.physicalOffset;
      for (const r of p.records) {
        req.queueOffset = r.queueOffset;
        req.physicalOffset = at;
        req.size = r.buf.length;
        req.tagsCode = computeTagsCode(p.topic, r.tags, r.delay, p.storeTimestamp, this.deps.delayLevels);
        req.sysFlag = r.buf[39] | (r.buf[38] << 8) | (r.buf[37] << 16) | (r.buf[36] << 24);
        req.keyCount = keyHashesInto(hashes, seed, r.uniqKey, r.keys);
        this.deps.dispatcher.dispatchRecord(req, true);
        at += r.buf.length;
      }
    }
  }

  private success(p: PendingPut, status: PutStatus, remark?: string): PutResult {
    let msgIds: string[];
    if (p.buffers.length === 1) msgIds = [p.storeHost.hex + hex16(p.physicalOffset)];
    else {
      msgIds = [];
      let at = p.physicalOffset;
      for (const buf of p.buffers) {
        msgIds.push(p.storeHost.hex + hex16(at));
        at += buf.length;
      }
    }
    const result: PutResult = {
      status,
      physicalOffset: BigInt(p.physicalOffset),
      queueOffset: BigInt(p.queueOffset),
      count: p.buffers.length,
      wroteBytes: p.size,
      storeTimestamp: p.storeTimestamp,
      msgIds,
    };
    if (remark) result.remark = remark;
    return result;
  }
}

function noop(): void {}

const HEX_DIGITS = '0123456789ABCDEF';

/** The hex digit of `word` at bit `shift` (a char code). */
function hexDigit(word: number, shift: number): number {
  return HEX_DIGITS.charCodeAt((word >>> shift) & 15);
}

/** A non-negative safe integer as 16 upper-case hex digits (an offset message id's offset part). */
export function hex16(value: number): string {
  const hi = Math.floor(value / 4294967296);
  const lo = value >>> 0;
  return String.fromCharCode(
    hexDigit(hi, 28),
    hexDigit(hi, 24),
    hexDigit(hi, 20),
    hexDigit(hi, 16),
    hexDigit(hi, 12),
    hexDigit(hi, 8),
    hexDigit(hi, 4),
    hexDigit(hi, 0),
    hexDigit(lo, 28),
    hexDigit(lo, 24),
    hexDigit(lo, 20),
    hexDigit(lo, 16),
    hexDigit(lo, 12),
    hexDigit(lo, 8),
    hexDigit(lo, 4),
    hexDigit(lo, 0),
  );
}
