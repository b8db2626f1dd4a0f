export { Broker, type BrokerOptions, detectBrokerIp } from './broker.js';
export { BrokerStats, RateWindow } from './broker-stats.js';
export type { ClientChannelInfo, ConsumerGroupInfo } from './client-manager.js';
export { type ConfigFiles, directoryConfigFiles, memoryConfigFiles } from './config-files.js';
export { BrokerMetrics } from './metrics.js';
export type { BrokerRuntime } from './runtime.js';
export { tagHashCode } from './subscription.js';
export type { SubscriptionGroupConfig } from './subscription-group-manager.js';
export type { TopicConfig } from './topic-config-manager.js';
