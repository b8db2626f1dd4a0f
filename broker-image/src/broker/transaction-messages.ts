// The records of transactional messaging (protocol.md §3.10), as pure transformations: the half
// message parked in RMQ_SYS_TRANS_HALF_TOPIC, the committed copy in the real topic, the "done"
// marker in RMQ_SYS_TRANS_OP_HALF_TOPIC, and the body of a CHECK_TRANSACTION_STATE request.

import type { HostAddress, MessageToStore, StoredRecord } from '../store/index.js';
import { createOffsetMessageId, encodeRecord } from '../store/index.js';
import { MessageProperty, MessageSysFlag, TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC } from './constants.js';

/** Tag of an op record that marks a half message as finished (Java's REMOVETAG). */
export const OP_DONE_TAG = 'd';

/** Parks a prepared message in the half topic, queue 0, with its real topic and queue remembered. */
export function toHalfMessage(msg: MessageToStore): MessageToStore {
  const properties = new Map(msg.properties);
  properties.set(MessageProperty.REAL_TOPIC, msg.topic);
  properties.set(MessageProperty.REAL_QID, String(msg.queueId));
  return {
    ...msg,
    topic: TRANS_HALF_TOPIC,
    queueId: 0,
    // Cleared so the half record gets a queue entry in the half topic (Java does the same).
    sysFlag: msg.sysFlag & ~MessageSysFlag.TRANSACTION_MASK,
    properties,
  };
}

export interface EndTransactionRef {
  producerGroup: string;
  tranStateTableOffset: bigint;
  commitLogOffset: bigint;
}

/** Why a record cannot be the half message an END_TRANSACTION names, or undefined when it is. */
export function halfRecordProblem(record: StoredRecord, ref: EndTransactionRef): string | undefined {
  if (record.topic !== TRANS_HALF_TOPIC) {
    return `the message at commit log offset ${ref.commitLogOffset} is not a half (prepared) message`;
  }
  const group = record.properties.get(MessageProperty.PRODUCER_GROUP);
  if (group !== ref.producerGroup) {
    return `The producer group wrong: the half message belongs to ${group ?? '(none)'}, not ${ref.producerGroup}`;
  }
  if (record.queueOffset !== ref.tranStateTableOffset) {
    return `The transaction state table offset wrong: ${ref.tranStateTableOffset}, the half message is at ${record.queueOffset}`;
  }
  if (record.physicalOffset !== ref.commitLogOffset) return 'The commit log offset wrong';
  return realTarget(record) ? undefined : 'the half message has no usable REAL_TOPIC/REAL_QID';
}

/** REAL_TOPIC / REAL_QID of a half record. */
export function realTarget(record: StoredRecord): { topic: string; queueId: number } | undefined {
  const topic = record.properties.get(MessageProperty.REAL_TOPIC);
  const qid = record.properties.get(MessageProperty.REAL_QID);
  if (!topic || qid === undefined || !/^\d{1,9}$/.test(qid)) return undefined;
  return { topic, queueId: Number(qid) };
}

/**
 * The committed copy: the half record's body, flag, hosts, times and properties (TRAN_MSG, PGROUP,
 * REAL_TOPIC, REAL_QID kept, as Java's stored copy keeps them) in the real topic and queue, with
 * transaction type COMMIT and preparedTransactionOffset pointing at the half record.
 */
export function committedMessage(record: StoredRecord): MessageToStore {
  const target = realTarget(record);
  if (!target) throw new Error('half record without REAL_TOPIC/REAL_QID');
  return {
    topic: target.topic,
    queueId: target.queueId,
    flag: record.flag,
    body: Buffer.from(record.body),
    properties: new Map(record.properties),
    sysFlag: (record.sysFlag & ~MessageSysFlag.TRANSACTION_MASK) | MessageSysFlag.TRANSACTION_COMMIT,
    bornTimestamp: record.bornTimestamp,
    bornHost: record.bornHost,
    reconsumeTimes: record.reconsumeTimes,
    preparedTransactionOffset: record.physicalOffset,
    storeHost: record.storeHost,
  };
}

/** The op record saying "half queue offset N is finished" (committed, rolled back or discarded). */
export function opDoneMessage(halfQueueOffset: bigint, host: HostAddress, now: number): MessageToStore {
  return {
    topic: TRANS_OP_HALF_TOPIC,
    queueId: 0,
    flag: 0,
    body: Buffer.from(halfQueueOffset.toString(), 'utf8'),
    properties: new Map([[MessageProperty.TAGS, OP_DONE_TAG]]),
    sysFlag: 0,
    bornTimestamp: now,
    bornHost: host,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
  };
}

/** The half queue offset an op record finishes, or undefined for a record that is not one. */
export function opDoneOffset(record: StoredRecord): bigint | undefined {
  if (record.properties.get(MessageProperty.TAGS) !== OP_DONE_TAG) return undefined;
  const text = record.body.toString('utf8');
  return /^\d{1,19}$/.test(text) ? BigInt(text) : undefined;
}

/** extFields and body of CHECK_TRANSACTION_STATE for a half record (protocol.md §3.10). */
export function checkRequestParts(record: StoredRecord): { extFields: Record<string, string>; body: Buffer } {
  const target = realTarget(record);
  const offsetMsgId = createOffsetMessageId(record.storeHost, record.physicalOffset);
  const uniqKey = record.properties.get(MessageProperty.UNIQ_KEY) ?? offsetMsgId;
  const body = encodeRecord({
    ...record,
    topic: target?.topic ?? record.topic,
    queueId: target?.queueId ?? record.queueId,
    properties: record.propertiesString,
  });
  return {
    extFields: {
      tranStateTableOffset: record.queueOffset.toString(),
      commitLogOffset: record.physicalOffset.toString(),
      msgId: uniqKey,
      transactionId: uniqKey,
      offsetMsgId,
    },
    body,
  };
}

/** Check-back immunity of a half record: its CHECK_IMMUNITY_TIME_IN_SECONDS, if valid. */
export function immunityMs(record: StoredRecord): number | undefined {
  const text = record.properties.get(MessageProperty.CHECK_IMMUNITY_TIME_IN_SECONDS);
  if (text === undefined || !/^\d{1,9}$/.test(text.trim())) return undefined;
  return Number(text.trim()) * 1000;
}
