// LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42) over the queue lock table (protocol.md §3.7).
// Malformed bodies and queues of another broker are refused with SYSTEM_ERROR and a remark; the
// Java client groups its queues by broker, so a foreign queue here is a client bug worth naming.

import {
  createResponse,
  encodeBodyJson,
  parseBodyJson,
  type RemotingCommand,
  ResponseCode,
} from '../protocol/index.js';
import { type MessageQueueRef, QueueLockManager } from './queue-lock-manager.js';
import type { BrokerRuntime } from './runtime.js';
import { groupNameProblem } from './topic-validation.js';

interface LockBody {
  clientId: string;
  consumerGroup: string;
  mqSet: MessageQueueRef[];
}

/** Parses a LockBatchRequestBody / UnlockBatchRequestBody; returns a remark for bad input. */
export function parseLockBody(body: Buffer | undefined, brokerName: string): LockBody | string {
  if (!body || body.length === 0)
    return 'the request has no body (expected {clientId, consumerGroup, mqSet})';
  let raw: unknown;
  try {
    raw = parseBodyJson(body, { largeIntegers: 'number' });
  } catch (err) {
    return `the body is not JSON: ${(err as Error).message}`;
  }
  if (!raw || typeof raw !== 'object') return 'the body is not a JSON object';
  const { clientId, consumerGroup, mqSet } = raw as Record<string, unknown>;
  if (typeof clientId !== 'string' || clientId === '') return 'clientId is missing';
  if (typeof consumerGroup !== 'string') return 'consumerGroup is missing';
  const groupProblem = groupNameProblem(consumerGroup);
  if (groupProblem) return groupProblem;
  if (mqSet !== undefined && mqSet !== null && !Array.isArray(mqSet)) return 'mqSet must be an array';
  const queues: MessageQueueRef[] = [];
  for (const item of (mqSet as unknown[] | undefined) ?? []) {
    const mq = item as Record<string, unknown> | null;
    if (
      !mq ||
      typeof mq.topic !== 'string' ||
      typeof mq.brokerName !== 'string' ||
      typeof mq.queueId !== 'number' ||
      !Number.isInteger(mq.queueId) ||
      mq.queueId < 0
    ) {
      return `bad message queue in mqSet: ${JSON.stringify(item)}`;
    }
    if (mq.brokerName !== brokerName) {
      return `queue ${mq.topic}:${mq.queueId} belongs to broker ${mq.brokerName}; this is broker ${brokerName}`;
    }
    queues.push({ topic: mq.topic, brokerName: mq.brokerName, queueId: mq.queueId });
  }
  return { clientId, consumerGroup, mqSet: queues };
}

const SWEEP_INTERVAL_MS = 60_000;

export function createLockProcessors(rt: BrokerRuntime, locks = new QueueLockManager()) {
  let lastSweep = rt.now();
  const parse = (req: RemotingCommand) => {
    const now = rt.now();
    if (now - lastSweep > SWEEP_INTERVAL_MS) {
      locks.sweep(now);
      lastSweep = now;
    }
    return parseLockBody(req.body, rt.config.brokerName);
  };
  return {
    locks,
    lock: async (req: RemotingCommand): Promise<RemotingCommand> => {
      const body = parse(req);
      if (typeof body === 'string') return createResponse(req, ResponseCode.SYSTEM_ERROR, { remark: body });
      const granted = locks.tryLockBatch(body.consumerGroup, body.mqSet, body.clientId, rt.now());
      return createResponse(req, ResponseCode.SUCCESS, {
        body: encodeBodyJson({
          lockOKMQSet: granted.map((mq) => ({
            brokerName: mq.brokerName,
            queueId: mq.queueId,
            topic: mq.topic,
          })),
        }),
      });
    },
    unlock: async (req: RemotingCommand): Promise<RemotingCommand> => {
      const body = parse(req);
      if (typeof body === 'string') return createResponse(req, ResponseCode.SYSTEM_ERROR, { remark: body });
      locks.unlockBatch(body.consumerGroup, body.mqSet, body.clientId);
      return createResponse(req);
    },
  };
}
