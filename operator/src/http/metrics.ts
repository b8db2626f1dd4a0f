import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Matches kube's ReconcileOutcome; restated so http does not depend on kube. */
export type ReconcileOutcomeLabel = 'success' | 'requeue_after' | 'error' | 'terminal_error' | 'conflict';

export interface OperatorMetricsOptions {
  /** Also export Node process metrics (CPU, memory, event loop lag). Default true. */
  processMetrics?: boolean;
}

/**
 * The operator's Prometheus metrics, in a registry of its own (never prom-client's global one, so
 * two operators in one process — as in tests — do not collide). Implements kube's ReconcileObserver.
 */
export class OperatorMetrics {
  readonly registry = new Registry();
  private readonly reconciles: Counter<'controller' | 'result'>;
  private readonly duration: Histogram<'controller'>;
  private readonly errors: Counter<'controller'>;
  private readonly leader: Gauge;
  private readonly queues = new Map<string, () => number>();

  constructor(opts: OperatorMetricsOptions = {}) {
    const registers = [this.registry];
    this.reconciles = new Counter({
      name: 'bolide_operator_reconciles_total',
      help: 'Reconcile passes finished, by controller (kind) and result.',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.duration = new Histogram({
      name: 'bolide_operator_reconcile_duration_seconds',
      help: 'Time one reconcile pass took, by controller (kind).',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.errors = new Counter({
      name: 'bolide_operator_reconcile_errors_total',
      help: 'Reconcile passes that failed (retried or terminal), by controller (kind).',
      labelNames: ['controller'],
      registers,
    });
    const queues = this.queues;
    new Gauge({
      name: 'bolide_operator_workqueue_depth',
      help: 'Keys waiting for a worker, by queue.',
      labelNames: ['name'],
      registers,
      collect() {
        this.reset();
        for (const [name, depth] of queues) this.set({ name }, depth());
      },
    });
    this.leader = new Gauge({
      name: 'bolide_operator_leader',
      help: '1 while this replica holds the leader lease, else 0.',
      registers,
    });
    this.leader.set(0);
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** kube's ReconcileObserver hook: one call per finished reconcile. */
  reconciled(controller: string, outcome: ReconcileOutcomeLabel, durationSeconds: number): void {
    this.reconciles.inc({ controller, result: outcome });
    this.duration.observe({ controller }, durationSeconds);
    if (outcome === 'error' || outcome === 'terminal_error') this.errors.inc({ controller });
  }

  /** Reports `depth()` as the queue's depth at every scrape. */
  registerQueue(name: string, depth: () => number): void {
    this.queues.set(name, depth);
  }

  setLeader(leading: boolean): void {
    this.leader.set(leading ? 1 : 0);
  }

  /** Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
