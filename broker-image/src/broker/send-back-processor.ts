// CONSUMER_SEND_MSG_BACK (36): a consumer gives a message back for a later retry (protocol.md §3.6).
// The original record is re-read by its commit log offset and written anew to %RETRY%<group>
// through the delay queue (level 3 + reconsumeTimes unless the consumer asks for one), or to
// %DLQ%<group> once it has been retried maxReconsumeTimes times.

import { createResponse, decodeHeader, type RemotingCommand, ResponseCode } from '../protocol/index.js';
import {
  createOffsetMessageId,
  decodeRecord,
  type MessageToStore,
  type StoredRecord,
} from '../store/index.js';
import {
  dlqTopicOf,
  isWriteable,
  MessageProperty,
  Perm,
  RETRY_GROUP_TOPIC_PREFIX,
  retryTopicOf,
  SCHEDULE_TOPIC,
  TRANS_HALF_TOPIC,
  TRANS_OP_HALF_TOPIC,
  VERSION_HONOURING_MAX_RECONSUME,
} from './constants.js';
import { toScheduled } from './delay-levels.js';
import type { BrokerRuntime } from './runtime.js';
import { groupNameProblem } from './topic-validation.js';

const SEND_BACK_HEADER = {
  offset: 'long',
  group: 'string',
  delayLevel: 'int',
  originMsgId: 'string?',
  originTopic: 'string?',
  unitMode: 'boolean?',
  maxReconsumeTimes: 'int?',
} as const;

const FAQ = '\nSee http://rocketmq.apache.org/docs/faq/ for further details.';

/** Internal topics whose records no consumer ever received, so they cannot be sent back. */
const NOT_CONSUMABLE = new Set([SCHEDULE_TOPIC, TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC]);

export type SendBackTarget = { kind: 'retry'; level: number } | { kind: 'dlq' };

/**
 * Where a given-back message goes (protocol.md §3.6 step 5): the DLQ once it was reconsumed `limit`
 * times or when the consumer asks for it (level < 0); else a retry with the requested level, or
 * 3 + reconsumeTimes capped at the highest level.
 */
export function sendBackTarget(
  reconsumeTimes: number,
  limit: number,
  requestedLevel: number,
  maxLevel: number,
): SendBackTarget | { problem: string } {
  if (reconsumeTimes >= limit || requestedLevel < 0) return { kind: 'dlq' };
  if (requestedLevel > maxLevel) {
    return {
      problem: `delay level ${requestedLevel} is out of range: this broker has levels 1-${maxLevel} (messageDelayLevel)`,
    };
  }
  if (requestedLevel > 0) return { kind: 'retry', level: requestedLevel };
  return { kind: 'retry', level: Math.min(3 + reconsumeTimes, maxLevel) };
}

/** The new record for the retry or DLQ topic, built from the original as stored. */
export function sendBackMessage(
  record: StoredRecord,
  topic: string,
  queueId: number,
  original: { offsetMsgId: string },
): MessageToStore {
  const properties = new Map(record.properties);
  if (!properties.has(MessageProperty.RETRY_TOPIC)) properties.set(MessageProperty.RETRY_TOPIC, record.topic);
  if (!properties.has(MessageProperty.ORIGIN_MESSAGE_ID)) {
    properties.set(MessageProperty.ORIGIN_MESSAGE_ID, original.offsetMsgId);
  }
  properties.delete(MessageProperty.DELAY);
  properties.delete(MessageProperty.WAIT);
  return {
    topic,
    queueId,
    flag: record.flag,
    body: Buffer.from(record.body),
    properties,
    sysFlag: record.sysFlag,
    bornTimestamp: record.bornTimestamp,
    bornHost: record.bornHost,
    reconsumeTimes: record.reconsumeTimes + 1,
    preparedTransactionOffset: 0n,
  };
}

export function createSendBackProcessor(rt: BrokerRuntime) {
  return async (request: RemotingCommand): Promise<RemotingCommand> => {
    const fail = (code: number, remark: string) => createResponse(request, code, { remark });
    const h = decodeHeader(request.extFields, SEND_BACK_HEADER);
    if (!rt.acceptingRequests()) {
      return fail(ResponseCode.SERVICE_NOT_AVAILABLE, `broker[${rt.brokerAddr}] is starting or stopping`);
    }
    if (rt.config.brokerRole === 'SLAVE') {
      return fail(ResponseCode.SLAVE_NOT_AVAILABLE, `broker[${rt.brokerAddr}] is a slave`);
    }
    const groupProblem = groupNameProblem(h.group);
    if (groupProblem) return fail(ResponseCode.SYSTEM_ERROR, groupProblem);
    const now = rt.now();
    const group = await rt.groups.findOrCreate(h.group, now);
    if (!group) {
      return fail(
        ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
        `subscription group not exist, ${h.group}${FAQ}`,
      );
    }
    if (!isWriteable(rt.config.brokerPermission)) {
      return fail(ResponseCode.NO_PERMISSION, `the broker[${rt.brokerAddr}] sending message is forbidden`);
    }
    if (group.retryQueueNums <= 0) return createResponse(request);

    const retryTopic = retryTopicOf(h.group);
    const retry = await rt.topics.createIfAbsent(
      retryTopic,
      group.retryQueueNums,
      Perm.READ | Perm.WRITE,
      0,
      now,
    );
    if (!isWriteable(retry.config.perm)) {
      return fail(ResponseCode.NO_PERMISSION, `the topic[${retryTopic}] sending message is forbidden`);
    }

    const raw = h.offset >= 0n ? await rt.store.lookMessageByOffset(h.offset) : null;
    if (!raw) return fail(ResponseCode.SYSTEM_ERROR, `look message by offset failed, ${h.offset}`);
    const record = decodeRecord(raw);
    if (NOT_CONSUMABLE.has(record.topic)) {
      return fail(
        ResponseCode.SYSTEM_ERROR,
        `the message at offset ${h.offset} is in internal topic ${record.topic} and cannot be sent back`,
      );
    }

    let limit = group.retryMaxTimes;
    if (request.version >= VERSION_HONOURING_MAX_RECONSUME && h.maxReconsumeTimes !== undefined) {
      limit = h.maxReconsumeTimes;
    }
    const target = sendBackTarget(record.reconsumeTimes, limit, h.delayLevel, rt.delayLevels.maxLevel);
    if ('problem' in target) return fail(ResponseCode.MESSAGE_ILLEGAL, target.problem);

    const original = { offsetMsgId: createOffsetMessageId(record.storeHost, record.physicalOffset) };
    let msg: MessageToStore;
    if (target.kind === 'dlq') {
      const dlqTopic = dlqTopicOf(h.group);
      // One queue, readable so an operator can inspect and re-send; no consumer subscribes to it.
      await rt.topics.createIfAbsent(dlqTopic, 1, Perm.READ | Perm.WRITE, 0, now);
      msg = sendBackMessage(record, dlqTopic, 0, original);
    } else {
      const queueId = Math.floor(Math.random() * group.retryQueueNums);
      msg = toScheduled(sendBackMessage(record, retryTopic, queueId, original), target.level);
    }
    msg.properties.set(MessageProperty.CLUSTER, rt.config.brokerClusterName);

    const result = await rt.store.putMessage(msg);
    if (result.status !== 'PUT_OK' && result.status !== 'FLUSH_DISK_TIMEOUT') {
      return fail(ResponseCode.SYSTEM_ERROR, `${result.status}${result.remark ? `: ${result.remark}` : ''}`);
    }
    const finalTopic = target.kind === 'dlq' ? dlqTopicOf(h.group) : retryTopic;
    // Counted under the topic it ends in (the retry copy reaches it when due), like a send.
    const doneAt = rt.now();
    rt.stats.recordPut(finalTopic, 1, msg.body.length, doneAt - now, doneAt);
    rt.metrics.messagesIn.inc({ topic: finalTopic });
    rt.metrics.bytesIn.inc({ topic: finalTopic }, msg.body.length);
    rt.metrics.sentBack.inc({ group: h.group, target: target.kind });
    rt.logger.debug('message sent back', {
      group: h.group,
      topic: finalTopic,
      reconsumeTimes: msg.reconsumeTimes,
      level: target.kind === 'retry' ? target.level : undefined,
      fromRetry: record.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX),
    });
    return createResponse(request);
  };
}
