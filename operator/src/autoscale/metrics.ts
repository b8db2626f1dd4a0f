// The autoscaler's Prometheus series, registered in the operator's own registry (OperatorMetrics.registry).
// Labels `namespace` and `consumergroup` (the ConsumerGroup resource's name) are what the chart's
// alert rule and dashboard select on.

import { Counter, Gauge, type Registry } from 'prom-client';
import type { AutoscaleObserver } from './autoscaler.js';
import type { LagSummary } from './lag.js';

type GroupLabels = 'namespace' | 'consumergroup';

export class AutoscaleMetrics implements AutoscaleObserver {
  private readonly lag: Gauge<GroupLabels>;
  private readonly topicLag: Gauge<GroupLabels | 'topic'>;
  private readonly current: Gauge<GroupLabels>;
  private readonly desired: Gauge<GroupLabels>;
  private readonly scaleEvents: Counter<GroupLabels | 'direction'>;
  private readonly expansions: Counter<GroupLabels | 'topic'>;
  /** Topics with a series per group, so a group's series can all be removed. */
  private readonly topicsOf = new Map<string, Set<string>>();

  constructor(registry: Registry) {
    const registers = [registry];
    const group: GroupLabels[] = ['namespace', 'consumergroup'];
    this.lag = new Gauge({
      name: 'bolide_consumergroup_lag',
      help: 'Messages not yet consumed by the group, summed over its subscribed queues and its retry topic.',
      labelNames: group,
      registers,
    });
    this.topicLag = new Gauge({
      name: 'bolide_consumergroup_topic_lag',
      help: 'Messages not yet consumed by the group, per subscribed topic (and its %RETRY% topic).',
      labelNames: [...group, 'topic'],
      registers,
    });
    this.current = new Gauge({
      name: 'bolide_consumergroup_current_replicas',
      help: 'Replicas of the autoscaled workload (spec.replicas of its /scale).',
      labelNames: group,
      registers,
    });
    this.desired = new Gauge({
      name: 'bolide_consumergroup_desired_replicas',
      help: 'Replicas the lag calls for, within minReplicas, maxReplicas and the queue count.',
      labelNames: group,
      registers,
    });
    this.scaleEvents = new Counter({
      name: 'bolide_consumergroup_scale_events_total',
      help: 'Scale changes the autoscaler made to the workload, by direction (up, down).',
      labelNames: [...group, 'direction'],
      registers,
    });
    this.expansions = new Counter({
      name: 'bolide_consumergroup_queue_expansions_total',
      help: 'Times the autoscaler grew a subscribed topic’s queues for the group.',
      labelNames: [...group, 'topic'],
      registers,
    });
  }

  lagMeasured(namespace: string, consumergroup: string, summary: LagSummary): void {
    this.lag.set({ namespace, consumergroup }, summary.lag);
    const key = `${namespace}/${consumergroup}`;
    const before = this.topicsOf.get(key) ?? new Set<string>();
    const now = new Set(summary.topics.map((t) => t.topic));
    for (const topic of before)
      if (!now.has(topic)) this.topicLag.remove({ namespace, consumergroup, topic });
    for (const t of summary.topics) this.topicLag.set({ namespace, consumergroup, topic: t.topic }, t.lag);
    this.topicsOf.set(key, now);
  }

  replicas(namespace: string, consumergroup: string, current: number, desired: number): void {
    this.current.set({ namespace, consumergroup }, current);
    this.desired.set({ namespace, consumergroup }, desired);
  }

  scaled(namespace: string, consumergroup: string, direction: 'up' | 'down'): void {
    this.scaleEvents.inc({ namespace, consumergroup, direction });
  }

  queuesGrown(namespace: string, consumergroup: string, topic: string): void {
    this.expansions.inc({ namespace, consumergroup, topic });
  }

  forget(namespace: string, consumergroup: string): void {
    const labels = { namespace, consumergroup };
    this.lag.remove(labels);
    this.current.remove(labels);
    this.desired.remove(labels);
    const key = `${namespace}/${consumergroup}`;
    for (const topic of this.topicsOf.get(key) ?? []) this.topicLag.remove({ ...labels, topic });
    this.topicsOf.delete(key);
  }
}
