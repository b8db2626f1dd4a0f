import type { ListWatcher } from './client.js';
import type { Clock } from './clock.js';
import { enqueueMapped, enqueueObject, enqueueOwner, ignoreStatusOnlyUpdates } from './handlers.js';
import { Informer, type InformerOptions } from './informer.js';
import { type Logger, silentLogger } from './log.js';
import type { KubeObject } from './objects.js';
import type { RateLimiter } from './rate-limit.js';
import { ReconcileLoop, type ReconcileObserver, type Reconciler } from './reconcile-loop.js';
import { apiVersionOf, type ResourceType } from './resources.js';
import { WorkQueue } from './workqueue.js';

/** One controller: what it reconciles and which changes wake it (controller-runtime's builder). */
export interface ControllerSpec {
  /** Names the queue and the metrics label, e.g. the kind. */
  name: string;
  /** `For`: changes of these objects enqueue their own key. */
  for: ResourceType;
  /** `Owns`: changes of these enqueue their controller owner of kind `for`. */
  owns?: readonly ResourceType[];
  /** `Watches`: anything else, with a mapping to keys of `for` objects. */
  watches?: ReadonlyArray<{ type: ResourceType; map: (obj: KubeObject) => readonly string[] }>;
  reconcile: Reconciler;
  concurrency?: number;
  /** Do not wake on the primary's own status writes (default true). */
  ignoreStatusOnlyUpdates?: boolean;
  rateLimiter?: RateLimiter;
}

/** Metrics sink: reconcile outcomes plus queue depth (OperatorMetrics fits). */
export interface ManagerObserver extends ReconcileObserver {
  registerQueue(name: string, depth: () => number): void;
}

export interface ManagerOptions {
  client: ListWatcher;
  /** Watch a single namespace (default: all). */
  namespace?: string;
  observer?: ManagerObserver;
  logger?: Logger;
  clock?: Clock;
  informer?: Omit<InformerOptions, 'namespace' | 'clock' | 'logger'>;
}

/**
 * Wires informers (one per resource type, shared by all controllers), queues and reconcile loops,
 * and starts them in the right order: informers first, workers only once every cache has synced,
 * so no reconcile reads a half-filled cache.
 */
export class ControllerManager {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private readonly loops: ReconcileLoop[] = [];
  private readonly logger: Logger;
  private started = false;

  constructor(private readonly opts: ManagerOptions) {
    this.logger = opts.logger ?? silentLogger();
  }

  /** The shared informer (and cache) for `type`; created on first use. */
  informer<T extends KubeObject>(type: ResourceType): Informer<T> {
    const key = `${apiVersionOf(type)}|${type.kind}`;
    let informer = this.informers.get(key);
    if (!informer) {
      if (this.started) throw new Error(`informer for ${type.kind} requested after start`);
      informer = new Informer<KubeObject>(this.opts.client, type, {
        ...this.opts.informer,
        namespace: this.opts.namespace,
        clock: this.opts.clock,
        logger: this.logger,
      });
      this.informers.set(key, informer);
    }
    return informer as Informer<T>;
  }

  /** Registers a controller; returns its queue (e.g. for an alert webhook to enqueue keys). */
  add(spec: ControllerSpec): WorkQueue {
    if (this.started) throw new Error(`controller ${spec.name} added after start`);
    const queue = new WorkQueue({ clock: this.opts.clock, rateLimiter: spec.rateLimiter });
    const primary = enqueueObject(queue);
    this.informer(spec.for).addEventHandler(
      (spec.ignoreStatusOnlyUpdates ?? true) ? ignoreStatusOnlyUpdates(primary) : primary,
    );
    for (const child of spec.owns ?? []) {
      this.informer(child).addEventHandler(
        enqueueOwner(queue, { group: spec.for.group, kind: spec.for.kind }),
      );
    }
    for (const w of spec.watches ?? []) this.informer(w.type).addEventHandler(enqueueMapped(queue, w.map));
    this.opts.observer?.registerQueue(spec.name, () => queue.len());
    this.loops.push(
      new ReconcileLoop({
        name: spec.name,
        queue,
        reconcile: spec.reconcile,
        concurrency: spec.concurrency,
        observer: this.opts.observer,
        logger: this.logger,
        clock: this.opts.clock,
      }),
    );
    return queue;
  }

  /** Starts every informer, waits until all have synced, then starts the workers. */
  async start(): Promise<void> {
    if (this.started) throw new Error('controller manager already started');
    this.started = true;
    for (const informer of this.informers.values()) informer.start();
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
    for (const loop of this.loops) loop.start();
    this.logger.info('controllers started', {
      informers: this.informers.size,
      controllers: this.loops.length,
    });
  }

  /** True once every cache has synced (for /readyz). */
  synced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced());
  }

  /** Stops workers (running reconciles finish, queued keys are dropped), then the informers. */
  async stop(): Promise<void> {
    await Promise.all(this.loops.map((l) => l.stop()));
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
