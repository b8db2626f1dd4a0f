// Prometheus metrics of one broker (design.md §3 "Metrics"). Each broker owns its Registry, so
// two brokers (or a broker and a name server) in one process never share counters.

import { Counter, Gauge, Histogram, type Registry as PromRegistry, Registry } from 'prom-client';

/**
 * A labelled counter for the per-message path: sums live in a Map keyed by the label values and
 * reach prom-client only when /metrics is scraped (prom-client hashes a label object per inc,
 * which costs more than the rest of counting a message).
 */
export class HotCounter<L extends string> {
  private readonly series = new Map<string, { labels: Record<L, string>; value: number }>();
  private readonly labelNames: readonly L[];

  constructor(config: { name: string; help: string; labelNames: readonly L[]; registers: PromRegistry[] }) {
    this.labelNames = config.labelNames;
    const series = this.series;
    new Counter<L>({
      ...config,
      labelNames: [...config.labelNames],
      collect() {
        this.reset();
        for (const s of series.values()) this.inc(s.labels as never, s.value);
      },
    });
  }

  inc(labels: Record<L, string>, by = 1): void {
    const names = this.labelNames;
    let key = labels[names[0]];
    for (let i = 1; i < names.length; i++) key += `\u0000${labels[names[i]]}`;
    const found = this.series.get(key);
    if (found) found.value += by;
    else this.series.set(key, { labels: { ...labels }, value: by });
  }
}

export interface BrokerMetricSources {
  commitLogBytes(): number;
  connections(): number;
  heldPulls(): number;
  /** Lag per (group, topic): Σ max offset − committed offset over the topic's queues. */
  consumerLag(): { group: string; topic: string; lag: number }[];
}

export class BrokerMetrics {
  readonly registry = new Registry();
  readonly messagesIn: HotCounter<'topic'>;
  readonly bytesIn: HotCounter<'topic'>;
  readonly messagesOut: HotCounter<'topic' | 'group'>;
  readonly bytesOut: HotCounter<'topic' | 'group'>;
  readonly putLatency: Histogram;
  readonly sendErrors: HotCounter<'code'>;
  readonly requests: HotCounter<'code'>;
  readonly sentBack: Counter<'group' | 'target'>;
  readonly scheduledDelivered: Counter<'level'>;
  readonly transactions: Counter<'outcome'>;

  constructor(sources: BrokerMetricSources) {
    const registers = [this.registry];
    this.messagesIn = new HotCounter({
      name: 'bolide_messages_in_total',
      help: 'Messages stored, by topic',
      labelNames: ['topic'],
      registers,
    });
    this.bytesIn = new HotCounter({
      name: 'bolide_bytes_in_total',
      help: 'Message body bytes stored, by topic',
      labelNames: ['topic'],
      registers,
    });
    this.messagesOut = new HotCounter({
      name: 'bolide_messages_out_total',
      help: 'Messages delivered by pulls, by topic and consumer group',
      labelNames: ['topic', 'group'],
      registers,
    });
    this.bytesOut = new HotCounter({
      name: 'bolide_bytes_out_total',
      help: 'Record bytes delivered by pulls, by topic and consumer group',
      labelNames: ['topic', 'group'],
      registers,
    });
    this.putLatency = new Histogram({
      name: 'bolide_put_latency_seconds',
      help: 'Time from a send request to the store acknowledging it',
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.sendErrors = new HotCounter({
      name: 'bolide_send_errors_total',
      help: 'Send requests answered with an error, by response code name',
      labelNames: ['code'],
      registers,
    });
    this.requests = new HotCounter({
      name: 'bolide_broker_requests_total',
      help: 'Requests handled by the broker, by request code name',
      labelNames: ['code'],
      registers,
    });
    this.sentBack = new Counter({
      name: 'bolide_messages_sent_back_total',
      help: 'Messages given back by consumers, by group and target (retry or dlq)',
      labelNames: ['group', 'target'],
      registers,
    });
    this.scheduledDelivered = new Counter({
      name: 'bolide_scheduled_messages_delivered_total',
      help: 'Delayed messages moved to their real topic when due, by delay level',
      labelNames: ['level'],
      registers,
    });
    this.transactions = new Counter({
      name: 'bolide_transactions_total',
      help: 'Transactional message outcomes: commit, rollback, check (check-back sent), discard',
      labelNames: ['outcome'],
      registers,
    });
    new Gauge({
      name: 'bolide_commitlog_size_bytes',
      help: 'Bytes between the oldest and the newest commit-log position',
      registers,
      collect() {
        this.set(sources.commitLogBytes());
      },
    });
    new Gauge({
      name: 'bolide_broker_connections',
      help: 'Open remoting connections to the broker',
      registers,
      collect() {
        this.set(sources.connections());
      },
    });
    new Gauge({
      name: 'bolide_held_pulls',
      help: 'Pull requests currently held by long polling',
      registers,
      collect() {
        this.set(sources.heldPulls());
      },
    });
    new Gauge({
      name: 'bolide_consumer_lag',
      help: 'Messages not yet consumed: broker max offset minus committed offset, summed over queues',
      labelNames: ['group', 'topic'],
      registers,
      collect() {
        this.reset();
        for (const { group, topic, lag } of sources.consumerLag()) this.set({ group, topic }, lag);
      },
    });
  }
}
