// The broker's default store: the file store under storePathRootDir, configured from broker.conf.

import type { BrokerConfig } from '../common/index.js';
import type { HostAddress, MessageStore } from '../store/message-store.js';

export function defaultStoreFactory(_config: BrokerConfig): (storeHost: HostAddress) => MessageStore {
  return () => {
    throw new Error('the file message store is not available in this build');
  };
}
