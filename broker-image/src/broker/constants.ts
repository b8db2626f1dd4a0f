// RocketMQ names and numbers the broker's behaviour depends on (protocol.md §3.1, §4.2).

/** Permission bits of topics, queue data and the broker (PermName). */
export const Perm = { PRIORITY: 8, READ: 4, WRITE: 2, INHERIT: 1 } as const;

export function isReadable(perm: number): boolean {
  return (perm & Perm.READ) === Perm.READ;
}
export function isWriteable(perm: number): boolean {
  return (perm & Perm.WRITE) === Perm.WRITE;
}
export function isInherited(perm: number): boolean {
  return (perm & Perm.INHERIT) === Perm.INHERIT;
}

export const AUTO_CREATE_TOPIC_KEY_TOPIC = 'TBW102';
export const SELF_TEST_TOPIC = 'SELF_TEST_TOPIC';
export const BENCHMARK_TOPIC = 'BenchmarkTest';
export const OFFSET_MOVED_EVENT = 'OFFSET_MOVED_EVENT';
export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';
export const TRANS_HALF_TOPIC = 'RMQ_SYS_TRANS_HALF_TOPIC';
export const TRANS_OP_HALF_TOPIC = 'RMQ_SYS_TRANS_OP_HALF_TOPIC';
export const TRANS_CHECK_MAX_TIME_TOPIC = 'TRANS_CHECK_MAX_TIME_TOPIC';
export const DEFAULT_TRACE_TOPIC = 'RMQ_SYS_TRACE_TOPIC';
export const SYSTEM_TOPIC_PREFIX = 'rmq_sys_';
export const REPLY_TOPIC_POSTFIX = 'REPLY_TOPIC';
export const RETRY_GROUP_TOPIC_PREFIX = '%RETRY%';
export const DLQ_GROUP_TOPIC_PREFIX = '%DLQ%';
export const CLIENT_INNER_PRODUCER_GROUP = 'CLIENT_INNER_PRODUCER';

export const SCHEDULE_QUEUE_NUMS = 18;

/** Message sysFlag bits (protocol.md §4.2). */
export const MessageSysFlag = {
  COMPRESSED: 0x1,
  MULTI_TAGS: 0x2,
  TRANSACTION_PREPARED: 0x4,
  TRANSACTION_COMMIT: 0x8,
  TRANSACTION_ROLLBACK: 0xc,
  TRANSACTION_MASK: 0xc,
} as const;

/** Pull request sysFlag bits (protocol.md §3.3.1). */
export const PullSysFlag = {
  COMMIT_OFFSET: 1,
  SUSPEND: 2,
  SUBSCRIPTION: 4,
  CLASS_FILTER: 8,
  LITE_PULL: 16,
} as const;

/** Well-known message property names (protocol.md §4.3). */
export const MessageProperty = {
  KEYS: 'KEYS',
  TAGS: 'TAGS',
  WAIT: 'WAIT',
  DELAY: 'DELAY',
  RETRY_TOPIC: 'RETRY_TOPIC',
  REAL_TOPIC: 'REAL_TOPIC',
  REAL_QID: 'REAL_QID',
  TRAN_MSG: 'TRAN_MSG',
  CLUSTER: 'CLUSTER',
  UNIQ_KEY: 'UNIQ_KEY',
  MAX_RECONSUME_TIMES: 'MAX_RECONSUME_TIMES',
  RECONSUME_TIME: 'RECONSUME_TIME',
  ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
  PRODUCER_GROUP: 'PGROUP',
  TRANSACTION_PREPARED_QUEUE_OFFSET: 'TRAN_PREPARED_QUEUE_OFFSET',
  TRANSACTION_CHECK_TIMES: 'TRANSACTION_CHECK_TIMES',
  CHECK_IMMUNITY_TIME_IN_SECONDS: 'CHECK_IMMUNITY_TIME_IN_SECONDS',
} as const;

/** The version ordinal from which SEND honours header `maxReconsumeTimes` (V3_4_9). */
export const VERSION_HONOURING_MAX_RECONSUME = 121;

/** Groups every Java broker pre-creates (protocol.md §3.1). */
export const PRECREATED_GROUPS = [
  'TOOLS_CONSUMER',
  'FILTERSRV_CONSUMER',
  'SELF_TEST_C_GROUP',
  'CID_ONS-HTTP-PROXY',
  'CID_ONSAPI_PULL',
  'CID_ONSAPI_PERMISSION',
  'CID_ONSAPI_OWNER',
] as const;

export function retryTopicOf(group: string): string {
  return RETRY_GROUP_TOPIC_PREFIX + group;
}
export function dlqTopicOf(group: string): string {
  return DLQ_GROUP_TOPIC_PREFIX + group;
}
