// What one producer or consumer shares with the network: the connection pool, the client id, topic
// routes refreshed from the name server, broker addresses, heartbeats, and the periodic tasks of
// protocol.md §8.1. Java shares one of these per client id; here every producer/consumer object
// owns its own (so several consumers of one group can live in one process with distinct ids).

import { networkInterfaces } from 'node:os';
import {
  BrokerRequestCode,
  createResponse,
  parseBodyJson,
  parseObjectKey,
  type RemotingCommand,
  ResponseCode,
} from '../protocol/index.js';
import { RemotingClient, type RemotingLogger } from '../remoting/index.js';
import { ClientApi, type HeartbeatData } from './client-api.js';
import { AUTO_CREATE_TOPIC_KEY, type MessageQueue } from './message.js';
import {
  type ClientOptions,
  defaultClientLogger,
  type ResolvedClientOptions,
  splitNamesrvAddr,
} from './options.js';
import { MASTER_ID, sameRoute, type TopicRouteData } from './route.js';
import { UniqKeyGenerator } from './uniq-key.js';

/** First non-internal IPv4 address of this host, else 127.0.0.1. */
export function localIPv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4' && !info.internal) return info.address;
    }
  }
  return '127.0.0.1';
}

export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  return {
    namesrvAddrs: splitNamesrvAddr(options.namesrvAddr),
    clientIP: options.clientIP ?? localIPv4(),
    instanceName: options.instanceName ?? `${process.pid}#${process.hrtime.bigint()}`,
    serializeType: options.serializeType ?? 'JSON',
    pollNameServerIntervalMs: options.pollNameServerIntervalMs ?? 30_000,
    heartbeatBrokerIntervalMs: options.heartbeatBrokerIntervalMs ?? 30_000,
    persistConsumerOffsetIntervalMs: options.persistConsumerOffsetIntervalMs ?? 5_000,
    rebalanceIntervalMs: options.rebalanceIntervalMs ?? 20_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 3_000,
    logger: options.logger ?? defaultClientLogger(),
  };
}

/** What a producer or consumer plugs into the instance. */
export interface ClientMember {
  /** Topics whose routes the instance keeps fresh. */
  topics(): string[];
  /** Adds this member's part to a heartbeat. */
  fillHeartbeat(data: HeartbeatData): void;
  /** Whether heartbeats must reach slaves too (consumers) or only masters (producers). */
  readonly needsAllBrokers: boolean;
  onRouteChanged?(topic: string, route: TopicRouteData): void;
  onConsumerIdsChanged?(group: string): void;
  /** Periodic offset persistence (consumers). */
  persistOffsets?(): Promise<void>;
  /** Periodic rebalance (consumers). */
  rebalance?(): Promise<void>;
  /** RESET_CONSUMER_CLIENT_OFFSET: true when `group` is this member's and it took the offsets. */
  resetOffset?(group: string, topic: string, offsets: { mq: MessageQueue; offset: number }[]): boolean;
  /** GET_CONSUMER_RUNNING_INFO body when `group` is this member's. */
  runningInfo?(group: string): Buffer | undefined;
}

/** Reads a ResetOffsetBody `{"offsetTable":{{MessageQueue}:offset}}`; malformed entries are skipped. */
export function parseResetOffsetBody(body: Buffer | undefined): { mq: MessageQueue; offset: number }[] {
  if (!body || body.length === 0) return [];
  const parsed = parseBodyJson(body, { largeIntegers: 'number' }) as { offsetTable?: unknown } | undefined;
  const table = parsed?.offsetTable;
  if (typeof table !== 'object' || table === null) return [];
  const out: { mq: MessageQueue; offset: number }[] = [];
  for (const [key, value] of Object.entries(table)) {
    let mq: Partial<MessageQueue> | undefined;
    try {
      mq = parseObjectKey(key) as Partial<MessageQueue>;
    } catch {
      continue;
    }
    const offset = Number(value);
    if (typeof mq?.topic !== 'string' || typeof mq.brokerName !== 'string' || !Number.isInteger(offset))
      continue;
    out.push({ mq: { topic: mq.topic, brokerName: mq.brokerName, queueId: Number(mq.queueId) }, offset });
  }
  return out;
}

/** A periodic task that never overlaps itself and stops on shutdown. */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private rerun = false;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly run: () => Promise<void>,
    private readonly logger: RemotingLogger,
  ) {}

  start(firstDelayMs: number): void {
    this.arm(firstDelayMs);
  }

  /** Runs as soon as possible: now, or right after the run in progress. */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) this.rerun = true;
    else this.arm(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), delayMs);
  }

  private fire(): void {
    this.timer = undefined;
    this.running = this.run()
      .catch((err: Error) => this.logger.warn(`${this.name} failed`, { error: err.message }))
      .finally(() => {
        this.running = undefined;
        if (this.rerun) {
          this.rerun = false;
          this.arm(0);
        } else {
          this.arm(this.intervalMs);
        }
      });
  }
}

export class ClientInstance {
  readonly options: ResolvedClientOptions;
  readonly clientId: string;
  readonly remoting: RemotingClient;
  readonly api: ClientApi;
  readonly uniqKeys: UniqKeyGenerator;
  readonly logger: RemotingLogger;
  private readonly routes = new Map<string, TopicRouteData>();
  /** brokerName → brokerId → address, merged from every route seen. */
  private readonly brokerAddrs = new Map<string, Record<string, string>>();
  private readonly members = new Set<ClientMember>();
  private readonly tasks: PeriodicTask[] = [];
  private heartbeatTask: PeriodicTask | undefined;
  private state: 'created' | 'running' | 'stopped' = 'created';
  /** Broker version from heartbeat responses, by address. */
  readonly brokerVersions = new Map<string, number>();

  constructor(options: ClientOptions) {
    this.options = resolveClientOptions(options);
    this.logger = this.options.logger;
    this.clientId = `${this.options.clientIP}@${this.options.instanceName}`;
    this.remoting = new RemotingClient({
      serializeType: this.options.serializeType,
      connectTimeoutMs: this.options.requestTimeoutMs,
      logger: this.logger,
      name: 'mq-client',
    });
    this.api = new ClientApi(this.remoting, {
      namesrvAddrs: this.options.namesrvAddrs,
      namesrvTimeoutMs: this.options.requestTimeoutMs,
    });
    this.uniqKeys = new UniqKeyGenerator({ ip: this.options.clientIP, pid: process.pid });
    this.remoting.registerProcessor(
      BrokerRequestCode.NOTIFY_CONSUMER_IDS_CHANGED,
      async (req: RemotingCommand) => {
        const group = req.extFields.consumerGroup;
        if (group) for (const m of this.members) m.onConsumerIdsChanged?.(group);
        return null;
      },
    );
    this.remoting.registerProcessor(
      BrokerRequestCode.RESET_CONSUMER_CLIENT_OFFSET,
      async (req: RemotingCommand) => {
        const { group, topic } = req.extFields;
        let offsets: { mq: MessageQueue; offset: number }[] = [];
        try {
          offsets = parseResetOffsetBody(req.body);
        } catch (err) {
          this.logger.warn('bad RESET_CONSUMER_CLIENT_OFFSET body', { error: (err as Error).message });
        }
        if (group && topic) for (const m of this.members) m.resetOffset?.(group, topic, offsets);
        return null;
      },
    );
    this.remoting.registerProcessor(
      BrokerRequestCode.GET_CONSUMER_RUNNING_INFO,
      async (req: RemotingCommand) => {
        const group = req.extFields.consumerGroup ?? '';
        for (const m of this.members) {
          const body = m.runningInfo?.(group);
          if (body) return createResponse(req, ResponseCode.SUCCESS, { body });
        }
        return createResponse(req, ResponseCode.SYSTEM_ERROR, {
          remark: `The Consumer Group <${group}> not exist in this consumer`,
        });
      },
    );
  }

  get running(): boolean {
    return this.state === 'running';
  }

  register(member: ClientMember): void {
    this.members.add(member);
  }

  unregister(member: ClientMember): void {
    this.members.delete(member);
  }

  /** Starts the periodic tasks. Members should be registered first. */
  start(): void {
    if (this.state !== 'created') return;
    this.state = 'running';
    const o = this.options;
    const routeTask = new PeriodicTask(
      'route refresh',
      o.pollNameServerIntervalMs,
      () => this.refreshAllRoutes(),
      this.logger,
    );
    const heartbeatTask = new PeriodicTask(
      'heartbeat',
      o.heartbeatBrokerIntervalMs,
      () => this.sendHeartbeatToAllBrokers(),
      this.logger,
    );
    const persistTask = new PeriodicTask(
      'offset persistence',
      o.persistConsumerOffsetIntervalMs,
      async () => {
        for (const m of this.members) await m.persistOffsets?.();
      },
      this.logger,
    );
    routeTask.start(o.pollNameServerIntervalMs);
    heartbeatTask.start(o.heartbeatBrokerIntervalMs);
    persistTask.start(o.persistConsumerOffsetIntervalMs);
    this.tasks.push(routeTask, heartbeatTask, persistTask);
    this.heartbeatTask = heartbeatTask;
  }

  /** Sends heartbeats now (e.g. a broker restarted and forgot our subscriptions). */
  triggerHeartbeat(): void {
    this.heartbeatTask?.trigger();
  }

  /** A task that members may trigger early (rebalance on NOTIFY_CONSUMER_IDS_CHANGED). */
  createTask(
    name: string,
    intervalMs: number,
    run: () => Promise<void>,
    firstDelayMs = intervalMs,
  ): PeriodicTask {
    const task = new PeriodicTask(name, intervalMs, run, this.logger);
    task.start(firstDelayMs);
    this.tasks.push(task);
    return task;
  }

  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    await Promise.all(this.tasks.map((t) => t.stop()));
    await this.remoting.close();
  }

  // ---- routes ----

  route(topic: string): TopicRouteData | undefined {
    return this.routes.get(topic);
  }

  /**
   * Fetches `topic`'s route. With `useDefaultTopic`, a topic unknown to the name server gets the
   * TBW102 route cut to `defaultQueueNums` queues (the broker creates the topic on first send).
   * Returns undefined when there is no route at all.
   */
  async updateRoute(
    topic: string,
    useDefault?: (defaultRoute: TopicRouteData) => TopicRouteData,
  ): Promise<TopicRouteData | undefined> {
    let route = await this.api.getTopicRoute(topic);
    if (!route && useDefault) {
      const defaultRoute = await this.api.getTopicRoute(AUTO_CREATE_TOPIC_KEY);
      if (defaultRoute) route = useDefault(defaultRoute);
    }
    if (!route) return undefined;
    this.storeRoute(topic, route);
    return route;
  }

  private storeRoute(topic: string, route: TopicRouteData): void {
    const known = new Set(this.allBrokerAddresses(false));
    const newBroker = route.brokerDatas.some((bd) =>
      Object.values(bd.brokerAddrs).some((a) => !known.has(a)),
    );
    for (const bd of route.brokerDatas) {
      this.brokerAddrs.set(bd.brokerName, {
        ...(this.brokerAddrs.get(bd.brokerName) ?? {}),
        ...bd.brokerAddrs,
      });
      // Drop ids no longer present in the newest route for this broker name.
      const merged = this.brokerAddrs.get(bd.brokerName)!;
      for (const id of Object.keys(merged)) if (!(id in bd.brokerAddrs)) delete merged[id];
    }
    const changed = !sameRoute(this.routes.get(topic), route);
    this.routes.set(topic, route);
    // A broker we never talked to does not know our groups yet; tell it before it is asked for them.
    if (newBroker && this.state === 'running') this.triggerHeartbeat();
    if (changed) for (const m of this.members) m.onRouteChanged?.(topic, route);
  }

  async refreshAllRoutes(): Promise<void> {
    const topics = new Set<string>();
    for (const m of this.members) for (const t of m.topics()) topics.add(t);
    for (const topic of topics) {
      try {
        const route = await this.api.getTopicRoute(topic);
        if (route) this.storeRoute(topic, route);
      } catch (err) {
        this.logger.warn('route refresh failed', { topic, error: (err as Error).message });
      }
    }
  }

  masterAddress(brokerName: string): string | undefined {
    return this.brokerAddrs.get(brokerName)?.[MASTER_ID];
  }

  /** Master if known, else any address of that broker name (consumers may read from slaves). */
  anyAddress(brokerName: string): string | undefined {
    const addrs = this.brokerAddrs.get(brokerName);
    if (!addrs) return undefined;
    return addrs[MASTER_ID] ?? Object.values(addrs)[0];
  }

  /** A broker serving `topic` to ask for the group's consumer list (master preferred). */
  brokerForTopic(topic: string): string | undefined {
    const route = this.routes.get(topic);
    if (!route || route.brokerDatas.length === 0) return undefined;
    const bd = route.brokerDatas[Math.floor(Math.random() * route.brokerDatas.length)];
    return bd.brokerAddrs[MASTER_ID] ?? Object.values(bd.brokerAddrs)[0];
  }

  // ---- heartbeat ----

  buildHeartbeat(): HeartbeatData {
    const data: HeartbeatData = { clientID: this.clientId, producerDataSet: [], consumerDataSet: [] };
    for (const m of this.members) m.fillHeartbeat(data);
    return data;
  }

  async sendHeartbeatToAllBrokers(): Promise<void> {
    const data = this.buildHeartbeat();
    if (data.producerDataSet.length === 0 && data.consumerDataSet.length === 0) return;
    const allBrokers = [...this.members].some((m) => m.needsAllBrokers);
    const targets: string[] = [];
    for (const addrs of this.brokerAddrs.values()) {
      for (const [id, addr] of Object.entries(addrs)) {
        if (allBrokers || id === MASTER_ID) targets.push(addr);
      }
    }
    await Promise.all(
      targets.map(async (addr) => {
        try {
          const version = await this.api.heartbeat(addr, data, this.options.requestTimeoutMs);
          this.brokerVersions.set(addr, version);
        } catch (err) {
          this.logger.warn('heartbeat failed', { broker: addr, error: (err as Error).message });
        }
      }),
    );
  }

  /** Every broker address known (for UNREGISTER_CLIENT on shutdown). */
  allBrokerAddresses(mastersOnly: boolean): string[] {
    const out: string[] = [];
    for (const addrs of this.brokerAddrs.values()) {
      for (const [id, addr] of Object.entries(addrs)) if (!mastersOnly || id === MASTER_ID) out.push(addr);
    }
    return out;
  }
}
