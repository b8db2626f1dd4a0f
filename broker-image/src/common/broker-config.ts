// The broker's settings, with RocketMQ's broker.conf key names and defaults (4.9.x), plus the
// Bolide-only `httpPort`. Values are plain data; the composition root turns them into services.

import { homedir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  type ConfigSchema,
  type ConfigSources,
  checkAddressList,
  type LoadedConfig,
  loadConfig,
} from './config.js';
import { LOG_LEVEL_FIELD, MAX_FRAME_SIZE_FIELD } from './process-fields.js';

export interface BrokerConfig {
  brokerClusterName: string;
  brokerName: string;
  brokerId: number;
  brokerRole: string;
  /** The address clients and name servers see; empty = first non-internal IPv4, else 127.0.0.1. */
  brokerIP1: string;
  namesrvAddr: string;
  listenPort: number;
  haListenPort: number;
  /** Prometheus /metrics and /healthz; -1 disables the HTTP endpoint. */
  httpPort: number;
  storePathRootDir: string;
  /** Empty = `<storePathRootDir>/commitlog`. */
  storePathCommitLog: string;
  flushDiskType: string;
  flushIntervalCommitLog: number;
  syncFlushTimeout: number;
  flushIntervalConsumeQueue: number;
  maxTransferBytesOnMessageInMemory: number;
  maxTransferCountOnMessageInMemory: number;
  mappedFileSizeCommitLog: number;
  mappedFileSizeConsumeQueue: number;
  fileReservedTime: number;
  deleteWhen: string;
  diskMaxUsedSpaceRatio: number;
  maxMessageSize: number;
  autoCreateTopicEnable: boolean;
  autoCreateSubscriptionGroup: boolean;
  defaultTopicQueueNums: number;
  brokerPermission: number;
  clusterTopicEnable: boolean;
  brokerTopicEnable: boolean;
  traceTopicEnable: boolean;
  msgTraceTopicName: string;
  registerNameServerPeriod: number;
  longPollingEnable: boolean;
  shortPollingTimeMills: number;
  regionId: string;
  traceOn: boolean;
  messageDelayLevel: string;
  /** retryMaxTimes of subscription groups the broker creates on first use (Java: 16). */
  maxReconsumeTimes: number;
  /** A half message older than this (ms) without an outcome is checked back with its producer. */
  transactionTimeOut: number;
  /** Check-backs per half message before it is discarded. */
  transactionCheckMax: number;
  /** How often (ms) half messages are scanned for check-backs. */
  transactionCheckInterval: number;
  enablePropertyFilter: boolean;
  rejectTransactionMessage: boolean;
  flushConsumerOffsetInterval: number;
  /** Bolide's approximation of Java's "hot record" rule for QUERY_CONSUMER_OFFSET (protocol.md §3.4). */
  queryOffsetFromZeroMaxLogBytes: number;
  /** Clients (producer/consumer connections) not heard from in this long are dropped. */
  channelExpiredTimeout: number;
  /** Frame size cap of the remoting server. */
  maxFrameSize: number;
  logLevel: string;
}

const ADDR_LIST = {
  type: 'string',
  default: '',
  doc: "host:port entries separated by ';'",
  check: checkAddressList,
} as const;

function checkDeleteWhen(text: string): string | undefined {
  const hours = text.split(';').map((s) => s.trim());
  const ok = hours.every((h) => /^\d{1,2}$/.test(h) && Number(h) <= 23);
  return ok ? undefined : "accepted values are hours 00-23 separated by ';' (e.g. 04 or 04;16)";
}

function checkDelayLevels(text: string): string | undefined {
  const ok = text
    .split(/\s+/)
    .filter((s) => s !== '')
    .every((s) => /^\d+[smhd]$/.test(s));
  return ok && text.trim() !== ''
    ? undefined
    : 'accepted values are space-separated durations with units s, m, h or d (e.g. "1s 5s 10s 30s 1m")';
}

function checkName(text: string): string | undefined {
  return /^[%|a-zA-Z0-9_-]{1,127}$/.test(text)
    ? undefined
    : 'accepted values are 1-127 characters from letters, digits, %, |, _ and -';
}

export function brokerConfigSchema(home = homedir()): ConfigSchema<BrokerConfig> {
  return {
    brokerClusterName: { type: 'string', default: 'DefaultCluster', doc: 'a cluster name', check: checkName },
    brokerName: { type: 'string', default: 'broker-a', doc: 'a broker name', check: checkName },
    brokerId: { type: 'int', default: 0, min: 0, doc: '0 = master' },
    brokerRole: {
      type: 'enum',
      default: 'ASYNC_MASTER',
      values: ['ASYNC_MASTER', 'SYNC_MASTER', 'SLAVE'],
      doc: 'replication role',
    },
    brokerIP1: { type: 'string', default: '', doc: 'an IP address or host name' },
    namesrvAddr: { ...ADDR_LIST },
    listenPort: { type: 'int', default: 10911, min: 0, max: 65535, doc: 'remoting port' },
    haListenPort: { type: 'int', default: 10912, min: 0, max: 65535, doc: 'HA port' },
    httpPort: { type: 'int', default: 10913, min: -1, max: 65535, doc: 'metrics/health port' },
    storePathRootDir: { type: 'string', default: join(home, 'store'), doc: 'a directory path' },
    storePathCommitLog: { type: 'string', default: '', doc: 'a directory path' },
    flushDiskType: {
      type: 'enum',
      default: 'ASYNC_FLUSH',
      values: ['ASYNC_FLUSH', 'SYNC_FLUSH'],
      doc: 'flush mode',
    },
    flushIntervalCommitLog: { type: 'int', default: 500, min: 1, doc: 'ms' },
    syncFlushTimeout: { type: 'int', default: 5000, min: 1, doc: 'ms' },
    flushIntervalConsumeQueue: { type: 'int', default: 1000, min: 10, max: 60_000, doc: 'ms' },
    maxTransferBytesOnMessageInMemory: { type: 'int', default: 256 * 1024, min: 1, doc: 'bytes' },
    maxTransferCountOnMessageInMemory: { type: 'int', default: 32, min: 1, max: 100_000, doc: 'messages' },
    mappedFileSizeCommitLog: {
      type: 'int',
      default: 1024 * 1024 * 1024,
      min: 64 * 1024,
      doc: 'bytes',
      aliases: ['mapedFileSizeCommitLog'],
    },
    mappedFileSizeConsumeQueue: {
      type: 'int',
      default: 300_000 * 20,
      min: 20,
      doc: 'bytes',
      aliases: ['mapedFileSizeConsumeQueue'],
    },
    fileReservedTime: { type: 'int', default: 72, min: 0, doc: 'hours' },
    deleteWhen: { type: 'string', default: '04', doc: 'hours', check: checkDeleteWhen },
    diskMaxUsedSpaceRatio: { type: 'int', default: 75, min: 10, max: 95, doc: 'percent' },
    maxMessageSize: {
      type: 'int',
      default: 4 * 1024 * 1024,
      min: 1024,
      max: 16 * 1024 * 1024 - 65536,
      doc: 'bytes',
    },
    autoCreateTopicEnable: { type: 'bool', default: true, doc: '' },
    autoCreateSubscriptionGroup: { type: 'bool', default: true, doc: '' },
    defaultTopicQueueNums: { type: 'int', default: 8, min: 1, max: 1024, doc: 'queues' },
    brokerPermission: { type: 'int', default: 6, min: 0, max: 7, doc: 'perm bits' },
    clusterTopicEnable: { type: 'bool', default: true, doc: '' },
    brokerTopicEnable: { type: 'bool', default: true, doc: '' },
    traceTopicEnable: { type: 'bool', default: false, doc: '' },
    msgTraceTopicName: {
      type: 'string',
      default: 'RMQ_SYS_TRACE_TOPIC',
      doc: 'a topic name',
      check: checkName,
    },
    registerNameServerPeriod: { type: 'int', default: 30_000, min: 1000, max: 600_000, doc: 'ms' },
    longPollingEnable: { type: 'bool', default: true, doc: '' },
    shortPollingTimeMills: { type: 'int', default: 1000, min: 0, doc: 'ms' },
    regionId: { type: 'string', default: 'DefaultRegion', doc: 'a region id' },
    traceOn: { type: 'bool', default: true, doc: '' },
    messageDelayLevel: {
      type: 'string',
      default: '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h',
      doc: 'delay levels',
      check: checkDelayLevels,
    },
    maxReconsumeTimes: { type: 'int', default: 16, min: 0, max: 2147483647, doc: 'deliveries' },
    transactionTimeOut: { type: 'int', default: 6000, min: 0, doc: 'ms' },
    transactionCheckMax: { type: 'int', default: 15, min: 1, max: 1000, doc: 'check-backs' },
    transactionCheckInterval: { type: 'int', default: 60_000, min: 100, max: 86_400_000, doc: 'ms' },
    enablePropertyFilter: { type: 'bool', default: false, doc: '' },
    rejectTransactionMessage: { type: 'bool', default: false, doc: '' },
    flushConsumerOffsetInterval: { type: 'int', default: 5000, min: 100, doc: 'ms' },
    // Java's "hot" = within 40 % of physical memory of the log head.
    queryOffsetFromZeroMaxLogBytes: {
      type: 'int',
      default: Math.floor(totalmem() * 0.4),
      min: 0,
      doc: 'bytes',
    },
    channelExpiredTimeout: { type: 'int', default: 120_000, min: 1000, doc: 'ms' },
    maxFrameSize: MAX_FRAME_SIZE_FIELD,
    logLevel: LOG_LEVEL_FIELD,
  };
}

/** Java broker.conf keys that Bolide accepts without acting on them (no "unknown key" warning). */
export const IGNORED_BROKER_KEYS: ReadonlySet<string> = new Set([
  'rocketmqHome',
  'brokerIP2',
  'sendMessageThreadPoolNums',
  'pullMessageThreadPoolNums',
  'queryMessageThreadPoolNums',
  'adminBrokerThreadPoolNums',
  'clientManageThreadPoolNums',
  'consumerManageThreadPoolNums',
  'heartbeatThreadPoolNums',
  'endTransactionThreadPoolNums',
  'useReentrantLockWhenPutMessage',
  'waitTimeMillsInSendQueue',
  'waitTimeMillsInPullQueue',
  'osPageCacheBusyTimeOutMills',
  'transientStorePoolEnable',
  'transferMsgByHeap',
  'warmMapedFileEnable',
  'fetchNamesrvAddrByAddressServer',
  'slaveReadEnable',
  'aclEnable',
  'sendThreadPoolQueueCapacity',
  'pullThreadPoolQueueCapacity',
  'storePathConsumeQueue',
  'storePathIndex',
  'storeCheckpoint',
  'abortFile',
  'flushCommitLogLeastPages',
  'flushConsumeQueueLeastPages',
  'cleanFileForciblyEnable',
  'destroyMapedFileIntervalForcibly',
  'accessMessageInMemoryMaxRatio',
  'messageIndexEnable',
  'maxHashSlotNum',
  'maxIndexNum',
  'duplicationEnable',
  'enableDLegerCommitLog',
  'forceRegister',
  'isEnableBatchPush',
  'enableConsumeQueueExt',
  'serverWorkerThreads',
  'serverSelectorThreads',
  'serverSocketSndBufSize',
  'serverSocketRcvBufSize',
  'clientWorkerThreads',
  'listenPortVip',
]);

export function loadBrokerConfig(sources: ConfigSources, home?: string): LoadedConfig<BrokerConfig> {
  return loadConfig(brokerConfigSchema(home), sources, {
    ignoredKeys: IGNORED_BROKER_KEYS,
    envAliases: { NAMESRV_ADDR: 'namesrvAddr' },
  });
}
