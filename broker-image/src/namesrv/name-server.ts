// The name server role: the route table behind a remoting server (protocol.md §2). Processors
// are thin adapters from request codes to RouteTable / KvConfig calls.

import { crc32 } from 'node:zlib';
import { Counter, Gauge, Registry } from 'prom-client';
import {
  configEntries,
  formatProperties,
  type Logger,
  loadNamesrvConfig,
  type NamesrvConfig,
  propertiesToMap,
} from '../common/index.js';
import {
  NamesrvRequestCode as Code,
  createResponse,
  decodeHeader,
  encodeBodyJson,
  parseBodyJson,
  type RemotingCommand,
  ResponseCode,
  requestCodeName,
} from '../protocol/index.js';
import { type Processor, RemotingServer } from '../remoting/index.js';
import { KvConfig, loadKvConfig, ORDER_TOPIC_CONFIG, saveKvConfig } from './kv-config.js';
import { decodeRegisterBody } from './register-body.js';
import { RouteTable } from './route-table.js';

export interface NameServerOptions {
  config: NamesrvConfig;
  logger: Logger;
  /** Clock (ms); tests may pass a fake one. */
  now?: () => number;
  /** Address to bind; default all interfaces. */
  host?: string;
}

const FAQ = '\nSee http://rocketmq.apache.org/docs/faq/ for further details.';

export class NameServer {
  readonly routes = new RouteTable();
  readonly registry = new Registry();
  private kv = new KvConfig();
  private config: NamesrvConfig;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly host: string;
  private readonly server: RemotingServer;
  private scanTimer: NodeJS.Timeout | null = null;
  private firstScanTimer: NodeJS.Timeout | null = null;
  private readonly requests: Counter<'code'>;
  private started = false;

  constructor(options: NameServerOptions) {
    this.config = { ...options.config };
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.host = options.host ?? '0.0.0.0';
    this.server = new RemotingServer({
      name: 'namesrv',
      logger: this.logger.child('remoting'),
      maxFrameLength: this.config.maxFrameSize,
    });
    this.requests = new Counter({
      name: 'bolide_namesrv_requests_total',
      help: 'Requests handled by the name server, by request code name',
      labelNames: ['code'],
      registers: [this.registry],
    });
    const routes = this.routes;
    const server = this.server;
    new Gauge({
      name: 'bolide_namesrv_brokers',
      help: 'Live broker addresses registered with this name server',
      registers: [this.registry],
      collect() {
        this.set(routes.liveBrokers().length);
      },
    });
    new Gauge({
      name: 'bolide_namesrv_topics',
      help: 'Topics with route data',
      registers: [this.registry],
      collect() {
        this.set(routes.allTopics().length);
      },
    });
    new Gauge({
      name: 'bolide_namesrv_connections',
      help: 'Open remoting connections to the name server',
      registers: [this.registry],
      collect() {
        this.set(server.channels.size);
      },
    });
    this.registerProcessors();
    this.server.on('channelClose', (channel) => {
      const removed = this.routes.onConnectionClosed(channel.id);
      for (const addr of removed)
        this.logger.info('broker connection closed; removed from routes', { broker: addr });
    });
  }

  /** Port the remoting server listens on (after start). */
  get port(): number {
    return this.server.port;
  }

  get running(): boolean {
    return this.started;
  }

  async start(): Promise<void> {
    this.kv = await loadKvConfig(this.config.kvConfigPath);
    await this.server.listen(this.config.listenPort, this.host);
    this.started = true;
    const scan = () => {
      const removed = this.routes.expire(this.now(), this.config.brokerChannelExpiredTime);
      for (const addr of removed) {
        this.logger.warn('broker expired (no registration within the liveness window)', {
          broker: addr,
          windowMs: this.config.brokerChannelExpiredTime,
        });
      }
    };
    // Java scans first after 5 s, then every 10 s.
    this.firstScanTimer = setTimeout(
      () => {
        scan();
        this.scanTimer = setInterval(scan, this.config.scanNotActiveBrokerInterval);
        this.scanTimer.unref();
      },
      Math.min(5000, this.config.scanNotActiveBrokerInterval),
    );
    this.firstScanTimer.unref();
    this.logger.info('name server started', { port: this.port });
  }

  async stop(): Promise<void> {
    if (this.firstScanTimer) clearTimeout(this.firstScanTimer);
    if (this.scanTimer) clearInterval(this.scanTimer);
    this.firstScanTimer = null;
    this.scanTimer = null;
    await this.server.close();
    if (this.started) await saveKvConfig(this.config.kvConfigPath, this.kv).catch(() => {});
    this.started = false;
    this.logger.info('name server stopped');
  }

  private register(code: number, handler: Processor): void {
    const name = requestCodeName(code);
    this.server.registerProcessor(code, (request, context) => {
      this.requests.inc({ code: name });
      return handler(request, context);
    });
  }

  private registerProcessors(): void {
    this.register(Code.REGISTER_BROKER, async (req, ctx) => this.registerBroker(req, ctx.channelId));
    this.register(Code.UNREGISTER_BROKER, async (req) => {
      const h = decodeHeader(req.extFields, {
        brokerName: 'string',
        brokerAddr: 'string',
        clusterName: 'string',
        brokerId: 'long',
      });
      this.routes.unregisterBroker(h.clusterName, h.brokerAddr, h.brokerName, Number(h.brokerId));
      this.logger.info('broker unregistered', { broker: h.brokerAddr, name: h.brokerName });
      return createResponse(req);
    });
    this.register(Code.QUERY_DATA_VERSION, async (req) => {
      const h = decodeHeader(req.extFields, {
        brokerName: 'string',
        brokerAddr: 'string',
        clusterName: 'string',
        brokerId: 'long',
      });
      const raw = req.body
        ? (parseBodyJson(req.body, { largeIntegers: 'number' }) as Record<string, unknown>)
        : {};
      const version = { counter: Number(raw?.counter ?? 0), timestamp: Number(raw?.timestamp ?? 0) };
      const result = this.routes.queryDataVersion(h.brokerAddr, version, this.now());
      return createResponse(req, ResponseCode.SUCCESS, {
        extFields: { changed: String(result.changed) },
        body: result.stored ? encodeBodyJson(result.stored) : undefined,
      });
    });
    this.register(Code.GET_ROUTEINFO_BY_TOPIC, async (req) => {
      const { topic } = decodeHeader(req.extFields, { topic: 'string' });
      const order = this.config.orderMessageEnable ? this.kv.get(ORDER_TOPIC_CONFIG, topic) : undefined;
      const route = this.routes.getRoute(topic, order);
      if (!route) {
        return createResponse(req, ResponseCode.TOPIC_NOT_EXIST, {
          remark: `No topic route info in name server for the topic: ${topic}${FAQ}`,
        });
      }
      return createResponse(req, ResponseCode.SUCCESS, { body: encodeBodyJson(route) });
    });
    this.register(Code.GET_BROKER_CLUSTER_INFO, async (req) =>
      createResponse(req, ResponseCode.SUCCESS, { body: encodeBodyJson(this.routes.clusterInfo()) }),
    );
    this.register(Code.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, async (req) =>
      createResponse(req, ResponseCode.SUCCESS, {
        body: encodeBodyJson({ topicList: this.routes.allTopics() }),
      }),
    );
    this.register(Code.GET_TOPICS_BY_CLUSTER, async (req) => {
      const { cluster } = decodeHeader(req.extFields, { cluster: 'string' });
      return createResponse(req, ResponseCode.SUCCESS, {
        body: encodeBodyJson({ topicList: this.routes.topicsByCluster(cluster) }),
      });
    });
    this.register(Code.GET_SYSTEM_TOPIC_LIST_FROM_NS, async (req) =>
      createResponse(req, ResponseCode.SUCCESS, { body: encodeBodyJson(this.routes.systemTopicList()) }),
    );
    const unit =
      (kind: 'unit' | 'hasUnitSub' | 'hasUnitSubUnUnit'): Processor =>
      async (req) =>
        createResponse(req, ResponseCode.SUCCESS, {
          body: encodeBodyJson({ topicList: this.routes.unitTopics(kind) }),
        });
    this.register(Code.GET_UNIT_TOPIC_LIST, unit('unit'));
    this.register(Code.GET_HAS_UNIT_SUB_TOPIC_LIST, unit('hasUnitSub'));
    this.register(Code.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST, unit('hasUnitSubUnUnit'));
    this.register(Code.DELETE_TOPIC_IN_NAMESRV, async (req) => {
      const h = decodeHeader(req.extFields, { topic: 'string', clusterName: 'string?' });
      this.routes.deleteTopic(h.topic, h.clusterName || undefined);
      return createResponse(req);
    });
    this.register(Code.WIPE_WRITE_PERM_OF_BROKER, async (req) => {
      const { brokerName } = decodeHeader(req.extFields, { brokerName: 'string' });
      const count = this.routes.wipeWritePerm(brokerName);
      return createResponse(req, ResponseCode.SUCCESS, { extFields: { wipeTopicCount: String(count) } });
    });
    this.register(Code.ADD_WRITE_PERM_OF_BROKER, async (req) => {
      const { brokerName } = decodeHeader(req.extFields, { brokerName: 'string' });
      const count = this.routes.addWritePerm(brokerName);
      return createResponse(req, ResponseCode.SUCCESS, { extFields: { addTopicCount: String(count) } });
    });
    this.register(Code.PUT_KV_CONFIG, async (req) => {
      const h = decodeHeader(req.extFields, { namespace: 'string', key: 'string', value: 'string' });
      this.kv.put(h.namespace, h.key, h.value);
      await saveKvConfig(this.config.kvConfigPath, this.kv);
      return createResponse(req);
    });
    this.register(Code.GET_KV_CONFIG, async (req) => {
      const h = decodeHeader(req.extFields, { namespace: 'string', key: 'string' });
      const value = this.kv.get(h.namespace, h.key);
      if (value === undefined) {
        return createResponse(req, ResponseCode.QUERY_NOT_FOUND, {
          remark: `No config item, Namespace: ${h.namespace} Key: ${h.key}`,
        });
      }
      return createResponse(req, ResponseCode.SUCCESS, { extFields: { value } });
    });
    this.register(Code.DELETE_KV_CONFIG, async (req) => {
      const h = decodeHeader(req.extFields, { namespace: 'string', key: 'string' });
      if (this.kv.delete(h.namespace, h.key)) await saveKvConfig(this.config.kvConfigPath, this.kv);
      return createResponse(req);
    });
    this.register(Code.GET_KVLIST_BY_NAMESPACE, async (req) => {
      const { namespace } = decodeHeader(req.extFields, { namespace: 'string' });
      const table = this.kv.list(namespace);
      if (!table) {
        return createResponse(req, ResponseCode.QUERY_NOT_FOUND, {
          remark: `No config item, Namespace: ${namespace}`,
        });
      }
      return createResponse(req, ResponseCode.SUCCESS, { body: encodeBodyJson({ table }) });
    });
    this.register(Code.GET_NAMESRV_CONFIG, async (req) =>
      createResponse(req, ResponseCode.SUCCESS, {
        body: Buffer.from(formatProperties(configEntries(this.config)), 'utf8'),
      }),
    );
    this.register(Code.UPDATE_NAMESRV_CONFIG, async (req) => {
      const text = req.body ? req.body.toString('utf8') : '';
      const merged = formatProperties(configEntries(this.config)) + '\n' + text;
      // Validates like the config file; settings read per request (order topics, expiry) apply at once.
      const { config, warnings } = loadNamesrvConfig({
        file: { name: 'UPDATE_NAMESRV_CONFIG', text: merged },
      });
      for (const w of warnings) this.logger.warn(w);
      const changed = [...propertiesToMap(text).keys()];
      this.config = { ...config, listenPort: this.config.listenPort, httpPort: this.config.httpPort };
      this.logger.info('name server config updated', { keys: changed.join(',') });
      return createResponse(req);
    });
  }

  private registerBroker(req: RemotingCommand, channelId: string): RemotingCommand {
    const h = decodeHeader(req.extFields, {
      brokerName: 'string',
      brokerAddr: 'string',
      clusterName: 'string',
      haServerAddr: 'string',
      brokerId: 'long',
      compressed: 'boolean?',
      bodyCrc32: 'int?',
    });
    if (h.bodyCrc32 !== undefined && h.bodyCrc32 !== 0 && req.body) {
      const actual = crc32(req.body) & 0x7fffffff;
      if (actual !== h.bodyCrc32) {
        this.logger.warn('register body crc32 mismatch', {
          broker: h.brokerAddr,
          expected: h.bodyCrc32,
          actual,
        });
        return createResponse(req, ResponseCode.SYSTEM_ERROR, { remark: 'crc32 not match' });
      }
    }
    let body: ReturnType<typeof decodeRegisterBody>;
    try {
      body = decodeRegisterBody(req.body, h.compressed === true);
    } catch (err) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, {
        remark: `bad REGISTER_BROKER body: ${(err as Error).message}`,
      });
    }
    const firstSeen = !this.routes.liveBrokers().some((b) => b.addr === h.brokerAddr);
    const result = this.routes.registerBroker(
      {
        clusterName: h.clusterName,
        brokerAddr: h.brokerAddr,
        brokerName: h.brokerName,
        brokerId: Number(h.brokerId),
        haServerAddr: h.haServerAddr,
        dataVersion: body.dataVersion,
        topicConfigTable: body.topicConfigTable,
        filterServerList: body.filterServerList,
        connectionId: channelId,
      },
      this.now(),
    );
    if (firstSeen) {
      this.logger.info('broker registered', {
        broker: h.brokerAddr,
        name: h.brokerName,
        cluster: h.clusterName,
        id: h.brokerId,
        topics: Object.keys(body.topicConfigTable).length,
      });
    }
    const order = this.kv.list(ORDER_TOPIC_CONFIG);
    return createResponse(req, ResponseCode.SUCCESS, {
      extFields: { haServerAddr: result.haServerAddr, masterAddr: result.masterAddr },
      body: order ? encodeBodyJson({ table: order }) : undefined,
    });
  }
}
