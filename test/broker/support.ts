// Small helpers shared by the broker integration tests (raw protocol level).

import { expect } from 'vitest';
import { type RemotingCommand, ResponseCode } from '../../broker-image/src/protocol/index.js';
import type { StoredRecord } from '../../broker-image/src/store/record-codec.js';
import { uniqueName, waitFor } from '../harness/polling.js';
import { type RawRocketMQ, recordsOf } from '../harness/raw-rocketmq.js';

export { uniqueName, waitFor };

export async function createTopic(raw: RawRocketMQ, broker: string, topic: string, queues = 1, perm = 6) {
  const r = await raw.invoke(broker, 17, {
    topic,
    defaultTopic: 'TBW102',
    readQueueNums: String(queues),
    writeQueueNums: String(queues),
    perm: String(perm),
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: '0',
    order: 'false',
  });
  expect(r.code, r.remark).toBe(ResponseCode.SUCCESS);
}

/**
 * Long-polls one queue from `offset` until a record arrives or `timeoutMs` passes; returns the
 * records and the time they were answered.
 */
export async function pullNext(
  raw: RawRocketMQ,
  broker: string,
  group: string,
  topic: string,
  queueId: number,
  offset: bigint,
  timeoutMs = 20_000,
): Promise<{ records: StoredRecord[]; at: number; response: RemotingCommand }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    const response = await raw.pull(broker, {
      group,
      topic,
      queueId,
      offset,
      subscription: '*',
      suspendTimeoutMillis: Math.max(100, Math.min(left, 5000)),
      timeoutMs: 30_000,
    });
    const at = Date.now();
    if (response.code === ResponseCode.SUCCESS) return { records: recordsOf(response), at, response };
    if (Date.now() >= deadline) return { records: [], at, response };
    if (response.code !== ResponseCode.PULL_NOT_FOUND) await new Promise((r) => setTimeout(r, 100));
  }
}
