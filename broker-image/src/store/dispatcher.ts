// Dispatch: turns appended CommitLog records into ConsumeQueue entries and index keys, then tells
// arrival listeners (long polling). The writer hands over the records of each batch right after
// they are written, so dispatch happens in the same tick; recovery feeds records it scans from
// the files through the same path.

import type { Logger } from '../common/index.js';
import { javaStringHashCode, tagsCodeOf } from '../message/java-hash.js';
import type { ConsumeQueueTable } from './consume-queue-table.js';
import type { KeyIndex } from './key-index.js';
import type { ArrivalListener } from './message-store.js';
import { MessageSysFlag, transactionType } from './record-codec.js';

export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';

/** What dispatch needs to know about one record. */
export interface DispatchRequest {
  topic: string;
  queueId: number;
  queueOffset: number;
  physicalOffset: number;
  size: number;
  tagsCode: number;
  storeTimestamp: number;
  sysFlag: number;
  /** Index hashes (`indexKeyHash`) of the UNIQ_KEY and each KEYS word: the first `keyCount`. */
  keyHashes: number[];
  keyCount: number;
}

/**
 * The consume-queue tag code: the TAGS hash, except in SCHEDULE_TOPIC_XXXX where it is the
 * delivery time (store time + delay of the DELAY level, capped at the highest level; protocol.md §6).
 */
export function computeTagsCode(
  topic: string,
  tags: string | undefined,
  delay: string | undefined,
  storeTimestamp: number,
  delayLevels: readonly number[],
): number {
  if (topic === SCHEDULE_TOPIC && delay !== undefined) {
    const level = Math.min(Number.parseInt(delay, 10), delayLevels.length);
    if (level > 0) return storeTimestamp + delayLevels[level - 1];
  }
  return tagsCodeOf(tags);
}

/** True for records that get a consume-queue entry and a queue offset (not half / rolled back). */
export function occupiesQueue(sysFlag: number): boolean {
  const t = transactionType(sysFlag);
  return t === MessageSysFlag.TRANSACTION_NOT_TYPE || t === MessageSysFlag.TRANSACTION_COMMIT_TYPE;
}

export class Dispatcher {
  /** Every record below this offset has been dispatched. */
  dispatchedOffset = 0;
  private readonly listeners = new Set<ArrivalListener>();
  dispatchedRecords = 0;

  constructor(
    private readonly queues: ConsumeQueueTable,
    private readonly index: KeyIndex,
    private readonly logger: Logger,
  ) {}

  onArrival(listener: ArrivalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Dispatches one record (records arrive in physical order); `notify` tells arrival listeners.
   * `r` is not kept, so callers may reuse it.
   */
  dispatchRecord(r: DispatchRequest, notify: boolean): void {
    this.apply(r, notify);
    const end = r.physicalOffset + r.size;
    if (end > this.dispatchedOffset) this.dispatchedOffset = end;
    this.index.noteDispatched(end);
  }

  /** Moves the dispatched position (past a filler, or to the end after recovery). */
  advanceTo(offset: number): void {
    if (offset > this.dispatchedOffset) this.dispatchedOffset = offset;
    this.index.noteDispatched(this.dispatchedOffset);
  }

  private apply(r: DispatchRequest, notify: boolean): void {
    this.dispatchedRecords++;
    const tran = transactionType(r.sysFlag);
    if (occupiesQueue(r.sysFlag)) {
      const cq = this.queues.findOrCreate(r.topic, r.queueId);
      if (cq.put(r.queueOffset, r.physicalOffset, r.size, r.tagsCode)) {
        cq.lastStoreTimestamp = r.storeTimestamp;
        if (notify && this.listeners.size > 0) this.notify(r);
      }
    }
    if (tran !== MessageSysFlag.TRANSACTION_ROLLBACK_TYPE) {
      for (let i = 0; i < r.keyCount; i++) this.index.add(r.keyHashes[i], r.physicalOffset, r.storeTimestamp);
    }
  }

  private notify(r: DispatchRequest): void {
    const maxOffset = BigInt(r.queueOffset + 1);
    const tags = BigInt(r.tagsCode);
    for (const listener of this.listeners) {
      try {
        listener(r.topic, r.queueId, maxOffset, tags);
      } catch (err) {
        this.logger.warn('arrival listener threw', { err });
      }
    }
  }
}

/**
 * Index key hashes of a record's UNIQ_KEY and KEYS words (split on single spaces, empty words
 * skipped) into `out` from index 0; returns how many. Hashes each word in place (no substrings).
 */
export function keyHashesInto(
  out: number[],
  seed: number,
  uniqKey: string | undefined,
  keys: string | undefined,
): number {
  let n = 0;
  if (uniqKey) out[n++] = javaStringHashCode(uniqKey, seed) >>> 0;
  if (keys) {
    let h = seed;
    let from = 0;
    for (let i = 0; i < keys.length; i++) {
      const c = keys.charCodeAt(i);
      if (c === 0x20) {
        if (i > from) out[n++] = h >>> 0;
        h = seed;
        from = i + 1;
      } else h = (Math.imul(31, h) + c) | 0;
    }
    if (keys.length > from) out[n++] = h >>> 0;
  }
  return n;
}

/** A request with every field zero or empty, for a scan or a writer to fill and reuse. */
export function emptyRequest(): DispatchRequest {
  return {
    topic: '',
    queueId: 0,
    queueOffset: 0,
    physicalOffset: 0,
    size: 0,
    tagsCode: 0,
    storeTimestamp: 0,
    sysFlag: 0,
    keyHashes: [],
    keyCount: 0,
  };
}
