// Delay levels (protocol.md §6): the `messageDelayLevel` table, the DELAY property a producer or
// the send-back path sets, and how a delayed message is parked in SCHEDULE_TOPIC_XXXX and later
// restored to its real topic. Pure: no store, no clock.

import type { MessageToStore, StoredRecord } from '../store/index.js';
import { parseDelayLevels } from '../store/index.js';
import { MessageProperty, MessageSysFlag, SCHEDULE_TOPIC } from './constants.js';

export class DelayLevelTable {
  /** Delay in ms of level i + 1. */
  readonly delays: readonly number[];

  constructor(text: string) {
    const delays = parseDelayLevels(text);
    if (!delays || delays.length === 0) throw new Error(`bad messageDelayLevel: ${JSON.stringify(text)}`);
    this.delays = delays;
  }

  get maxLevel(): number {
    return this.delays.length;
  }

  /** Delay of a level in [1, maxLevel]. */
  delayOf(level: number): number {
    return this.delays[level - 1];
  }

  /** A broker-chosen level (send-back: 3 + reconsumeTimes) capped into the table, as Java does. */
  capped(level: number): number {
    return Math.max(1, Math.min(level, this.maxLevel));
  }
}

/** A DELAY property as requested by a client: none, a valid level, or a problem to answer with. */
export type RequestedDelay = { level: number } | { problem: string };

/**
 * Reads the DELAY property of a message to send. Absent, 0 or negative means no delay (Java
 * ignores levels ≤ 0); a level above the table or a non-integer is refused rather than silently
 * changed, so the producer learns of the mistake.
 */
export function requestedDelay(value: string | undefined, table: DelayLevelTable): RequestedDelay {
  if (value === undefined || value.trim() === '') return { level: 0 };
  const text = value.trim();
  if (!/^[+-]?\d{1,10}$/.test(text)) {
    return { problem: `delay level "${value}" is not an integer (levels 1-${table.maxLevel}, 0 = none)` };
  }
  const level = Number(text);
  if (level <= 0) return { level: 0 };
  if (level > table.maxLevel) {
    return {
      problem: `delay level ${level} is out of range: this broker has levels 1-${table.maxLevel} (messageDelayLevel)`,
    };
  }
  return { level };
}

/** Only plain and committed messages are delayed; half and rolled-back ones never are (Java). */
export function isDelayable(sysFlag: number): boolean {
  const type = sysFlag & MessageSysFlag.TRANSACTION_MASK;
  return type === 0 || type === MessageSysFlag.TRANSACTION_COMMIT;
}

/**
 * Parks a message in SCHEDULE_TOPIC_XXXX queue level−1, remembering its real topic and queue
 * (protocol.md §6). The DELAY property is set to the level, so the store computes the delivery
 * time into the queue's tag slot.
 */
export function toScheduled(msg: MessageToStore, level: number): MessageToStore {
  const properties = new Map(msg.properties);
  properties.set(MessageProperty.REAL_TOPIC, msg.topic);
  properties.set(MessageProperty.REAL_QID, String(msg.queueId));
  properties.set(MessageProperty.DELAY, String(level));
  return { ...msg, topic: SCHEDULE_TOPIC, queueId: level - 1, properties };
}

/** Where a scheduled record goes when due; undefined when its REAL_TOPIC/REAL_QID are unusable. */
export function scheduledTarget(record: StoredRecord): { topic: string; queueId: number } | undefined {
  const topic = record.properties.get(MessageProperty.REAL_TOPIC);
  const qid = record.properties.get(MessageProperty.REAL_QID);
  if (!topic || qid === undefined || !/^\d{1,9}$/.test(qid)) return undefined;
  return { topic, queueId: Number(qid) };
}

/**
 * The message that re-enters the real topic when a scheduled record is due: same body, flag,
 * sysFlag, born/store host, reconsumeTimes and properties. DELAY is dropped so nothing schedules it
 * again (protocol.md §6 allows keeping or dropping it); REAL_TOPIC/REAL_QID stay, as in Java.
 */
export function fromScheduled(
  record: StoredRecord,
  target: { topic: string; queueId: number },
): MessageToStore {
  const properties = new Map(record.properties);
  properties.delete(MessageProperty.DELAY);
  return {
    topic: target.topic,
    queueId: target.queueId,
    flag: record.flag,
    body: Buffer.from(record.body),
    properties,
    sysFlag: record.sysFlag,
    bornTimestamp: record.bornTimestamp,
    bornHost: record.bornHost,
    reconsumeTimes: record.reconsumeTimes,
    preparedTransactionOffset: record.preparedTransactionOffset,
    storeHost: record.storeHost,
    waitStoreMsgOK: false,
  };
}
