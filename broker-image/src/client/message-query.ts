// Pure parts of message lookup for tools (protocol.md §3.9, §5): filtering what brokers return for
// a key or unique-key query, telling an offset message id from a client id, the time window a
// unique key implies, timestamps as users type them, and what to keep when re-sending a message.

import { type MessageExt, MessageProperty } from './message.js';
import { decodeOffsetMsgId } from './message-decoder.js';
import { uniqKeyTimestamp } from './uniq-key.js';

/** Keeps records of `topic` whose KEYS contain `key` (index hash collisions come back too), oldest first. */
export function filterByKey(records: readonly MessageExt[], topic: string, key: string): MessageExt[] {
  return records
    .filter((m) => m.topic === topic && (m.keys ?? '').split(' ').includes(key))
    .sort((a, b) => a.storeTimestamp - b.storeTimestamp);
}

/** The record whose UNIQ_KEY is `uniqKey` (earliest store time wins), if any. */
export function pickByUniqKey(records: readonly MessageExt[], uniqKey: string): MessageExt | undefined {
  let best: MessageExt | undefined;
  for (const m of records) {
    if (m.properties[MessageProperty.UNIQ_KEY] !== uniqKey) continue;
    if (!best || m.storeTimestamp < best.storeTimestamp) best = m;
  }
  return best;
}

/** The broker address and physical offset an offset message id names, or undefined if it is not one. */
export function parseOffsetMsgId(id: string): { address: string; physicalOffset: bigint } | undefined {
  try {
    const decoded = decodeOffsetMsgId(id);
    const port = Number(decoded.address.slice(decoded.address.lastIndexOf(':') + 1));
    if (!Number.isInteger(port) || port <= 0 || port > 65535 || decoded.physicalOffset < 0n) return undefined;
    return decoded;
  } catch {
    return undefined;
  }
}

/**
 * Query window for a unique key: from its embedded time minus a margin (the time is only
 * month-relative and in the producer's time zone; the dashboard allows 13 h) to now.
 */
export function uniqKeyWindow(uniqKey: string, now: number): { begin: number; end: number } {
  let begin = 0;
  try {
    begin = Math.max(0, uniqKeyTimestamp(uniqKey, now) - 13 * 3_600_000);
  } catch {
    begin = 0;
  }
  return { begin, end: now };
}

/** Epoch ms, or `yyyyMMddHHmmss` (local time) as mqadmin accepts; -1 means "the end of the queue". */
export function parseUserTimestamp(text: string): number {
  if (/^-?\d+$/.test(text) && text.length !== 14) {
    const n = Number(text);
    if (n === -1 || (Number.isSafeInteger(n) && n >= 0)) return n;
  }
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) throw new Error(`timestamp "${text}" is neither epoch milliseconds nor yyyyMMddHHmmss`);
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const date = new Date(y, mo - 1, d, h, mi, s);
  if (date.getMonth() !== mo - 1 || date.getDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new Error(`timestamp "${text}" is not a valid date`);
  }
  return date.getTime();
}

/** Properties the broker or client adds; a re-send leaves them out (and gets a new UNIQ_KEY). */
const SYSTEM_PROPERTIES = new Set<string>([
  MessageProperty.UNIQ_KEY,
  MessageProperty.WAIT,
  MessageProperty.DELAY,
  MessageProperty.RETRY_TOPIC,
  MessageProperty.ORIGIN_MESSAGE_ID,
  MessageProperty.RECONSUME_TIME,
  MessageProperty.MAX_RECONSUME_TIMES,
  MessageProperty.MIN_OFFSET,
  MessageProperty.MAX_OFFSET,
  MessageProperty.CONSUME_START_TIME,
  MessageProperty.TRAN_MSG,
  MessageProperty.KEYS,
  MessageProperty.TAGS,
  'PGROUP',
  'REAL_TOPIC',
  'REAL_QID',
  'CLUSTER',
  'MSG_REGION',
  'TRACE_ON',
  'TRAN_PREPARED_QUEUE_OFFSET',
  'TRANSACTION_CHECK_TIMES',
  'CHECK_IMMUNITY_TIME_IN_SECONDS',
]);

/** Where a dead-lettered (or retried) message came from: RETRY_TOPIC, else its own topic. */
export function originalTopic(msg: MessageExt): string {
  return msg.properties[MessageProperty.RETRY_TOPIC] ?? msg.topic;
}

/** A message to send again to its original topic: same body, tags, keys, flag and user properties. */
export function resendableCopy(msg: MessageExt): {
  topic: string;
  body: Buffer;
  tags?: string;
  keys?: string;
  flag: number;
  properties: Record<string, string>;
} {
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(msg.properties)) if (!SYSTEM_PROPERTIES.has(k)) properties[k] = v;
  const origin = msg.properties[MessageProperty.ORIGIN_MESSAGE_ID] ?? msg.msgId;
  properties.BOLIDE_RESENT_FROM = origin;
  return {
    topic: originalTopic(msg),
    body: msg.body,
    tags: msg.tags,
    keys: msg.keys,
    flag: msg.flag,
    properties,
  };
}
