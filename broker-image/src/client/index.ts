// Public surface of the TypeScript RocketMQ client: producer, push consumer, admin client, and the
// message, route and allocation types they use. Imports only protocol, remoting and common.

export {
  AdminClient,
  type ClusterInfo,
  type ConsumerConnection,
  type ConsumerConnectionInfo,
  type ConsumeStats,
  parseMessageQueueKey,
  type QueueConsumeStats,
  type QueueTopicStats,
  type SubscriptionGroupConfig,
  TOOLS_CONSUMER_GROUP,
  type TopicConfig,
} from './admin.js';
export { type AllocateStrategy, allocateAveragely, allocateQueues } from './allocate.js';
export { decodeBatch, encodeBatch } from './batch-codec.js';
export type { PullResult, PullStatus, SendResult, SendStatus } from './client-api.js';
export { localIPv4 } from './client-instance.js';
export { isUnreachable, MQBrokerError, MQClientError } from './errors.js';
export {
  type ClaimResult,
  defaultIdempotencyKey,
  handleOnce,
  type IdempotencyStore,
  type IdempotentOptions,
  idempotent,
  idempotentOrderly,
  MemoryIdempotencyStore,
  type MessageHandler,
} from './idempotent.js';
export {
  type ConsumeContext,
  type ConsumeOrderlyContext,
  ConsumeOrderlyStatus,
  ConsumeStatus,
  type MessageListener,
  type MessageListenerOrderly,
} from './listener.js';
export {
  decodeOffsetTable,
  defaultLocalOffsetStoreDir,
  encodeOffsetTable,
  LocalFileOffsetStore,
  localOffsetFilePath,
} from './local-offset-store.js';
export {
  AUTO_CREATE_TOPIC_KEY,
  compareMessageQueues,
  DLQ_GROUP_TOPIC_PREFIX,
  type Message,
  type MessageExt,
  MessageProperty,
  type MessageQueue,
  messageQueueKey,
  RETRY_GROUP_TOPIC_PREFIX,
  retryTopic,
} from './message.js';
export {
  decodeMessage,
  decodeMessages,
  decodeOffsetMsgId,
  MessageDecodeError,
  MessageSysFlag,
} from './message-decoder.js';
export {
  filterByKey,
  originalTopic,
  parseOffsetMsgId,
  parseUserTimestamp,
  pickByUniqKey,
  resendableCopy,
} from './message-query.js';
export { type OffsetStore, RemoteOffsetStore } from './offset-store.js';
export { type ClientOptions, DEFAULT_NAMESRV_ADDR, splitNamesrvAddr } from './options.js';
export { Producer, type ProducerOptions, type SendOptions } from './producer.js';
export { decodeProperties, encodeProperties } from './properties-codec.js';
export {
  type MessageQueueSelector,
  selectMessageQueueByHash,
  selectMessageQueueByRandom,
} from './publish-info.js';
export {
  type MessageModel,
  PushConsumer,
  type PushConsumerOptions,
  type QueueStats,
} from './push-consumer.js';
export {
  type BrokerData,
  Perm,
  publishQueues,
  type QueueData,
  subscribeQueues,
  type TopicRouteData,
} from './route.js';
export { SqliteIdempotencyStore, type SqliteIdempotencyStoreOptions } from './sqlite-idempotency-store.js';
export { type ConsumeFromWhere, computeStartOffset, type StartOffsetSource } from './start-offset.js';
export { buildSubscription, javaStringHash, type SubscriptionData } from './subscription.js';
export {
  type CheckLocalTransaction,
  type ExecuteLocalTransaction,
  LocalTransactionState,
  TransactionProducer,
  type TransactionProducerOptions,
  type TransactionSendResult,
} from './transaction-producer.js';
export { UniqKeyGenerator, uniqKeyTimestamp } from './uniq-key.js';
