// The contract between the broker and its store. The store knows files, offsets and durability;
// it knows nothing of sockets or request codes. Records are RocketMQ's stored layout
// (protocol.md §4.1), which is also what a pull response carries, so reads return raw bytes.

import type { HostAddress } from '../message/index.js';

export type { HostAddress };

/** What the broker hands the store to append; the store fills offsets and the store timestamp. */
export interface MessageToStore {
  topic: string;
  queueId: number;
  flag: number;
  body: Buffer;
  /** Properties in insertion order; encoded as name\u0001value\u0002… */
  properties: Map<string, string>;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: bigint;
  /**
   * SYNC_FLUSH only: false answers as soon as the record is written, without waiting for fdatasync
   * (the `WAIT=false` property). Default true.
   */
  waitStoreMsgOK?: boolean;
  /** Store host to record instead of the store's own (re-put of scheduled messages keeps the original). */
  storeHost?: HostAddress;
}

export type PutStatus =
  | 'PUT_OK'
  /** Written, but fdatasync did not finish in time (SYNC_FLUSH). Never reported as OK. */
  | 'FLUSH_DISK_TIMEOUT'
  | 'MESSAGE_ILLEGAL'
  | 'PROPERTIES_SIZE_EXCEEDED'
  /** Disk past its limit or the store is shutting down / read-only. */
  | 'SERVICE_NOT_AVAILABLE'
  /** Too many bytes already waiting for the writer; the broker answers SYSTEM_ERROR "broker busy". */
  | 'OS_PAGE_CACHE_BUSY'
  | 'UNKNOWN_ERROR';

export interface PutResult {
  status: PutStatus;
  /** Physical offset of the (first) record. */
  physicalOffset: bigint;
  /** Queue offset of the (first) record. */
  queueOffset: bigint;
  /** Number of records appended (1 for a single message). */
  count: number;
  wroteBytes: number;
  storeTimestamp: number;
  /** Offset message ids (storeHost + physical offset, protocol.md §5.1), one per record. */
  msgIds: string[];
  /** Human-readable reason when status is not PUT_OK. */
  remark?: string;
}

export type GetStatus =
  | 'FOUND'
  | 'NO_MATCHED_MESSAGE'
  | 'NO_MESSAGE_IN_QUEUE'
  | 'OFFSET_FOUND_NULL'
  | 'OFFSET_OVERFLOW_ONE'
  | 'OFFSET_OVERFLOW_BADLY'
  | 'OFFSET_TOO_SMALL'
  | 'NO_MATCHED_LOGIC_QUEUE'
  /** The matching entries point into CommitLog segments already deleted by retention. */
  | 'MESSAGE_WAS_REMOVING';

export interface GetResult {
  status: GetStatus;
  /** Raw stored records (protocol.md §4.1 layout), in queue order. */
  records: Buffer[];
  nextBeginOffset: bigint;
  minOffset: bigint;
  maxOffset: bigint;
}

/** Tag filter on the consume-queue tag hash; return true to deliver. */
export type TagFilter = (tagsCode: bigint) => boolean;

/** Fired after a record is dispatched to its consume queue (drives long polling). */
export type ArrivalListener = (topic: string, queueId: number, maxOffset: bigint, tagsCode: bigint) => void;

export interface MessageStore {
  /** Opens files, recovers after a crash, starts flush/dispatch services. */
  start(): Promise<void>;
  /** Flushes, writes the checkpoint, removes the abort marker. */
  shutdown(): Promise<void>;

  putMessage(msg: MessageToStore): Promise<PutResult>;
  /** All records of a batch share topic and queue; appended contiguously. */
  putMessages(msgs: MessageToStore[]): Promise<PutResult>;

  /**
   * Up to `maxMsgNums` records (capped by maxTransferCount/BytesOnMessageInMemory, at most 800
   * entries scanned) from queue offset `offset`, statuses as in protocol.md §3.3.3. Every record is
   * verified (magic, lengths, CRC, its own offset) before it is returned; one that fails is skipped.
   */
  getMessage(
    topic: string,
    queueId: number,
    offset: bigint,
    maxMsgNums: number,
    filter?: TagFilter,
  ): Promise<GetResult>;

  getMinOffsetInQueue(topic: string, queueId: number): bigint;
  getMaxOffsetInQueue(topic: string, queueId: number): bigint;
  /**
   * Queue offset of the first message stored at or after `timestamp` (ms); the max offset when all
   * are older, 0 for an empty queue (a simplification of Java 4.9's nearest-record search).
   */
  getOffsetInQueueByTime(topic: string, queueId: number, timestamp: number): Promise<bigint>;
  /** Store timestamp of the message at a queue offset, or -1 if absent. */
  getMessageStoreTimestamp(topic: string, queueId: number, offset: bigint): Promise<number>;

  /**
   * One record by physical offset (VIEW_MESSAGE_BY_ID, send-back, transactions); null unless a
   * valid record starts exactly there.
   */
  lookMessageByOffset(physicalOffset: bigint): Promise<Buffer | null>;
  /** Records whose KEYS word or UNIQ_KEY equals `key` within [begin, end] store time (ms). */
  queryMessage(topic: string, key: string, maxNum: number, begin: number, end: number): Promise<Buffer[]>;

  /**
   * Physical offset of the record at a queue offset, or -1 (e.g. for the "hot record" check).
   * Optional so that test doubles may omit it; FileMessageStore implements it.
   */
  getCommitLogOffsetInQueue?(topic: string, queueId: number, offset: bigint): Promise<bigint>;
  /** Store time and physical offset of the newest indexed record (QUERY_MESSAGE response header). */
  indexLastUpdate?(): { timestamp: number; physicalOffset: bigint };

  getMinPhyOffset(): bigint;
  getMaxPhyOffset(): bigint;

  /** Removes a topic's consume queues (its records age out with their segments). */
  deleteTopics(topics: Iterable<string>): Promise<void>;

  /**
   * Calls `listener` for every record as soon as it is dispatched to its consume queue — in the
   * same tick as the write completes, before the append is answered. Returns an unsubscribe.
   */
  onArrival(listener: ArrivalListener): () => void;
}
