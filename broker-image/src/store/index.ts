// The store module: CommitLog, ConsumeQueues, index, flush, checkpoint, recovery and retention.
// It knows files, offsets and durability, nothing of the network.

export {
  checkHost,
  formatHost,
  HostAddressError,
  hostBytes,
  isIPv6Host,
  normalizeAddress,
  parseHost,
} from '../message/host-address.js';
export { javaStringHashCode, tagsCodeOf } from '../message/java-hash.js';
export { createOffsetMessageId, MessageIdError, parseOffsetMessageId } from '../message/message-id.js';
export {
  checkProperties,
  decodeProperties,
  encodeProperties,
  KEY_SEPARATOR,
  MessageProperty,
  NAME_VALUE_SEPARATOR,
  PROPERTY_SEPARATOR,
  splitKeys,
} from '../message/properties.js';
export type { CheckpointData } from './checkpoint.js';
export { CQ_ENTRY_SIZE } from './consume-queue.js';
export { computeTagsCode, SCHEDULE_TOPIC } from './dispatcher.js';
export {
  FileMessageStore,
  type FileMessageStoreOptions,
  openMessageStore,
  type StoreStats,
} from './file-message-store.js';
export {
  type ConfigFileStore,
  CorruptFileError,
  createConfigFileStore,
  readFileWithFallback,
  readJsonFile,
  writeFileAtomic,
} from './json-file.js';
export { indexKeyHash } from './key-index.js';
export type { CorruptRegion } from './log-scanner.js';
export type {
  ArrivalListener,
  GetResult,
  GetStatus,
  HostAddress,
  MessageStore,
  MessageToStore,
  PutResult,
  PutStatus,
  TagFilter,
} from './message-store.js';
export { checkTopic } from './message-writer.js';
export {
  type BatchItem,
  BLANK_MAGIC_CODE,
  bodyCrc,
  checkRecordAt,
  decodeBatchBody,
  decodeRecord,
  decodeRecords,
  encodeBatchBody,
  encodeRecord,
  encodeRecords,
  MAX_PROPERTIES_BYTES,
  MAX_RECORD_OVERHEAD,
  MAX_TOPIC_BYTES,
  MESSAGE_MAGIC_CODE,
  MessageSysFlag,
  type RecordCheck,
  type RecordFields,
  RecordFormatError,
  readStoreTimestamp,
  type StoredRecord,
  transactionType,
} from './record-codec.js';
export type { RecoveryMode, RecoveryReport } from './recovery.js';
export type { RetentionReport } from './retention.js';
export {
  DEFAULT_MESSAGE_DELAY_LEVEL,
  FLUSH_DISK_TYPES,
  type FlushDiskType,
  parseDelayLevels,
  parseDeleteWhen,
  resolveStoreConfig,
  STORE_CONFIG_DEFAULTS,
  type StoreConfig,
  StoreConfigError,
  type StoreConfigInput,
} from './store-config.js';
export { StoreClosedError, StoreStateError } from './store-errors.js';
