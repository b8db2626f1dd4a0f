import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AutoscaleMetrics } from './metrics.js';

const summary = (lag: number, topics: Record<string, number>) => ({
  lag,
  topics: Object.entries(topics).map(([topic, l]) => ({
    topic,
    lag: l,
    queues: 4,
    queuesPerMaster: 4,
    retry: topic.startsWith('%RETRY%'),
  })),
});

describe('AutoscaleMetrics', () => {
  it('exports lag, replicas and scale events per group, and drops a group’s series on forget', async () => {
    const registry = new Registry();
    const m = new AutoscaleMetrics(registry);
    m.lagMeasured('shop', 'billing', summary(12, { orders: 10, '%RETRY%billing': 2 }));
    m.replicas('shop', 'billing', 2, 3);
    m.scaled('shop', 'billing', 'up');
    m.scaled('shop', 'billing', 'up');
    m.queuesGrown('shop', 'billing', 'orders');
    let text = await registry.metrics();
    expect(text).toContain('bolide_consumergroup_lag{namespace="shop",consumergroup="billing"} 12');
    expect(text).toContain(
      'bolide_consumergroup_topic_lag{namespace="shop",consumergroup="billing",topic="%RETRY%billing"} 2',
    );
    expect(text).toContain(
      'bolide_consumergroup_current_replicas{namespace="shop",consumergroup="billing"} 2',
    );
    expect(text).toContain(
      'bolide_consumergroup_desired_replicas{namespace="shop",consumergroup="billing"} 3',
    );
    expect(text).toContain(
      'bolide_consumergroup_scale_events_total{namespace="shop",consumergroup="billing",direction="up"} 2',
    );
    expect(text).toContain(
      'bolide_consumergroup_queue_expansions_total{namespace="shop",consumergroup="billing",topic="orders"} 1',
    );

    // A topic no longer subscribed loses its series.
    m.lagMeasured('shop', 'billing', summary(1, { '%RETRY%billing': 1 }));
    text = await registry.metrics();
    expect(text).not.toContain('topic="orders"} 10');

    m.forget('shop', 'billing');
    text = await registry.metrics();
    expect(text).not.toMatch(/bolide_consumergroup_(lag|topic_lag|current_replicas|desired_replicas)\{/);
    // Counters stay: they count what happened.
    expect(text).toContain('direction="up"} 2');
  });

  it('two operators in one process keep separate registries', () => {
    expect(() => {
      new AutoscaleMetrics(new Registry());
      new AutoscaleMetrics(new Registry());
    }).not.toThrow();
  });
});
