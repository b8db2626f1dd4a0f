import { hostname } from 'node:os';
import type { KubeClient } from './client.js';
import { type Clock, systemClock } from './clock.js';
import { isNotFound } from './errors.js';
import { type Logger, silentLogger } from './log.js';
import type { KubeObject } from './objects.js';

export type EventType = 'Normal' | 'Warning';

/** The seam controllers report user-visible happenings through. Never throws. */
export interface Events {
  record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void>;
}

/** Whole seconds, as metav1.Time is serialised. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Microseconds, as metav1.MicroTime requires (the API server rejects fewer digits). */
export function rfc3339Micro(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstMs: number;
  lastMs: number;
}

export interface EventRecorderOptions {
  /** source.component and reportingComponent. */
  component?: string;
  /** reportingInstance (default: the host name, i.e. the pod name). */
  instance?: string;
  /** A repeat within this window bumps `count` on the existing Event instead of creating one. Default 10 min. */
  dedupWindowMs?: number;
  /** How many distinct events are remembered for de-duplication. Default 4096. */
  maxTracked?: number;
  clock?: Clock;
  logger?: Logger;
}

/**
 * Writes core/v1 Events (what `kubectl describe` shows). Repeats of the same (object, type, reason,
 * message) within the window update `count` and `lastTimestamp` of one Event, as client-go's
 * correlator does. Failures are logged, never thrown: an event is not worth failing a reconcile for.
 */
export class EventRecorder implements Events {
  private readonly component: string;
  private readonly instance: string;
  private readonly windowMs: number;
  private readonly maxTracked: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly seen = new Map<string, Seen>();
  /** Per-key chain, so two quick repeats do not both create an Event. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private seq = 0;

  constructor(
    private readonly client: Pick<KubeClient, 'create' | 'patch'>,
    opts: EventRecorderOptions = {},
  ) {
    this.component = opts.component ?? 'bolide-operator';
    this.instance = opts.instance ?? hostname();
    this.windowMs = opts.dedupWindowMs ?? 600_000;
    this.maxTracked = opts.maxTracked ?? 4096;
    this.clock = opts.clock ?? systemClock();
    this.logger = opts.logger ?? silentLogger();
  }

  record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const meta = obj.metadata ?? {};
    const key = [meta.uid ?? `${obj.kind}/${meta.namespace}/${meta.name}`, type, reason, message].join(
      '\u0000',
    );
    const previous = this.inFlight.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.write(key, obj, type, reason, message));
    this.inFlight.set(key, next);
    void next.finally(() => {
      if (this.inFlight.get(key) === next) this.inFlight.delete(key);
    });
    return next;
  }

  private async write(key: string, obj: KubeObject, type: EventType, reason: string, message: string) {
    const now = this.clock.now();
    try {
      const seen = this.seen.get(key);
      if (seen && now - seen.lastMs < this.windowMs) {
        seen.count++;
        seen.lastMs = now;
        try {
          await this.client.patch(
            { apiVersion: 'v1', kind: 'Event', metadata: { name: seen.name, namespace: seen.namespace } },
            { count: seen.count, lastTimestamp: rfc3339(now) },
          );
          this.touch(key, seen);
          return;
        } catch (err) {
          // Events expire (1 h by default): start a new one.
          if (!isNotFound(err)) throw err;
        }
      }
      await this.create(key, obj, type, reason, message, now);
    } catch (err) {
      this.logger.warn('could not record event', {
        reason,
        object: `${obj.kind}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`,
        error: err instanceof Error ? err : String(err),
      });
    }
  }

  private async create(
    key: string,
    obj: KubeObject,
    type: EventType,
    reason: string,
    message: string,
    now: number,
  ) {
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace || 'default';
    // client-go names events <object>.<unix nanos in hex>; a sequence number keeps same-ms names apart.
    const name = `${meta.name ?? 'unknown'}.${(BigInt(now) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`;
    await this.client.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      type,
      reason,
      // The API server caps messages at 1 KiB.
      message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.instance,
      firstTimestamp: rfc3339(now),
      lastTimestamp: rfc3339(now),
      count: 1,
    } as KubeObject);
    this.touch(key, { name, namespace, count: 1, firstMs: now, lastMs: now });
  }

  /** Remembers `key` as most recently used, evicting the oldest beyond the cap. */
  private touch(key: string, seen: Seen): void {
    this.seen.delete(key);
    this.seen.set(key, seen);
    while (this.seen.size > this.maxTracked) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
  }
}
