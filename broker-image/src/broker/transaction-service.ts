// Transactional messages (protocol.md §3.10): END_TRANSACTION commits (re-puts the half message
// to its real topic) or rolls back, each recorded by an op record in RMQ_SYS_TRANS_OP_HALF_TOPIC
// as Java does; a periodic scan sends CHECK_TRANSACTION_STATE to a producer of the message's group
// for half messages left without an outcome, and discards them after transactionCheckMax checks.
// The op records live in the commit log; the scan progress and check counts in transaction.json.

import type { BrokerConfig, Logger } from '../common/index.js';
import {
  BrokerRequestCode,
  createRequest,
  createResponse,
  decodeHeader,
  markOneway,
  type RemotingCommand,
  ResponseCode,
} from '../protocol/index.js';
import {
  decodeRecord,
  type HostAddress,
  type MessageStore,
  type PutResult,
  type StoredRecord,
} from '../store/index.js';
import type { ProducerManager } from './client-manager.js';
import type { ConfigFiles } from './config-files.js';
import { MessageProperty, Perm, TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC } from './constants.js';
import type { TopicConfigManager } from './topic-config-manager.js';
import { TransactionBook } from './transaction-book.js';
import {
  checkRequestParts,
  committedMessage,
  halfRecordProblem,
  immunityMs,
  opDoneMessage,
  opDoneOffset,
} from './transaction-messages.js';

export const TRANSACTION_FILE = 'transaction.json';

/** END_TRANSACTION commitOrRollback values (sysFlag transaction types). */
export const TransactionOutcome = { UNKNOWN: 0, COMMIT: 8, ROLLBACK: 12 } as const;

const BATCH = 32;

export interface TransactionDeps {
  config(): BrokerConfig;
  store: MessageStore;
  files: ConfigFiles;
  topics: TopicConfigManager;
  producers: ProducerManager;
  logger: Logger;
  storeHost: HostAddress;
  now(): number;
  sendOneway(channelId: string, request: RemotingCommand): boolean;
  /** Counts outcomes (commit, rollback, check, discard) for metrics. */
  onOutcome?(outcome: 'commit' | 'rollback' | 'check' | 'discard'): void;
}

const END_HEADER = {
  producerGroup: 'string',
  tranStateTableOffset: 'long',
  commitLogOffset: 'long',
  commitOrRollback: 'int',
  fromTransactionCheck: 'boolean?',
  msgId: 'string?',
  transactionId: 'string?',
} as const;

/** Decodes a record the store served; one that does not decode is logged and skipped. */
function decodeOrLog(raw: Buffer, logger: Logger): StoredRecord | undefined {
  try {
    return decodeRecord(raw);
  } catch (err) {
    logger.error('unreadable transaction record skipped', { error: err });
    return undefined;
  }
}

function stored(result: PutResult): boolean {
  return result.status === 'PUT_OK' || result.status === 'FLUSH_DISK_TIMEOUT';
}

export class TransactionService {
  private readonly deps: TransactionDeps;
  readonly book = new TransactionBook();
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private stopped = true;
  /** Round-robin position per producer group for check-backs. */
  private readonly nextProducer = new Map<string, number>();

  constructor(deps: TransactionDeps) {
    this.deps = deps;
  }

  /** Reads transaction.json and replays the op queue from the saved position. */
  async load(): Promise<void> {
    const text = await this.deps.files.read(TRANSACTION_FILE);
    if (text !== null && text.trim() !== '') this.book.load(text);
    const { store } = this.deps;
    let offset = this.book.opOffset;
    for (;;) {
      const got = await store.getMessage(TRANS_OP_HALF_TOPIC, 0, offset, BATCH);
      for (const raw of got.records) {
        const record = decodeOrLog(raw, this.deps.logger);
        const half = record && opDoneOffset(record);
        if (record && half !== undefined) this.book.markDone(half, record.queueOffset);
      }
      if (got.nextBeginOffset <= offset && got.records.length === 0) break;
      offset = got.nextBeginOffset;
    }
    this.compact();
    this.book.takeChanged();
  }

  /** Starts the periodic check-back scan (every transactionCheckInterval, read each time). */
  start(): void {
    this.stopped = false;
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.scanning;
    await this.persist(true);
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.scanning = this.scan()
        .catch((err) => this.deps.logger.error('transaction check scan failed', { error: err }))
        .finally(() => {
          this.scanning = null;
          this.arm();
        });
    }, this.deps.config().transactionCheckInterval);
    this.timer.unref();
  }

  async persist(force = false): Promise<void> {
    if (!this.book.takeChanged() && !force) return;
    await this.deps.files.write(TRANSACTION_FILE, this.book.encode());
  }

  private compact(): void {
    const { store } = this.deps;
    this.book.compact(
      store.getMinOffsetInQueue(TRANS_HALF_TOPIC, 0),
      store.getMaxOffsetInQueue(TRANS_HALF_TOPIC, 0),
      store.getMaxOffsetInQueue(TRANS_OP_HALF_TOPIC, 0),
    );
  }

  /** END_TRANSACTION (37). */
  readonly endTransaction = async (request: RemotingCommand): Promise<RemotingCommand> => {
    const { logger } = this.deps;
    const config = this.deps.config();
    const fail = (code: number, remark: string) => createResponse(request, code, { remark });
    if (config.brokerRole === 'SLAVE') {
      return fail(ResponseCode.SLAVE_NOT_AVAILABLE, 'Message can not be written to a slave broker');
    }
    const h = decodeHeader(request.extFields, END_HEADER);
    if (h.commitOrRollback === TransactionOutcome.UNKNOWN) return createResponse(request);
    if (
      h.commitOrRollback !== TransactionOutcome.COMMIT &&
      h.commitOrRollback !== TransactionOutcome.ROLLBACK
    ) {
      return fail(
        ResponseCode.SYSTEM_ERROR,
        `commitOrRollback must be 0 (unknown), 8 (commit) or 12 (rollback), got ${h.commitOrRollback}`,
      );
    }
    const raw = await this.deps.store.lookMessageByOffset(h.commitLogOffset);
    if (!raw) {
      return fail(
        ResponseCode.SYSTEM_ERROR,
        `Find prepared transaction message failed, offset ${h.commitLogOffset}`,
      );
    }
    const record = decodeRecord(raw);
    const problem = halfRecordProblem(record, h);
    if (problem) return fail(ResponseCode.SYSTEM_ERROR, problem);
    // A second answer for the same half message (e.g. the producer's own and a check-back's) is a no-op.
    if (!this.book.claim(record.queueOffset)) return createResponse(request);
    const commit = h.commitOrRollback === TransactionOutcome.COMMIT;
    try {
      if (commit) {
        const result = await this.deps.store.putMessage(committedMessage(record));
        if (!stored(result)) {
          this.book.release(record.queueOffset);
          return fail(
            ResponseCode.SYSTEM_ERROR,
            `committing failed: ${result.status} ${result.remark ?? ''}`.trim(),
          );
        }
      }
      await this.finish(record);
    } catch (err) {
      this.book.release(record.queueOffset);
      throw err;
    }
    this.deps.onOutcome?.(commit ? 'commit' : 'rollback');
    logger.debug('transaction finished', {
      outcome: commit ? 'commit' : 'rollback',
      halfOffset: record.queueOffset.toString(),
      fromCheck: h.fromTransactionCheck === true,
      remark: request.remark,
    });
    return createResponse(request);
  };

  /** Writes the op record that finishes a claimed half message. */
  private async finish(record: StoredRecord): Promise<void> {
    const now = this.deps.now();
    await this.deps.topics.createIfAbsent(TRANS_OP_HALF_TOPIC, 1, Perm.READ | Perm.WRITE, 0, now);
    const result = await this.deps.store.putMessage(
      opDoneMessage(record.queueOffset, this.deps.storeHost, now),
    );
    if (!stored(result)) {
      // The real message (if committing) is stored; without the op record a check-back may ask
      // again, and the producer's answer is then applied once more (at-least-once).
      this.book.release(record.queueOffset);
      throw new Error(`writing the transaction op record failed: ${result.status} ${result.remark ?? ''}`);
    }
    this.book.markDone(record.queueOffset, result.queueOffset);
  }

  /** One pass over the pending half messages (also called directly by tests). */
  async scan(): Promise<void> {
    const { store, logger } = this.deps;
    this.compact();
    let offset = this.book.halfOffset;
    const max = store.getMaxOffsetInQueue(TRANS_HALF_TOPIC, 0);
    scan: while (offset < max && !this.stopped) {
      const got = await store.getMessage(TRANS_HALF_TOPIC, 0, offset, BATCH);
      if (got.records.length === 0) {
        if (got.nextBeginOffset <= offset) break;
        offset = got.nextBeginOffset;
        continue;
      }
      for (const raw of got.records) {
        const record = decodeOrLog(raw, logger);
        if (!record) continue;
        const config = this.deps.config();
        const decision = this.book.decide(
          record.queueOffset,
          record.storeTimestamp,
          immunityMs(record),
          this.deps.now(),
          {
            timeoutMs: config.transactionTimeOut,
            checkMax: config.transactionCheckMax,
          },
        );
        if (decision === 'stop') break scan;
        if (decision === 'check') this.check(record);
        else if (decision === 'discard' && this.book.claim(record.queueOffset)) {
          logger.warn('half message discarded after the maximum number of check-backs', {
            halfOffset: record.queueOffset.toString(),
            producerGroup: record.properties.get(MessageProperty.PRODUCER_GROUP),
            msgId: record.properties.get(MessageProperty.UNIQ_KEY),
            checks: config.transactionCheckMax,
          });
          await this.finish(record);
          this.deps.onOutcome?.('discard');
        }
      }
      offset = got.nextBeginOffset;
    }
    this.compact();
    await this.persist();
  }

  private check(record: StoredRecord): void {
    const group = record.properties.get(MessageProperty.PRODUCER_GROUP) ?? '';
    const count = this.book.recordCheck(record.queueOffset, this.deps.now());
    const members = group ? this.deps.producers.members(group) : [];
    if (members.length === 0) {
      this.deps.logger.debug('no producer online for a transaction check-back', { group, count });
      return;
    }
    const { extFields, body } = checkRequestParts(record);
    const start = this.nextProducer.get(group) ?? 0;
    for (let i = 0; i < members.length; i++) {
      const member = members[(start + i) % members.length];
      const request = markOneway(
        createRequest(BrokerRequestCode.CHECK_TRANSACTION_STATE, { extFields, body }),
      );
      if (this.deps.sendOneway(member.channelId, request)) {
        this.nextProducer.set(group, (start + i + 1) % members.length);
        this.deps.onOutcome?.('check');
        return;
      }
    }
  }
}
