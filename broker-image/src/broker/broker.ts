// The broker role: remoting server + processors + managers over a MessageStore, registered with
// the name servers. Startup: listen → open store → load tables → serve → register. Shutdown:
// refuse new sends → answer held pulls → unregister → close connections → persist → close store.

import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import {
  type BrokerConfig,
  configEntries,
  formatProperties,
  type Logger,
  loadBrokerConfig,
  propertiesToMap,
  splitAddressList,
} from '../common/index.js';
import {
  BrokerRequestCode as Code,
  createResponse,
  type RemotingCommand,
  ResponseCode,
  requestCodeName,
} from '../protocol/index.js';
import { type Processor, RemotingClient, RemotingServer } from '../remoting/index.js';
import type { HostAddress, MessageStore } from '../store/index.js';
import * as admin from './admin-processor.js';
import { BrokerStats } from './broker-stats.js';
import { ConsumerManager, ProducerManager } from './client-manager.js';
import { ClientManageService } from './client-processor.js';
import { type ConfigFiles, directoryConfigFiles } from './config-files.js';
import { ConsumerOffsetManager } from './consumer-offset-manager.js';
import { type DataVersion, initialDataVersion, nextDataVersion } from './data-version.js';
import { DelayLevelTable } from './delay-levels.js';
import { createLockProcessors } from './lock-processor.js';
import { BrokerMetrics } from './metrics.js';
import { NamesrvRegistrar } from './namesrv-registrar.js';
import * as offsets from './offset-processor.js';
import { PullMessageService } from './pull-processor.js';
import { queryMessage, viewMessageById } from './query-processor.js';
import type { BrokerRuntime } from './runtime.js';
import { ScheduleMessageService } from './schedule-message-service.js';
import { createSendBackProcessor } from './send-back-processor.js';
import { createSendProcessor } from './send-processor.js';
import { defaultStoreFactory } from './store-factory.js';
import { SubscriptionGroupManager } from './subscription-group-manager.js';
import { TopicConfigManager } from './topic-config-manager.js';
import { TransactionService } from './transaction-service.js';

export interface BrokerOptions {
  config: BrokerConfig;
  logger: Logger;
  /** Opens the store for the advertised address (known only once the port is bound); default: the file store. */
  createStore?: (storeHost: HostAddress) => MessageStore;
  /** Where topics.json, subscriptionGroup.json and consumerOffset.json live; default `<storePathRootDir>/config`. */
  configFiles?: ConfigFiles;
  /** Interface to bind; default all. */
  host?: string;
  now?: () => number;
  /** How often held pulls are checked for expiry / queue growth (Java: 5 s). Default 1 s. */
  pullCheckIntervalMs?: number;
  /** How often clients are checked for expired heartbeats (Java: 10 s). Default 10 s. */
  clientScanIntervalMs?: number;
  /**
   * Extra or replacement processors by request code, built from the runtime at start (e.g.
   * CONSUMER_SEND_MSG_BACK, LOCK_BATCH_MQ); registered after the built-in ones.
   */
  processors?: Record<number, (rt: BrokerRuntime) => Processor>;
}

/** Keys UPDATE_BROKER_CONFIG may change on a running broker. */
const LIVE_KEYS = new Set([
  'brokerPermission',
  'autoCreateTopicEnable',
  'autoCreateSubscriptionGroup',
  'longPollingEnable',
  'shortPollingTimeMills',
  'maxMessageSize',
  'regionId',
  'traceOn',
  'enablePropertyFilter',
  'rejectTransactionMessage',
  'channelExpiredTimeout',
  'defaultTopicQueueNums',
  'logLevel',
  'maxReconsumeTimes',
  'transactionTimeOut',
  'transactionCheckMax',
  'transactionCheckInterval',
]);

/** First non-internal IPv4 address of the machine, else loopback (Java's brokerIP1 default). */
export function detectBrokerIp(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const iface of list ?? []) {
      if (iface.family === 'IPv4' && !iface.internal) return iface.address;
    }
  }
  return '127.0.0.1';
}

export class Broker {
  private readonly options: BrokerOptions;
  private config: BrokerConfig;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly server: RemotingServer;
  private readonly client: RemotingClient;
  private store: MessageStore | null = null;
  private runtime: BrokerRuntime | null = null;
  private pull: PullMessageService | null = null;
  private clients: ClientManageService | null = null;
  private schedule: ScheduleMessageService | null = null;
  private transactions: TransactionService | null = null;
  private registrar: NamesrvRegistrar | null = null;
  private offsetTimer: NodeJS.Timeout | null = null;
  private accepting = false;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private configVersion: DataVersion;
  private readonly bootTimestamp: number;
  private advertisedAddr = '';
  readonly stats = new BrokerStats();
  private metricsValue: BrokerMetrics | null = null;

  constructor(options: BrokerOptions) {
    this.options = options;
    this.config = { ...options.config };
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.bootTimestamp = this.now();
    this.configVersion = initialDataVersion(this.bootTimestamp);
    this.server = new RemotingServer({
      name: 'broker',
      logger: this.logger.child('remoting'),
      maxFrameLength: this.config.maxFrameSize,
    });
    this.client = new RemotingClient({ name: 'broker-namesrv', logger: this.logger.child('namesrv-client') });
    // Until every processor is in place, requests are refused as busy rather than "unknown code".
    this.server.setDefaultProcessor(async (req) =>
      createResponse(req, ResponseCode.SYSTEM_BUSY, {
        remark: '[REJECTREQUEST]broker is starting, try again later',
      }),
    );
  }

  /** "ip:port" registered with the name servers and written into records (after start). */
  get brokerAddr(): string {
    return this.advertisedAddr;
  }

  get port(): number {
    return this.server.port;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  get metrics(): BrokerMetrics {
    if (!this.metricsValue) throw new Error('broker not started');
    return this.metricsValue;
  }

  /** Pulls currently held by long polling. */
  get heldPulls(): number {
    return this.pull?.heldCount ?? 0;
  }

  /** Waits for registrations in flight (tests). */
  async registrationIdle(): Promise<void> {
    await this.registrar?.idle();
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`broker cannot start from state ${this.state}`);
    this.state = 'starting';
    const config = this.config;
    const port = await this.server.listen(config.listenPort, this.options.host ?? '0.0.0.0');
    const ip = config.brokerIP1 || detectBrokerIp();
    this.advertisedAddr = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
    const storeHost: HostAddress = { address: ip, port };

    const store = (this.options.createStore ?? defaultStoreFactory(config, this.logger.child('store')))(
      storeHost,
    );
    this.store = store;
    await store.start();

    const files = this.options.configFiles ?? directoryConfigFiles(join(config.storePathRootDir, 'config'));
    const startedAt = this.now();
    let registrar: NamesrvRegistrar | null = null;
    const topics = new TopicConfigManager(config, files, startedAt, () => registrar?.requestRegistration());
    const groups = new SubscriptionGroupManager(
      () => this.config.autoCreateSubscriptionGroup,
      files,
      startedAt,
      () => this.config.maxReconsumeTimes,
    );
    const consumerOffsets = new ConsumerOffsetManager(files);
    await topics.load();
    await groups.load();
    await consumerOffsets.load();
    await topics.persist();

    const consumers = new ConsumerManager();
    const producers = new ProducerManager();
    const server = this.server;
    const self = this;
    const rt: BrokerRuntime = {
      get config() {
        return self.config;
      },
      logger: this.logger,
      store,
      topics,
      groups,
      offsets: consumerOffsets,
      consumers,
      producers,
      stats: this.stats,
      files,
      delayLevels: new DelayLevelTable(config.messageDelayLevel),
      get metrics() {
        return self.metrics;
      },
      brokerAddr: this.advertisedAddr,
      storeHost,
      now: this.now,
      acceptingRequests: () => this.accepting,
      sendOneway: (channelId, request) => {
        const channel = server.channels.get(channelId);
        if (!channel || channel.closed) return false;
        try {
          channel.invokeOneway(request);
          return true;
        } catch {
          return false;
        }
      },
      invokeClient: (channelId, request, timeoutMs) => {
        const channel = server.channels.get(channelId);
        if (!channel) return Promise.reject(new Error(`connection ${channelId} is closed`));
        return channel.invoke(request, timeoutMs);
      },
      closeChannel: (channelId) => server.channels.get(channelId)?.close('local'),
      topicsPublished: async (maxWaitMs) => {
        let timer: NodeJS.Timeout | undefined;
        const cap = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, maxWaitMs);
        });
        await Promise.race([this.registrar?.idle() ?? Promise.resolve(), cap]);
        clearTimeout(timer);
      },
    };
    this.runtime = rt;
    this.metricsValue = new BrokerMetrics({
      commitLogBytes: () => Number(store.getMaxPhyOffset() - store.getMinPhyOffset()),
      connections: () => server.channels.size,
      heldPulls: () => this.pull?.heldCount ?? 0,
      consumerLag: () => this.lagByGroupTopic(),
    });

    this.pull = new PullMessageService(rt);
    this.clients = new ClientManageService(rt);
    const schedule = new ScheduleMessageService(
      {
        store,
        files,
        logger: this.logger.child('schedule'),
        now: this.now,
        onDelivered: (_topic, level) => rt.metrics.scheduledDelivered.inc({ level: String(level) }),
      },
      rt.delayLevels,
    );
    await schedule.load();
    this.schedule = schedule;
    const transactions = new TransactionService({
      config: () => this.config,
      store,
      files,
      topics,
      producers,
      logger: this.logger.child('transaction'),
      storeHost,
      now: this.now,
      sendOneway: rt.sendOneway,
      onOutcome: (outcome) => rt.metrics.transactions.inc({ outcome }),
    });
    await transactions.load();
    this.transactions = transactions;
    this.registerProcessors(rt);
    this.server.on('channelClose', (channel) => {
      this.pull?.onChannelClose(channel.id);
      this.clients?.onChannelClose(channel.id);
    });
    this.pull.start(this.options.pullCheckIntervalMs ?? 1000);
    this.clients.start(this.options.clientScanIntervalMs ?? 10_000);
    // Only a master delivers delayed messages and checks transactions back (Java does the same).
    if (config.brokerRole !== 'SLAVE') {
      schedule.start();
      transactions.start();
    }
    this.offsetTimer = setInterval(() => {
      consumerOffsets
        .persist()
        .catch((err) => this.logger.error('persisting consumer offsets failed', { error: err }));
    }, config.flushConsumerOffsetInterval);
    this.offsetTimer.unref();

    this.accepting = true;
    this.server.setDefaultProcessor(null);
    this.state = 'running';

    registrar = new NamesrvRegistrar({
      identity: {
        clusterName: config.brokerClusterName,
        brokerName: config.brokerName,
        brokerId: config.brokerId,
        brokerAddr: this.advertisedAddr,
        haServerAddr: `${ip}:${config.haListenPort}`,
      },
      namesrvAddrs: () => splitAddressList(this.config.namesrvAddr),
      client: this.client,
      logger: this.logger.child('registrar'),
      topicWrapper: () => topics.wrapper(this.config.brokerPermission),
      periodMs: config.registerNameServerPeriod,
    });
    this.registrar = registrar;
    if (splitAddressList(config.namesrvAddr).length === 0) {
      this.logger.warn('namesrvAddr is empty: clients cannot find this broker through a name server');
    }
    await registrar.start();
    this.logger.info('broker started', {
      addr: this.advertisedAddr,
      cluster: config.brokerClusterName,
      name: config.brokerName,
      id: config.brokerId,
      flush: config.flushDiskType,
      namesrv: config.namesrvAddr,
    });
  }

  private lagByGroupTopic(): { group: string; topic: string; lag: number }[] {
    const rt = this.runtime;
    if (!rt) return [];
    const out: { group: string; topic: string; lag: number }[] = [];
    for (const [topic, group] of rt.offsets.entries()) {
      const config = rt.topics.get(topic);
      if (!config) continue;
      let lag = 0n;
      for (let q = 0; q < config.readQueueNums; q++) {
        const max = rt.store.getMaxOffsetInQueue(topic, q);
        const committed = rt.offsets.query(group, topic, q) ?? 0n;
        if (max > committed) lag += max - committed;
      }
      out.push({ group, topic, lag: Number(lag) });
    }
    return out;
  }

  private registerProcessors(rt: BrokerRuntime): void {
    const pull = this.pull!;
    const clients = this.clients!;
    const schedule = this.schedule!;
    const transactions = this.transactions!;
    const locks = createLockProcessors(rt);
    const reg = (code: number, processor: Processor) => {
      const name = requestCodeName(code);
      this.server.registerProcessor(code, (req, ctx) => {
        rt.metrics.requests.inc({ code: name });
        return processor(req, ctx);
      });
    };
    reg(Code.SEND_MESSAGE, createSendProcessor(rt, 'v1'));
    reg(Code.SEND_MESSAGE_V2, createSendProcessor(rt, 'v2'));
    reg(Code.SEND_BATCH_MESSAGE, createSendProcessor(rt, 'batch'));
    reg(Code.PULL_MESSAGE, pull.process);
    reg(Code.QUERY_CONSUMER_OFFSET, offsets.queryConsumerOffset(rt));
    reg(Code.UPDATE_CONSUMER_OFFSET, offsets.updateConsumerOffset(rt));
    reg(Code.GET_MAX_OFFSET, offsets.getMaxOffset(rt));
    reg(Code.GET_MIN_OFFSET, offsets.getMinOffset(rt));
    reg(Code.SEARCH_OFFSET_BY_TIMESTAMP, offsets.searchOffsetByTimestamp(rt));
    reg(Code.GET_EARLIEST_MSG_STORETIME, offsets.getEarliestMsgStoreTime(rt));
    reg(Code.GET_ALL_CONSUMER_OFFSET, offsets.getAllConsumerOffset(rt));
    reg(Code.HEART_BEAT, clients.heartbeat);
    reg(Code.UNREGISTER_CLIENT, clients.unregisterClient);
    reg(Code.CHECK_CLIENT_CONFIG, clients.checkClientConfig);
    reg(Code.GET_CONSUMER_LIST_BY_GROUP, clients.getConsumerListByGroup);
    reg(Code.CONSUMER_SEND_MSG_BACK, createSendBackProcessor(rt));
    reg(Code.END_TRANSACTION, transactions.endTransaction);
    reg(Code.LOCK_BATCH_MQ, locks.lock);
    reg(Code.UNLOCK_BATCH_MQ, locks.unlock);
    reg(Code.QUERY_MESSAGE, queryMessage(rt));
    reg(Code.VIEW_MESSAGE_BY_ID, viewMessageById(rt));
    reg(Code.GET_ALL_DELAY_OFFSET, async (req) =>
      createResponse(req, ResponseCode.SUCCESS, { body: Buffer.from(schedule.encode(), 'utf8') }),
    );
    reg(Code.UPDATE_AND_CREATE_TOPIC, admin.updateAndCreateTopic(rt));
    reg(Code.DELETE_TOPIC_IN_BROKER, admin.deleteTopicInBroker(rt));
    reg(Code.GET_ALL_TOPIC_CONFIG, admin.getAllTopicConfig(rt));
    reg(Code.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, admin.updateAndCreateSubscriptionGroup(rt));
    reg(Code.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, admin.getAllSubscriptionGroupConfig(rt));
    reg(Code.DELETE_SUBSCRIPTIONGROUP, admin.deleteSubscriptionGroup(rt));
    reg(Code.GET_TOPIC_STATS_INFO, admin.getTopicStatsInfo(rt));
    reg(Code.GET_CONSUME_STATS, admin.getConsumeStats(rt));
    reg(Code.GET_BROKER_CONSUME_STATS, admin.getBrokerConsumeStats(rt));
    reg(Code.GET_CONSUMER_CONNECTION_LIST, admin.getConsumerConnectionList(rt));
    reg(Code.GET_PRODUCER_CONNECTION_LIST, admin.getProducerConnectionList(rt));
    reg(Code.QUERY_TOPIC_CONSUME_BY_WHO, admin.queryTopicConsumeByWho(rt));
    reg(Code.GET_SYSTEM_TOPIC_LIST_FROM_BROKER, admin.getSystemTopicListFromBroker(rt));
    reg(Code.VIEW_BROKER_STATS_DATA, admin.viewBrokerStatsData(rt));
    reg(Code.CLONE_GROUP_OFFSET, admin.cloneGroupOffset(rt));
    reg(Code.INVOKE_BROKER_TO_RESET_OFFSET, admin.resetOffset(rt));
    reg(Code.GET_CONSUMER_RUNNING_INFO, admin.getConsumerRunningInfo(rt));
    reg(
      Code.GET_BROKER_RUNTIME_INFO,
      admin.getBrokerRuntimeInfo(rt, this.bootTimestamp, () => {
        const extra: Record<string, string> = {};
        for (const p of schedule.progress())
          extra[`scheduleMessageOffset_${p.level}`] = `${p.delivered},${p.max}`;
        return extra;
      }),
    );
    reg(Code.GET_BROKER_CONFIG, async (req) => this.getBrokerConfig(req));
    reg(Code.UPDATE_BROKER_CONFIG, async (req) => this.updateBrokerConfig(req));
    for (const [code, factory] of Object.entries(this.options.processors ?? {}))
      reg(Number(code), factory(rt));
  }

  private getBrokerConfig(req: RemotingCommand): RemotingCommand {
    return createResponse(req, ResponseCode.SUCCESS, {
      extFields: { version: JSON.stringify(this.configVersion) },
      body: Buffer.from(formatProperties(configEntries(this.config)), 'utf8'),
    });
  }

  private updateBrokerConfig(req: RemotingCommand): RemotingCommand {
    const text = req.body ? req.body.toString('utf8') : '';
    const changes = propertiesToMap(text);
    const notLive = [...changes.keys()].filter((k) => !LIVE_KEYS.has(k));
    if (notLive.length > 0) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, {
        remark: `these keys need a restart (edit broker.conf): ${notLive.join(', ')}; live keys: ${[...LIVE_KEYS].join(', ')}`,
      });
    }
    let updated: BrokerConfig;
    try {
      const merged = formatProperties(configEntries(this.config)) + text;
      updated = loadBrokerConfig({ file: { name: 'UPDATE_BROKER_CONFIG', text: merged } }).config;
    } catch (err) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, { remark: (err as Error).message });
    }
    const permChanged = updated.brokerPermission !== this.config.brokerPermission;
    this.config = updated;
    this.configVersion = nextDataVersion(this.configVersion, this.now());
    this.logger.info('broker config updated', { keys: [...changes.keys()].join(',') });
    if (permChanged) this.registrar?.requestRegistration();
    return createResponse(req);
  }

  /** Graceful stop; safe to call more than once. */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const wasStarted = this.state === 'running';
    this.state = 'stopping';
    this.accepting = false;
    this.logger.info('broker stopping');
    if (this.offsetTimer) clearInterval(this.offsetTimer);
    this.offsetTimer = null;
    this.clients?.stop();
    await this.pull?.stop();
    if (this.registrar) await this.registrar.stop();
    await this.server.close();
    await this.client.close();
    await this.schedule
      ?.stop()
      .catch((err) => this.logger.error('stopping the schedule service failed', { error: err }));
    await this.transactions
      ?.stop()
      .catch((err) => this.logger.error('stopping the transaction service failed', { error: err }));
    if (wasStarted && this.runtime) {
      const rt = this.runtime;
      await rt.offsets
        .persist(true)
        .catch((err) => this.logger.error('persisting offsets failed', { error: err }));
      await rt.topics.persist().catch((err) => this.logger.error('persisting topics failed', { error: err }));
      await rt.groups.persist().catch((err) => this.logger.error('persisting groups failed', { error: err }));
    }
    if (this.store) await this.store.shutdown();
    this.state = 'stopped';
    this.logger.info('broker stopped');
  }
}
