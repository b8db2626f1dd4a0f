import type { KubeClient } from './client.js';
import { type Clock, sleep, systemClock } from './clock.js';
import { isAlreadyExists, isConflict } from './errors.js';
import { rfc3339Micro } from './events.js';
import { type Logger, silentLogger } from './log.js';
import type { KubeObject } from './objects.js';
import { BuiltinResources } from './resources.js';

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElectionOptions {
  namespace: string;
  /** Lease name, e.g. `bolide-operator`. */
  name: string;
  /** Unique per replica, e.g. the pod name. */
  identity: string;
  /** How long a lease is valid without renewal; others wait this long after its last change. Default 15 s. */
  leaseDurationMs?: number;
  /** The leader gives up if it could not renew for this long (must be < leaseDuration). Default 10 s. */
  renewDeadlineMs?: number;
  /** Pause between attempts. Default 2 s. */
  retryPeriodMs?: number;
  /** On `stop`, clear the holder so another replica takes over at once. Default true. */
  releaseOnStop?: boolean;
  onStartedLeading?: () => void;
  /** Called once when leadership is lost or given up; the elector is then stopped. */
  onStoppedLeading?: () => void;
  /** Called whenever the observed holder changes (including to this replica). */
  onNewLeader?: (identity: string) => void;
  clock?: Clock;
  logger?: Logger;
  /** For jitter on acquire retries; injectable for tests. */
  random?: () => number;
}

type LeaseClient = Pick<KubeClient, 'get' | 'create' | 'replace'>;

/**
 * Lease-based leader election (coordination.k8s.io/v1), client-go's algorithm: a candidate takes the
 * lease when it is free or when its record has not changed for leaseDurationSeconds as seen by the
 * candidate's own clock (so clock skew between replicas does not matter); the leader renews every
 * retryPeriod and steps down if renewing fails for renewDeadline. Writes use the lease's
 * resourceVersion, so two candidates can never both win.
 */
export class LeaderElector {
  private readonly opts: Required<
    Pick<LeaderElectionOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs' | 'releaseOnStop'>
  > &
    LeaderElectionOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;
  private abort: AbortController | undefined;
  private running: Promise<void> | undefined;
  private leading = false;
  private observedSpec = '';
  private observedTime = 0;
  private observedHolder: string | undefined;
  private readonly leadingWaiters: Array<() => void> = [];
  private finished = false;

  constructor(
    private readonly client: LeaseClient,
    opts: LeaderElectionOptions,
  ) {
    this.opts = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      releaseOnStop: true,
      ...opts,
    };
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = this.opts;
    if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs * 1.2 && retryPeriodMs > 0)) {
      throw new Error(
        `leader election needs leaseDuration > renewDeadline > 1.2 × retryPeriod > 0; got ${leaseDurationMs}/${renewDeadlineMs}/${retryPeriodMs} ms`,
      );
    }
    if (!opts.identity) throw new Error('leader election needs a non-empty identity');
    this.clock = opts.clock ?? systemClock();
    this.logger = opts.logger ?? silentLogger();
    this.random = opts.random ?? Math.random;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last seen in the lease (may be this replica). */
  currentLeader(): string | undefined {
    return this.observedHolder;
  }

  /** Campaigns in the background until leadership is lost or `stop` is called. */
  start(): void {
    if (this.running) throw new Error('leader elector already started');
    this.abort = new AbortController();
    this.running = this.run(this.abort.signal);
  }

  /** Stops campaigning or leading; releases the lease when leading and `releaseOnStop`. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.running;
  }

  /** Resolves once this replica leads or the elector stops. */
  whenLeading(): Promise<void> {
    if (this.leading || !this.running || this.finished) return Promise.resolve();
    return new Promise((resolve) => this.leadingWaiters.push(resolve));
  }

  private async run(signal: AbortSignal): Promise<void> {
    // Acquire.
    while (!signal.aborted) {
      if (await this.attempt(signal)) break;
      await sleep(this.clock, this.opts.retryPeriodMs * (1 + 0.2 * this.random()), signal);
    }
    if (signal.aborted) {
      this.finished = true;
      this.wakeWaiters();
      return;
    }
    this.leading = true;
    this.wakeWaiters();
    this.logger.info('became leader', { lease: this.opts.name, identity: this.opts.identity });
    this.safe(() => this.opts.onStartedLeading?.());

    // Renew until a renewal deadline passes without success or we are stopped.
    let lastRenew = this.clock.now();
    while (!signal.aborted) {
      await sleep(this.clock, this.opts.retryPeriodMs, signal);
      if (signal.aborted) break;
      const deadline = lastRenew + this.opts.renewDeadlineMs;
      const ok = await this.attempt(signal, Math.max(1, deadline - this.clock.now()));
      if (ok) {
        lastRenew = this.clock.now();
        continue;
      }
      const takenByOther = this.observedHolder !== undefined && this.observedHolder !== this.opts.identity;
      if (takenByOther || this.clock.now() >= deadline) {
        this.logger.warn('lost leadership', {
          lease: this.opts.name,
          identity: this.opts.identity,
          takenByOther,
        });
        break;
      }
    }
    if (signal.aborted && this.opts.releaseOnStop) await this.release();
    this.leading = false;
    this.finished = true;
    this.safe(() => this.opts.onStoppedLeading?.());
  }

  private wakeWaiters(): void {
    for (const w of this.leadingWaiters.splice(0)) w();
  }

  /** One try to acquire or renew, bounded by `timeoutMs`. */
  private async attempt(signal: AbortSignal, timeoutMs = this.opts.renewDeadlineMs): Promise<boolean> {
    let timedOut = false;
    const stopTimer = new AbortController();
    const timeout = sleep(this.clock, timeoutMs, AbortSignal.any([signal, stopTimer.signal])).then(() => {
      timedOut = !stopTimer.signal.aborted;
      return false;
    });
    try {
      const result = await Promise.race([this.tryAcquireOrRenew(), timeout]);
      return result && !timedOut;
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) {
        this.logger.warn('lease update failed', {
          lease: this.opts.name,
          error: err instanceof Error ? err : String(err),
        });
      }
      return false;
    } finally {
      stopTimer.abort();
    }
  }

  private observe(lease: Lease): void {
    const spec = lease.spec ?? {};
    const fingerprint = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
    if (fingerprint !== this.observedSpec) {
      this.observedSpec = fingerprint;
      this.observedTime = this.clock.now();
    }
    const holder = spec.holderIdentity || undefined;
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      if (holder) this.safe(() => this.opts.onNewLeader?.(holder));
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const now = this.clock.now();
    const durationSeconds = Math.ceil(this.opts.leaseDurationMs / 1000);
    const existing = await this.client.get<Lease>(BuiltinResources.Lease, name, namespace);
    if (!existing) {
      const created = await this.client.create<Lease>({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: rfc3339Micro(now),
          renewTime: rfc3339Micro(now),
          leaseTransitions: 0,
        },
      });
      this.observe(created);
      return true;
    }
    this.observe(existing);
    const spec = existing.spec ?? {};
    const holder = spec.holderIdentity;
    const validForMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (holder && holder !== identity && this.observedTime + validForMs > now) return false;
    const mine = holder === identity;
    const updated = await this.client.replace<Lease>({
      ...existing,
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : rfc3339Micro(now),
        renewTime: rfc3339Micro(now),
        leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    });
    this.observe(updated);
    return true;
  }

  /** Clears the holder (if still us) so a waiting replica need not wait out the lease. */
  private async release(): Promise<void> {
    try {
      const lease = await this.client.get<Lease>(BuiltinResources.Lease, this.opts.name, this.opts.namespace);
      if (!lease || lease.spec?.holderIdentity !== this.opts.identity) return;
      const now = this.clock.now();
      await this.client.replace<Lease>({
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: rfc3339Micro(now),
          renewTime: rfc3339Micro(now),
        },
      });
      this.logger.info('released leadership', { lease: this.opts.name, identity: this.opts.identity });
    } catch (err) {
      this.logger.warn('could not release lease', { error: err instanceof Error ? err : String(err) });
    }
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error('leader election callback threw', {
        error: err instanceof Error ? err : String(err),
      });
    }
  }
}
