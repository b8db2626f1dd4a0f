// The broker's default store: the file store under storePathRootDir, configured from broker.conf.
// A store setting the store itself rejects is reported like any other config error.

import { type BrokerConfig, ConfigError, type Logger } from '../common/index.js';
import {
  FileMessageStore,
  type HostAddress,
  type MessageStore,
  resolveStoreConfig,
  StoreConfigError,
} from '../store/index.js';

export function defaultStoreFactory(
  config: BrokerConfig,
  logger: Logger,
): (storeHost: HostAddress) => MessageStore {
  return (storeHost) => {
    try {
      const storeConfig = resolveStoreConfig({
        storePathRootDir: config.storePathRootDir,
        storePathCommitLog: config.storePathCommitLog,
        mappedFileSizeCommitLog: config.mappedFileSizeCommitLog,
        mappedFileSizeConsumeQueue: config.mappedFileSizeConsumeQueue,
        flushDiskType: config.flushDiskType,
        flushIntervalCommitLog: config.flushIntervalCommitLog,
        flushIntervalConsumeQueue: config.flushIntervalConsumeQueue,
        syncFlushTimeout: config.syncFlushTimeout,
        fileReservedTime: config.fileReservedTime,
        deleteWhen: config.deleteWhen,
        diskMaxUsedSpaceRatio: config.diskMaxUsedSpaceRatio,
        maxMessageSize: config.maxMessageSize,
        messageDelayLevel: config.messageDelayLevel,
        maxTransferBytesOnMessageInMemory: config.maxTransferBytesOnMessageInMemory,
        maxTransferCountOnMessageInMemory: config.maxTransferCountOnMessageInMemory,
        storeHost,
      });
      return new FileMessageStore(storeConfig, { logger });
    } catch (err) {
      if (err instanceof StoreConfigError) throw new ConfigError(err.problems);
      throw err;
    }
  };
}
