// The name server's settings (RocketMQ namesrv.properties keys) plus Bolide's `httpPort`.

import { homedir } from 'node:os';
import { join } from 'node:path';
import { type ConfigSchema, type ConfigSources, type LoadedConfig, loadConfig } from './config.js';
import { LOG_LEVEL_FIELD, MAX_FRAME_SIZE_FIELD } from './process-fields.js';

export interface NamesrvConfig {
  listenPort: number;
  /** Prometheus /metrics and /healthz; -1 disables the HTTP endpoint. */
  httpPort: number;
  /** KV config persistence file (Java: ~/namesrv/kvConfig.json). */
  kvConfigPath: string;
  /** When true, routes carry `orderTopicConf` from the ORDER_TOPIC_CONFIG namespace. */
  orderMessageEnable: boolean;
  /** Brokers not re-registered for this long are dropped (Java: 120 s, not configurable there). */
  brokerChannelExpiredTime: number;
  /** How often expired brokers are looked for (Java: every 10 s). */
  scanNotActiveBrokerInterval: number;
  maxFrameSize: number;
  logLevel: string;
}

export function namesrvConfigSchema(home = homedir()): ConfigSchema<NamesrvConfig> {
  return {
    listenPort: { type: 'int', default: 9876, min: 0, max: 65535, doc: 'remoting port' },
    httpPort: { type: 'int', default: 9877, min: -1, max: 65535, doc: 'metrics/health port' },
    kvConfigPath: { type: 'string', default: join(home, 'namesrv', 'kvConfig.json'), doc: 'a file path' },
    orderMessageEnable: { type: 'bool', default: false, doc: '' },
    brokerChannelExpiredTime: { type: 'int', default: 120_000, min: 1000, doc: 'ms' },
    scanNotActiveBrokerInterval: { type: 'int', default: 10_000, min: 100, doc: 'ms' },
    maxFrameSize: MAX_FRAME_SIZE_FIELD,
    logLevel: LOG_LEVEL_FIELD,
  };
}

export const IGNORED_NAMESRV_KEYS: ReadonlySet<string> = new Set([
  'rocketmqHome',
  'configStorePath',
  'productEnvName',
  'clusterTest',
  'serverWorkerThreads',
  'serverCallbackExecutorThreads',
  'serverSelectorThreads',
  'serverOnewaySemaphoreValue',
  'serverAsyncSemaphoreValue',
  'serverChannelMaxIdleTimeSeconds',
  'serverSocketSndBufSize',
  'serverSocketRcvBufSize',
  'serverPooledByteBufAllocatorEnable',
  'useEpollNativeSelector',
]);

export function loadNamesrvConfig(sources: ConfigSources, home?: string): LoadedConfig<NamesrvConfig> {
  return loadConfig(namesrvConfigSchema(home), sources, { ignoredKeys: IGNORED_NAMESRV_KEYS });
}
