// QUERY_MESSAGE (12) and VIEW_MESSAGE_BY_ID (33) (protocol.md §3.9): records by key or unique key
// from the index, and one record by its commit log offset. Bodies are raw records (§4.1).

import { createResponse, decodeHeader, type RemotingCommand, ResponseCode } from '../protocol/index.js';
import type { BrokerRuntime } from './runtime.js';

/** Java's maxMsgsNumBatch: the most records one query answers. */
export const QUERY_MAX_NUM = 64;
/** Java's defaultQueryMaxNum, used for unique-key queries whatever the client asked. */
export const UNIQUE_KEY_QUERY_MAX_NUM = 32;
export const UNIQUE_KEY_QUERY_FLAG = '_UNIQUE_KEY_QUERY';

const QUERY_HEADER = {
  topic: 'string',
  key: 'string',
  maxNum: 'int',
  beginTimestamp: 'long',
  endTimestamp: 'long',
} as const;

/** Clamps a long header value into the safe-integer range the store works with. */
function toTime(value: bigint): number {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (value > max) return Number.MAX_SAFE_INTEGER;
  if (value < -max) return -Number.MAX_SAFE_INTEGER;
  return Number(value);
}

export function queryMessage(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, QUERY_HEADER);
    const unique = req.extFields[UNIQUE_KEY_QUERY_FLAG] === 'true';
    const maxNum = unique ? UNIQUE_KEY_QUERY_MAX_NUM : Math.min(h.maxNum, QUERY_MAX_NUM);
    const records =
      maxNum > 0 && h.key !== ''
        ? await rt.store.queryMessage(
            h.topic,
            h.key,
            maxNum,
            toTime(h.beginTimestamp),
            toTime(h.endTimestamp),
          )
        : [];
    const last = rt.store.indexLastUpdate?.() ?? { timestamp: 0, physicalOffset: 0n };
    const extFields = {
      indexLastUpdateTimestamp: String(last.timestamp),
      indexLastUpdatePhyoffset: last.physicalOffset.toString(),
    };
    if (records.length === 0) {
      return createResponse(req, ResponseCode.QUERY_NOT_FOUND, {
        extFields,
        remark: 'can not find message, maybe time range not correct',
      });
    }
    return createResponse(req, ResponseCode.SUCCESS, { extFields, body: Buffer.concat(records) });
  };
}

export function viewMessageById(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const { offset } = decodeHeader(req.extFields, { offset: 'long' });
    const record = offset >= 0n ? await rt.store.lookMessageByOffset(offset) : null;
    if (!record) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, {
        remark: `can not find message by the offset, ${offset}`,
      });
    }
    return createResponse(req, ResponseCode.SUCCESS, { body: record });
  };
}
