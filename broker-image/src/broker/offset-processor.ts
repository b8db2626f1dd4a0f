// Offsets (protocol.md §3.4): committed consumer offsets, queue min/max, offset by time and the
// earliest store time. Plain request/response handlers over the store and the offset table.

import { createResponse, decodeHeader, type RemotingCommand, ResponseCode } from '../protocol/index.js';
import type { BrokerRuntime } from './runtime.js';

/** Byte position of physicalOffset in a stored record (protocol.md §4.1). */
const PHYSICAL_OFFSET_POS = 28;

export function queryConsumerOffset(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, { consumerGroup: 'string', topic: 'string', queueId: 'int' });
    const stored = rt.offsets.query(h.consumerGroup, h.topic, h.queueId);
    if (stored !== undefined) {
      return createResponse(req, ResponseCode.SUCCESS, { extFields: { offset: stored.toString() } });
    }
    // Java's rule: a queue still starting at 0 whose first record is "hot" makes a new group start at 0.
    const min = rt.store.getMinOffsetInQueue(h.topic, h.queueId);
    if (min <= 0n && (await firstRecordIsHot(rt, h.topic, h.queueId))) {
      return createResponse(req, ResponseCode.SUCCESS, { extFields: { offset: '0' } });
    }
    return createResponse(req, ResponseCode.QUERY_NOT_FOUND, {
      remark: 'Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first',
    });
  };
}

/** Whether the record at queue offset 0 lies within the configured distance of the log head. */
async function firstRecordIsHot(rt: BrokerRuntime, topic: string, queueId: number): Promise<boolean> {
  if (rt.store.getMaxOffsetInQueue(topic, queueId) <= 0n) return true;
  const limit = BigInt(rt.config.queryOffsetFromZeroMaxLogBytes);
  let physical: bigint;
  if (rt.store.getCommitLogOffsetInQueue) {
    physical = await rt.store.getCommitLogOffsetInQueue(topic, queueId, 0n);
  } else {
    const first = (await rt.store.getMessage(topic, queueId, 0n, 1)).records[0];
    physical =
      first && first.length >= PHYSICAL_OFFSET_POS + 8 ? first.readBigInt64BE(PHYSICAL_OFFSET_POS) : -1n;
  }
  if (physical < 0n) return false;
  return rt.store.getMaxPhyOffset() - physical <= limit;
}

export function updateConsumerOffset(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, {
      consumerGroup: 'string',
      topic: 'string',
      queueId: 'int',
      commitOffset: 'long',
    });
    rt.offsets.commit(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
    return createResponse(req);
  };
}

export function getMaxOffset(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, { topic: 'string', queueId: 'int' });
    const offset = rt.store.getMaxOffsetInQueue(h.topic, h.queueId);
    return createResponse(req, ResponseCode.SUCCESS, { extFields: { offset: offset.toString() } });
  };
}

export function getMinOffset(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, { topic: 'string', queueId: 'int' });
    const offset = rt.store.getMinOffsetInQueue(h.topic, h.queueId);
    return createResponse(req, ResponseCode.SUCCESS, { extFields: { offset: offset.toString() } });
  };
}

export function searchOffsetByTimestamp(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, { topic: 'string', queueId: 'int', timestamp: 'long' });
    const offset = await rt.store.getOffsetInQueueByTime(h.topic, h.queueId, Number(h.timestamp));
    return createResponse(req, ResponseCode.SUCCESS, { extFields: { offset: offset.toString() } });
  };
}

export function getEarliestMsgStoreTime(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, { topic: 'string', queueId: 'int' });
    const min = rt.store.getMinOffsetInQueue(h.topic, h.queueId);
    const max = rt.store.getMaxOffsetInQueue(h.topic, h.queueId);
    const timestamp = max > min ? await rt.store.getMessageStoreTimestamp(h.topic, h.queueId, min) : -1;
    return createResponse(req, ResponseCode.SUCCESS, { extFields: { timestamp: String(timestamp) } });
  };
}

/** GET_ALL_CONSUMER_OFFSET: the consumerOffset.json content. */
export function getAllConsumerOffset(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> =>
    createResponse(req, ResponseCode.SUCCESS, { body: Buffer.from(rt.offsets.encode(), 'utf8') });
}
