import type { ListWatcher } from './client.js';
import { type Clock, sleep, systemClock } from './clock.js';
import { type ApiStatus, apiErrorFrom, isGone } from './errors.js';
import { type Logger, silentLogger } from './log.js';
import { deepFreeze, type KubeObject, type WatchEvent } from './objects.js';
import type { ResourceType } from './resources.js';
import { type LabelSelector, matchesLabels, toRequirements } from './selectors.js';

/** Read access to cached objects: the seam controllers read through. */
export interface ObjectCache<T extends KubeObject> {
  get(name: string, namespace?: string): T | undefined;
  list(opts?: { namespace?: string; labelSelector?: string | LabelSelector }): T[];
}

/** Callbacks for cache changes. Objects are frozen: clone before changing them. */
export interface EventHandler<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions {
  /** Watch one namespace only (default: all). */
  namespace?: string;
  labelSelector?: string | LabelSelector;
  fieldSelector?: string;
  clock?: Clock;
  logger?: Logger;
  /** Delay after the first failure, doubling to `maxBackoffMs`; reset by any success. Default 1 s → 30 s. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Server-side watch timeout; the watch is re-opened from the last resourceVersion. Default 300 s. */
  watchTimeoutSeconds?: number;
  /** List page size. Default 500. */
  pageSize?: number;
}

/**
 * List-then-watch cache of one resource type, like client-go's shared informer:
 * - lists (paged) and watches from the list's resourceVersion, with bookmarks;
 * - a watch that ends is re-opened from the last resourceVersion seen;
 * - 410 Gone (too old a resourceVersion) relists at once, emitting deletes for objects that vanished
 *   during the gap and updates for ones that changed;
 * - any other failure retries with exponential backoff, for as long as the informer runs.
 */
export class Informer<T extends KubeObject> implements ObjectCache<T> {
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly handlers: EventHandler<T>[] = [];
  private readonly clock: Clock;
  private readonly logger: Logger;
  private resourceVersion = '';
  private synced = false;
  private readonly syncWaiters: Array<() => void> = [];
  private abort: AbortController | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private restarts = 0;

  constructor(
    private readonly api: ListWatcher,
    readonly type: ResourceType,
    private readonly opts: InformerOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock();
    this.logger = opts.logger ?? silentLogger();
    // Fail early on a malformed selector rather than in the background loop.
    toRequirements(opts.labelSelector);
  }

  addEventHandler(handler: EventHandler<T>): void {
    this.handlers.push(handler);
    // Late handlers see the current contents as adds, as in client-go.
    if (this.synced) for (const obj of this.list()) this.call(handler, 'onAdd', obj);
  }

  start(): void {
    if (this.running) throw new Error(`informer for ${this.type.kind} already started`);
    this.abort = new AbortController();
    this.running = this.run(this.abort.signal);
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.running;
    this.running = undefined;
  }

  /** True once the first full list has been loaded into the cache. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves when the first list is in the cache (or at once when it already is). */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** The resourceVersion of the last list or event applied. */
  lastResourceVersion(): string {
    return this.resourceVersion;
  }

  /** How many times the list/watch cycle was restarted after an error or 410 (for tests and metrics). */
  restartCount(): number {
    return this.restarts;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.byNamespace.get(namespace ?? '')?.get(name);
  }

  list(opts: { namespace?: string; labelSelector?: string | LabelSelector } = {}): T[] {
    const reqs = toRequirements(opts.labelSelector);
    const buckets =
      opts.namespace !== undefined ? [this.byNamespace.get(opts.namespace)] : [...this.byNamespace.values()];
    const out: T[] = [];
    for (const bucket of buckets) {
      for (const obj of bucket?.values() ?? []) {
        if (matchesLabels(reqs, obj.metadata?.labels)) out.push(obj);
      }
    }
    return out;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist(signal);
          needList = false;
        }
        if (signal.aborted) break;
        const opened = this.clock.now();
        let sawEvent = false;
        await this.api.watch<T>(
          this.type,
          {
            namespace: this.opts.namespace,
            labelSelector: this.opts.labelSelector,
            fieldSelector: this.opts.fieldSelector,
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300,
            signal,
          },
          (event) => {
            sawEvent = true;
            this.apply(event);
          },
        );
        // A watch the server closed straight away without a single event is treated as a failure,
        // so a misbehaving server cannot make us spin.
        if (!sawEvent && this.clock.now() - opened < 1000 && !signal.aborted) {
          await this.backoff(signal, new Error('watch closed immediately'));
        }
      } catch (err) {
        if (signal.aborted) break;
        this.restarts++;
        if (isGone(err)) {
          this.logger.info('resourceVersion expired, relisting', { kind: this.type.kind });
          needList = true;
          this.resourceVersion = '';
          continue;
        }
        await this.backoff(signal, err);
      }
    }
  }

  private async backoff(signal: AbortSignal, err: unknown): Promise<void> {
    const initial = this.opts.initialBackoffMs ?? 1000;
    const delay = Math.min(this.opts.maxBackoffMs ?? 30_000, initial * 2 ** Math.min(this.failures, 30));
    this.failures++;
    this.logger.warn('list/watch failed, retrying', {
      kind: this.type.kind,
      delayMs: delay,
      error: err instanceof Error ? err : String(err),
    });
    await sleep(this.clock, delay, signal);
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.api.list<T>(this.type, {
        namespace: this.opts.namespace,
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        limit: this.opts.pageSize ?? 500,
        continue: cont,
      });
      if (signal.aborted) return;
      items.push(...page.items);
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    this.replace(items, rv);
    this.failures = 0;
  }

  /** Makes the cache equal to a fresh list, emitting the differences. */
  private replace(items: T[], resourceVersion: string): void {
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(this.slot(item));
      this.upsert(item);
    }
    for (const [ns, bucket] of [...this.byNamespace]) {
      for (const [name, obj] of [...bucket]) {
        if (!seen.has(`${ns}/${name}`)) this.remove(obj);
      }
    }
    this.resourceVersion = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private apply(event: WatchEvent<T>): void {
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.upsert(event.object);
        break;
      case 'DELETED':
        this.remove(event.object);
        break;
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const status = event.object as ApiStatus;
        throw apiErrorFrom(status.code ?? 500, status, `watch ${this.type.kind}`);
      }
      default:
        throw new Error(`unknown watch event type ${JSON.stringify((event as { type: unknown }).type)}`);
    }
    const rv = event.object?.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    this.failures = 0;
  }

  private slot(obj: T): string {
    return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
  }

  private upsert(obj: T): void {
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name;
    if (!name) return;
    let bucket = this.byNamespace.get(ns);
    if (!bucket) {
      bucket = new Map();
      this.byNamespace.set(ns, bucket);
    }
    const old = bucket.get(name);
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    deepFreeze(obj);
    bucket.set(name, obj);
    for (const h of this.handlers) {
      if (old) this.call(h, 'onUpdate', old, obj);
      else this.call(h, 'onAdd', obj);
    }
  }

  private remove(obj: T): void {
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name;
    const bucket = this.byNamespace.get(ns);
    if (!name || !bucket) return;
    const old = bucket.get(name);
    bucket.delete(name);
    if (bucket.size === 0) this.byNamespace.delete(ns);
    const last = deepFreeze(obj.metadata?.resourceVersion ? obj : (old ?? obj));
    if (old) for (const h of this.handlers) this.call(h, 'onDelete', last);
  }

  private call(handler: EventHandler<T>, which: 'onAdd' | 'onUpdate' | 'onDelete', a: T, b?: T): void {
    try {
      if (which === 'onUpdate') handler.onUpdate?.(a, b!);
      else handler[which]?.(a);
    } catch (err) {
      // A faulty handler must not stop the informer or the other handlers.
      this.logger.error('event handler threw', {
        kind: this.type.kind,
        error: err instanceof Error ? err : String(err),
      });
    }
  }
}
