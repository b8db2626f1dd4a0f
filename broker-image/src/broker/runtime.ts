// What the processors share: settings, the store, the managers, stats and a few callbacks into
// the broker that owns them. Built once by Broker; processors never reach past it.

import type { BrokerConfig, Logger } from '../common/index.js';
import type { RemotingCommand } from '../protocol/index.js';
import type { HostAddress, MessageStore } from '../store/index.js';
import type { BrokerStats } from './broker-stats.js';
import type { ConsumerManager, ProducerManager } from './client-manager.js';
import type { ConfigFiles } from './config-files.js';
import type { ConsumerOffsetManager } from './consumer-offset-manager.js';
import type { DelayLevelTable } from './delay-levels.js';
import type { BrokerMetrics } from './metrics.js';
import type { SubscriptionGroupManager } from './subscription-group-manager.js';
import type { TopicConfigManager } from './topic-config-manager.js';

export interface BrokerRuntime {
  readonly config: BrokerConfig;
  readonly logger: Logger;
  readonly store: MessageStore;
  readonly topics: TopicConfigManager;
  readonly groups: SubscriptionGroupManager;
  readonly offsets: ConsumerOffsetManager;
  readonly consumers: ConsumerManager;
  readonly producers: ProducerManager;
  readonly stats: BrokerStats;
  /** The broker's JSON files (`<storePathRootDir>/config`). */
  readonly files: ConfigFiles;
  /** The `messageDelayLevel` table (fixed for the broker's lifetime, like the store's). */
  readonly delayLevels: DelayLevelTable;
  readonly metrics: BrokerMetrics;
  /** The address clients and name servers use ("ip:port"), also the records' store host. */
  readonly brokerAddr: string;
  readonly storeHost: HostAddress;
  now(): number;
  /** False until the store is open and after shutdown began (sends answer SYSTEM_ERROR/busy). */
  acceptingRequests(): boolean;
  /** Sends a oneway request to a connected client; false when the connection is gone. */
  sendOneway(channelId: string, request: RemotingCommand): boolean;
  /** Sends a request to a connected client and waits for its answer. */
  invokeClient(channelId: string, request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand>;
  /**
   * Resolves once the name servers have the broker's current topics (a registration requested by
   * a topic change has finished), or after `maxWaitMs`; never rejects.
   */
  topicsPublished(maxWaitMs: number): Promise<void>;
  /** Closes a client connection (expired heartbeats). */
  closeChannel(channelId: string): void;
}
