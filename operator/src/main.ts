// Composition root of the `bolide-operator` program: reads flags and environment, builds the kube
// adapter (client, informers, work queues, leader election, events), registers the BrokerCluster,
// Topic and ConsumerGroup controllers, serves /metrics, /healthz and /readyz, and shuts down on SIGTERM.
import { randomUUID } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BROKER_CLUSTER_KIND,
  BROKER_CLUSTER_PLURAL,
  type BrokerCluster,
  CONSUMER_GROUP_KIND,
  CONSUMER_GROUP_PLURAL,
  type ConsumerGroup,
  GROUP,
  TOPIC_KIND,
  TOPIC_PLURAL,
  type Topic,
  VERSION,
} from './api/index.js';
import {
  AutoscaleMetrics,
  alertHandler,
  ConsumeStatsReader,
  createAutoscaler,
  kubeScaleTarget,
  readAlertToken,
} from './autoscale/index.js';
import {
  createBrokerClusterReconciler,
  createConsumerGroupReconciler,
  createTopicReconciler,
  type EndpointOverride,
  parseEndpointOverrides,
  type Reconcile,
  RocketMqAdmin,
} from './controller/index.js';
import { OperatorHttpServer, OperatorMetrics } from './http/index.js';
import {
  BuiltinResources,
  defaultRateLimiter,
  EventRecorder,
  enqueueMapped,
  enqueueObject,
  enqueueOwner,
  Informer,
  ignoreStatusOnlyUpdates,
  jsonLogger,
  KubeClient,
  type KubeObject,
  LeaderElector,
  type Logger,
  objectKey,
  ReconcileLoop,
  type ResourceType,
  silentLogger,
  systemClock,
  WorkQueue,
} from './kube/index.js';

export const OPERATOR_VERSION = '0.1.0';
export const DEFAULT_BROKER_IMAGE = `bolide/broker:${OPERATOR_VERSION}`;

export const USAGE = `Usage: bolide-operator [options]

  --kubeconfig PATH         kubeconfig file, or "in-cluster" (default: KUBECONFIG, ~/.kube/config, in-cluster)
  --namespace NS            watch one namespace (default: all namespaces; env BOLIDE_WATCH_NAMESPACE)
  --metrics-port N          /metrics, /healthz, /readyz (default 8080; -1 = off; env BOLIDE_METRICS_PORT)
  --leader-elect BOOL       Lease leader election (default true; env BOLIDE_LEADER_ELECT)
  --lease-name NAME         Lease name (default bolide-operator; env BOLIDE_LEASE_NAME)
  --lease-namespace NS      Lease namespace (default: POD_NAMESPACE, the watched namespace, or "default")
  --broker-image IMAGE      image for clusters without spec.image (default ${DEFAULT_BROKER_IMAGE}; env BOLIDE_BROKER_IMAGE)
  --lease-duration-ms N     lease validity without renewal (default 15000; renew deadline 2/3, retry 1/5 of it)
  --resync-seconds N        re-declare topics and groups on the brokers this often (default 300)
  --admin-timeout-ms N      timeout of one broker admin call (default 3000)
  --queue-shrink-grace-seconds N
                            after lowering a topic's write queues, wait this long for clients to
                            refresh their routes before the read queues may follow (default 45;
                            env BOLIDE_QUEUE_SHRINK_GRACE_SECONDS)
  --endpoint-overrides JSON dev/test seam: '{"ns/cluster": {"nameServers": [...], "masters":
                            [{"brokerName": "b", "address": "host:port"}]}}', or @file
                            (env BOLIDE_ENDPOINT_OVERRIDES); admin calls for that cluster go there
  Alertmanager webhooks (POST /alerts) need the bearer token in BOLIDE_ALERT_TOKEN or the file
  named by BOLIDE_ALERT_TOKEN_FILE, when one is set.
  --log-level LEVEL         info (default) or silent
  -h, --help
`;

export interface OperatorOptions {
  /** kubeconfig path, 'in-cluster', or undefined for kubectl's default lookup. */
  kubeconfig?: string;
  /** Watch one namespace; undefined = all. */
  namespace?: string;
  /** -1 disables the HTTP server; 0 picks a free port. */
  metricsPort: number;
  metricsHost?: string;
  leaderElection: boolean;
  leaseName: string;
  leaseNamespace: string;
  /** Unique per replica. */
  identity: string;
  defaultImage: string;
  resyncMs: number;
  adminTimeoutMs: number;
  /** Topic queue shrink: route-refresh grace after lowering write queues, and how often to recheck. */
  queueShrinkGraceMs?: number;
  queueShrinkRecheckMs?: number;
  endpointOverrides: Map<string, EndpointOverride>;
  /** Bearer token POST /alerts requires (BOLIDE_ALERT_TOKEN or BOLIDE_ALERT_TOKEN_FILE); none = open. */
  alertToken?: string;
  /** Backoff of failed reconciles: first retry delay and the cap. Defaults 50 ms and 5 min. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Leader election timings (tests shorten them). */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger?: Logger;
}

export interface RunningOperator {
  readonly identity: string;
  /** Port of the HTTP server, if enabled. */
  readonly httpPort?: number;
  readonly metrics: OperatorMetrics;
  isLeader(): boolean;
  /** Resolves once the controllers run (immediately without leader election). */
  whenLeading(): Promise<void>;
  /** Resolves when leadership was lost (the process should exit and be restarted). */
  readonly lostLeadership: Promise<void>;
  stop(): Promise<void>;
}

function envBool(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  if (/^(false|0|no|off)$/i.test(value)) return false;
  throw new Error(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

function intOption(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${name} must be a whole number >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}

/** client-go's proportions: renew deadline 2/3 and retry period 1/5 of the lease duration. */
function leaseTimings(leaseDurationMs: number) {
  return {
    leaseDurationMs,
    renewDeadlineMs: Math.floor((leaseDurationMs * 2) / 3),
    retryPeriodMs: Math.floor(leaseDurationMs / 5),
  };
}

function overridesText(value: string | undefined): string | undefined {
  if (value?.startsWith('@')) return readFileSync(value.slice(1), 'utf8');
  return value;
}

/** Flags win over environment variables, which win over defaults. Throws with a readable message. */
export function parseOperatorOptions(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): OperatorOptions & { help: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      'metrics-port': { type: 'string' },
      'leader-elect': { type: 'string' },
      'lease-name': { type: 'string' },
      'lease-namespace': { type: 'string' },
      'lease-duration-ms': { type: 'string' },
      'broker-image': { type: 'string' },
      'resync-seconds': { type: 'string' },
      'admin-timeout-ms': { type: 'string' },
      'queue-shrink-grace-seconds': { type: 'string' },
      'endpoint-overrides': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 0) throw new Error(`unexpected argument: ${positionals[0]}`);
  const namespace = (values.namespace ?? env.BOLIDE_WATCH_NAMESPACE) || undefined;
  const logLevel = values['log-level'] ?? env.BOLIDE_LOG_LEVEL ?? 'info';
  if (logLevel !== 'info' && logLevel !== 'silent')
    throw new Error(`--log-level must be info or silent, got ${logLevel}`);
  return {
    help: values.help === true,
    kubeconfig: values.kubeconfig,
    namespace,
    metricsPort: intOption(values['metrics-port'] ?? env.BOLIDE_METRICS_PORT, '--metrics-port', 8080, -1),
    leaderElection:
      envBool(values['leader-elect'], '--leader-elect') ??
      envBool(env.BOLIDE_LEADER_ELECT, 'BOLIDE_LEADER_ELECT') ??
      true,
    leaseName: values['lease-name'] ?? env.BOLIDE_LEASE_NAME ?? 'bolide-operator',
    leaseNamespace:
      values['lease-namespace'] ?? env.BOLIDE_LEASE_NAMESPACE ?? env.POD_NAMESPACE ?? namespace ?? 'default',
    identity: `${env.POD_NAME ?? hostname()}_${randomUUID().slice(0, 8)}`,
    ...leaseTimings(intOption(values['lease-duration-ms'], '--lease-duration-ms', 15_000, 1000)),
    defaultImage: values['broker-image'] ?? env.BOLIDE_BROKER_IMAGE ?? DEFAULT_BROKER_IMAGE,
    resyncMs: intOption(values['resync-seconds'], '--resync-seconds', 300, 1) * 1000,
    adminTimeoutMs: intOption(values['admin-timeout-ms'], '--admin-timeout-ms', 3000, 1),
    queueShrinkGraceMs:
      intOption(
        values['queue-shrink-grace-seconds'] ?? env.BOLIDE_QUEUE_SHRINK_GRACE_SECONDS,
        '--queue-shrink-grace-seconds',
        45,
        0,
      ) * 1000,
    endpointOverrides: parseEndpointOverrides(
      overridesText(values['endpoint-overrides'] ?? env.BOLIDE_ENDPOINT_OVERRIDES),
    ),
    alertToken: readAlertToken(env),
    logger: logLevel === 'silent' ? silentLogger() : jsonLogger('bolide-operator'),
  };
}

function crdType(kind: string, plural: string): ResourceType {
  return Object.freeze({ group: GROUP, version: VERSION, kind, plural, namespaced: true });
}

export const BolideResources = Object.freeze({
  BrokerCluster: crdType(BROKER_CLUSTER_KIND, BROKER_CLUSTER_PLURAL),
  Topic: crdType(TOPIC_KIND, TOPIC_PLURAL),
  ConsumerGroup: crdType(CONSUMER_GROUP_KIND, CONSUMER_GROUP_PLURAL),
});

/** Children carry this label; informers on child kinds only cache the operator's own objects. */
const CHILD_SELECTOR = 'app.kubernetes.io/managed-by=bolide-operator';

/** Starts everything; the controllers run once this replica leads (or at once without election). */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const logger = options.logger ?? silentLogger();
  const resources = Object.values(BolideResources);
  const client =
    options.kubeconfig === undefined
      ? KubeClient.fromDefault({ resources })
      : KubeClient.fromKubeconfig(options.kubeconfig, { resources });
  const metrics = new OperatorMetrics();
  const events = new EventRecorder(client, { component: 'bolide-operator', logger });
  const admin = new RocketMqAdmin({ requestTimeoutMs: options.adminTimeoutMs });
  const scope = { namespace: options.namespace, logger };

  const clusters = new Informer<BrokerCluster & KubeObject>(client, BolideResources.BrokerCluster, scope);
  const topics = new Informer<Topic & KubeObject>(client, BolideResources.Topic, scope);
  const groups = new Informer<ConsumerGroup & KubeObject>(client, BolideResources.ConsumerGroup, scope);
  const childScope = { ...scope, labelSelector: CHILD_SELECTOR };
  const statefulSets = new Informer<KubeObject>(client, BuiltinResources.StatefulSet, childScope);
  const children = [
    statefulSets,
    new Informer<KubeObject>(client, BuiltinResources.ConfigMap, childScope),
    new Informer<KubeObject>(client, BuiltinResources.Service, childScope),
    new Informer<KubeObject>(client, BuiltinResources.PodDisruptionBudget, childScope),
  ];
  const informers: Informer<KubeObject>[] = [clusters, topics, groups, ...children];

  const newQueue = () =>
    new WorkQueue({
      rateLimiter: defaultRateLimiter(systemClock(), {
        baseDelayMs: options.retryBaseDelayMs,
        maxDelayMs: options.retryMaxDelayMs,
      }),
    });
  const clusterQueue = newQueue();
  const topicQueue = newQueue();
  const groupQueue = newQueue();
  metrics.registerQueue('BrokerCluster', () => clusterQueue.len());
  metrics.registerQueue('Topic', () => topicQueue.len());
  metrics.registerQueue('ConsumerGroup', () => groupQueue.len());
  const autoscaleQueue = newQueue();
  metrics.registerQueue('Autoscaler', () => autoscaleQueue.len());

  // Primaries: their own status writes do not wake them.
  clusters.addEventHandler(ignoreStatusOnlyUpdates(enqueueObject(clusterQueue)));
  topics.addEventHandler(ignoreStatusOnlyUpdates(enqueueObject(topicQueue)));
  groups.addEventHandler(ignoreStatusOnlyUpdates(enqueueObject(groupQueue)));
  groups.addEventHandler(ignoreStatusOnlyUpdates(enqueueObject(autoscaleQueue)));
  // Owned children: any change (drift, StatefulSet status) wakes the owning cluster.
  for (const informer of children) {
    informer.addEventHandler(enqueueOwner(clusterQueue, { group: GROUP, kind: BROKER_CLUSTER_KIND }));
  }
  // A cluster appearing, changing or getting ready wakes the Topics and ConsumerGroups that use it.
  const referencing = <T extends { spec: { clusterRef: { name: string } } } & KubeObject>(
    cache: Informer<T>,
    cluster: KubeObject,
  ) =>
    cache
      .list({ namespace: cluster.metadata?.namespace })
      .filter((o) => o.spec.clusterRef?.name === cluster.metadata?.name)
      .map((o) => objectKey(o));
  clusters.addEventHandler(enqueueMapped(topicQueue, (c) => referencing(topics, c)));
  clusters.addEventHandler(enqueueMapped(groupQueue, (c) => referencing(groups, c)));

  const kube = {
    apply: <T extends KubeObject>(obj: T) => client.apply(obj),
    patchStatus: <T extends KubeObject>(obj: KubeObject, status: unknown) =>
      client.patchStatus<T>(obj, status),
    addFinalizer: <T extends KubeObject>(obj: T, f: string) => client.addFinalizer(obj, f),
    removeFinalizer: <T extends KubeObject>(obj: T, f: string) => client.removeFinalizer(obj, f),
    deleteObject: async (obj: KubeObject, opts: { propagationPolicy?: 'Orphan' | 'Background' } = {}) => {
      const type = await client.typeOf(obj);
      await client.delete(type, obj.metadata?.name ?? '', obj.metadata?.namespace, opts);
    },
  };
  const now = () => Date.now();
  const brokerSide = {
    clusters,
    kube,
    events,
    admin,
    overrides: options.endpointOverrides,
    now,
    resyncMs: options.resyncMs,
  };
  const controllers: { name: string; queue: WorkQueue; reconcile: Reconcile; concurrency: number }[] = [
    {
      name: BROKER_CLUSTER_KIND,
      queue: clusterQueue,
      concurrency: 2,
      reconcile: createBrokerClusterReconciler({
        clusters,
        statefulSets,
        kube,
        events,
        build: { defaultImage: options.defaultImage },
        now,
      }),
    },
    {
      name: TOPIC_KIND,
      queue: topicQueue,
      concurrency: 4,
      reconcile: createTopicReconciler({
        ...brokerSide,
        objects: topics,
        queueShrink: { graceMs: options.queueShrinkGraceMs, recheckMs: options.queueShrinkRecheckMs },
      }),
    },
    {
      name: CONSUMER_GROUP_KIND,
      queue: groupQueue,
      concurrency: 4,
      reconcile: createConsumerGroupReconciler({ ...brokerSide, objects: groups }),
    },
  ];
  // Lag measurement and autoscaling of ConsumerGroups (operator/src/autoscale).
  const lagReader = new ConsumeStatsReader({ requestTimeoutMs: options.adminTimeoutMs });
  const autoscaler = createAutoscaler({
    groups,
    topics,
    clusters,
    overrides: options.endpointOverrides,
    lag: lagReader,
    scale: kubeScaleTarget(client),
    admin,
    kube,
    events,
    observer: new AutoscaleMetrics(metrics.registry),
    now,
    onError: (key, what, err) =>
      logger.warn('autoscaler', { key, what, error: err instanceof Error ? err : String(err) }),
  });
  controllers.push({
    name: 'Autoscaler',
    queue: autoscaleQueue,
    concurrency: 4,
    reconcile: autoscaler.reconcile,
  });

  const loops = controllers.map(
    (c) =>
      new ReconcileLoop({
        name: c.name,
        queue: c.queue,
        reconcile: c.reconcile,
        concurrency: c.concurrency,
        observer: metrics,
        logger,
      }),
  );

  let stopping = false;
  let loopsRunning = false;
  let markLost: () => void = () => {};
  const lostLeadership = new Promise<void>((resolve) => {
    markLost = resolve;
  });
  const startLoops = async () => {
    await Promise.all(informers.map((i) => i.waitForSync()));
    if (stopping || loopsRunning) return;
    loopsRunning = true;
    for (const loop of loops) loop.start();
    logger.info('controllers started', {
      identity: options.identity,
      namespace: options.namespace ?? '(all)',
    });
  };
  const stopLoops = async () => {
    if (!loopsRunning) return;
    loopsRunning = false;
    await Promise.all(loops.map((l) => l.stop()));
  };

  for (const i of informers) i.start();

  let elector: LeaderElector | undefined;
  if (options.leaderElection) {
    elector = new LeaderElector(client, {
      namespace: options.leaseNamespace,
      name: options.leaseName,
      identity: options.identity,
      leaseDurationMs: options.leaseDurationMs,
      renewDeadlineMs: options.renewDeadlineMs,
      retryPeriodMs: options.retryPeriodMs,
      logger,
      onStartedLeading: () => {
        metrics.setLeader(true);
        startLoops().catch((err) => logger.error('starting controllers failed', { error: err }));
      },
      onStoppedLeading: () => {
        metrics.setLeader(false);
        // Another replica may already be reconciling: stop at once, and let the process restart.
        stopLoops().finally(() => {
          if (!stopping) markLost();
        });
      },
    });
    elector.start();
  } else {
    metrics.setLeader(true);
    await startLoops();
  }

  let http: OperatorHttpServer | undefined;
  let httpPort: number | undefined;
  if (options.metricsPort >= 0) {
    http = new OperatorHttpServer({
      metrics,
      healthy: () => !stopping,
      ready: () => informers.every((i) => i.hasSynced()),
    });
    // Every replica takes webhooks; a non-leader answers 503 so Alertmanager retries elsewhere.
    http.mountAlerts(
      alertHandler({
        enqueue: (key) => autoscaleQueue.add(key),
        isLeader: () => loopsRunning,
        onAlert: (keys) => logger.info('alert received', { groups: keys }),
      }),
      { bearerToken: options.alertToken },
    );
    httpPort = (await http.listen(options.metricsPort, options.metricsHost)).port;
  }

  return {
    identity: options.identity,
    httpPort,
    metrics,
    isLeader: () => (elector ? elector.isLeader() : true),
    whenLeading: async () => {
      if (elector) await elector.whenLeading();
      await Promise.all(informers.map((i) => i.waitForSync()));
    },
    lostLeadership,
    stop: async () => {
      if (stopping) return;
      stopping = true;
      // Finish running reconciles, then give the lease up so another replica takes over at once.
      await stopLoops();
      if (elector) await elector.stop();
      await Promise.all(informers.map((i) => i.stop()));
      await Promise.all([admin.close(), lagReader.close()]);
      if (http) await http.close();
      client.close();
      logger.info('stopped', { identity: options.identity });
    },
  };
}

/** Runs until SIGTERM/SIGINT (exit 0) or lost leadership (exit 1, so the pod restarts and campaigns again). */
export async function main(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseOperatorOptions>;
  try {
    options = parseOperatorOptions(argv);
  } catch (err) {
    process.stderr.write(`bolide-operator: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let running: RunningOperator;
  try {
    running = await startOperator(options);
  } catch (err) {
    process.stderr.write(`bolide-operator: failed to start: ${(err as Error).stack ?? err}\n`);
    return 1;
  }
  // One machine-readable line on stdout (scripts and tests read the port from it).
  process.stdout.write(
    `bolide-operator ready identity=${running.identity}${running.httpPort !== undefined ? ` http=${running.httpPort}` : ''}\n`,
  );
  return new Promise<number>((resolveExit) => {
    let exiting = false;
    const shutdown = (code: number, why: string) => {
      if (exiting) return;
      exiting = true;
      options.logger?.info('shutting down', { reason: why });
      running.stop().then(
        () => resolveExit(code),
        (err) => {
          process.stderr.write(`bolide-operator: shutdown failed: ${(err as Error).stack ?? err}\n`);
          resolveExit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown(0, 'SIGTERM'));
    process.on('SIGINT', () => shutdown(0, 'SIGINT'));
    running.lostLeadership.then(() => shutdown(1, 'lost leadership'));
  });
}

function isEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntry()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`bolide-operator: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
