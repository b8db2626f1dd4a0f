import { describe, expect, it } from 'vitest';
import { defaultAutoscaling } from '../api/index.js';
import {
  type AutoscalePolicy,
  type Decision,
  decide,
  grownQueues,
  type Observation,
  policyOf,
  type ScaleState,
  type TopicObservation,
} from './decide.js';

const policy = (over: Partial<AutoscalePolicy> = {}): AutoscalePolicy => ({
  minReplicas: 1,
  maxReplicas: 10,
  lagPerReplica: 100,
  activationLag: 0,
  scaleDownStabilizationMs: 60_000,
  queueExpansion: { enabled: false, afterMs: 30_000 },
  ...over,
});

const topic = (over: Partial<TopicObservation> = {}): TopicObservation => ({
  topic: 'orders',
  lag: 0,
  queues: 8,
  queuesPerMaster: 8,
  expandable: true,
  ...over,
});

const obs = (lag: number, currentReplicas: number, now = 0, topics = [topic({ lag })]): Observation => ({
  lag,
  topics,
  currentReplicas,
  now,
});

describe('decide: how many replicas', () => {
  it('desired = ceil(lag / lagPerReplica), scaled up at once', () => {
    const d = decide(policy(), obs(250, 1), {});
    expect(d.rawReplicas).toBe(3);
    expect(d.desiredReplicas).toBe(3);
    expect(d.replicas).toBe(3);
    expect(d.change).toMatchObject({ from: 1, to: 3, direction: 'up' });
    expect(d.change?.reason).toBe('lag 250 needs 3 replicas at 100 per replica');
  });

  it('an exact multiple needs no extra replica', () => {
    expect(decide(policy(), obs(300, 3), {}).desiredReplicas).toBe(3);
    expect(decide(policy(), obs(301, 3), {}).desiredReplicas).toBe(4);
  });

  it('at or below activationLag → minReplicas, which may be 0', () => {
    const p = policy({ minReplicas: 0, activationLag: 50, scaleDownStabilizationMs: 0 });
    expect(decide(p, obs(50, 0), {})).toMatchObject({ rawReplicas: 0, desiredReplicas: 0, replicas: 0 });
    expect(decide(p, obs(50, 0), {}).change).toBeUndefined();
    const d = decide(p, obs(51, 0), {});
    expect(d).toMatchObject({ rawReplicas: 1, replicas: 1 });
    expect(d.change?.reason).toContain('lag 51 needs 1 replica');
    const down = decide(p, obs(10, 2), {});
    expect(down.change).toMatchObject({ from: 2, to: 0, direction: 'down' });
    expect(down.change?.reason).toContain('at or below activationLag 50');
  });

  it('never below minReplicas', () => {
    const d = decide(policy({ minReplicas: 2 }), obs(50, 0), {});
    expect(d.desiredReplicas).toBe(2);
    expect(d.change?.reason).toContain('raised to minReplicas 2');
  });

  it('never above maxReplicas', () => {
    const d = decide(policy({ maxReplicas: 4 }), obs(10_000, 1), {});
    expect(d).toMatchObject({ rawReplicas: 100, desiredReplicas: 4, replicas: 4 });
    expect(d.change?.reason).toContain('capped by maxReplicas 4');
  });

  it('never above the queue count of the largest subscribed topic', () => {
    const topics = [topic({ topic: 'a', queues: 4 }), topic({ topic: 'b', queues: 6 })];
    const d = decide(policy(), obs(10_000, 1, 0, topics), {});
    expect(d).toMatchObject({ queueBound: 6, desiredReplicas: 6, replicas: 6 });
    expect(d.change?.reason).toContain('capped by 6 queues');
  });

  it('minReplicas wins over a smaller queue count', () => {
    const d = decide(policy({ minReplicas: 3 }), obs(0, 1, 0, [topic({ queues: 2 })]), {});
    expect(d.desiredReplicas).toBe(3);
  });

  it('without any queue (topic missing) only minReplicas run', () => {
    expect(decide(policy({ minReplicas: 0 }), obs(500, 0, 0, []), {}).desiredReplicas).toBe(0);
  });

  it('a negative lag (consumer ahead after truncation) counts as none', () => {
    expect(decide(policy(), obs(-20, 1), {})).toMatchObject({ rawReplicas: 0, replicas: 1 });
  });

  it('limits one step up to maxScaleUpStep, also from zero', () => {
    const p = policy({ maxScaleUpStep: 2, minReplicas: 0 });
    let d = decide(p, obs(900, 0), {});
    expect(d.change).toMatchObject({ from: 0, to: 2 });
    expect(d.change?.reason).toContain('limited to +2 per step');
    d = decide(p, obs(900, 2), d.state);
    expect(d.replicas).toBe(4);
    d = decide(p, obs(900, 8, 0, [topic({ lag: 900, queues: 16 })]), d.state);
    expect(d.replicas).toBe(9);
    expect(d.change?.reason).not.toContain('limited');
  });

  it('brings replicas above a hard bound down at once', () => {
    const d = decide(policy({ maxReplicas: 3 }), obs(10_000, 7), {});
    expect(d.change).toMatchObject({ from: 7, to: 3, direction: 'down' });
    expect(d.change?.reason).toContain('above maxReplicas 3');
    const q = decide(policy(), obs(10_000, 9, 0, [topic({ queues: 4 })]), {});
    expect(q.change).toMatchObject({ from: 9, to: 4 });
    expect(q.change?.reason).toContain('above the 4 queues');
  });

  it('leaves replicas alone when the recommendation matches', () => {
    const d = decide(policy(), obs(250, 3), { lowLagSince: 5, lowLagPeak: 2 });
    expect(d.change).toBeUndefined();
    expect(d.replicas).toBe(3);
    expect(d.state.lowLagSince).toBeUndefined();
  });

  it('does not change the state it was given', () => {
    const state: ScaleState = Object.freeze({ lowLagSince: 1000, lowLagPeak: 2, lastLag: 7 });
    decide(policy(), obs(0, 5, 2000), state);
    expect(state).toEqual({ lowLagSince: 1000, lowLagPeak: 2, lastLag: 7 });
  });
});

describe('decide: scale-down stabilization', () => {
  const p = policy({ scaleDownStabilizationMs: 60_000 });

  it('scales down only after the lag stayed low for the whole window', () => {
    let d = decide(p, obs(50, 5, 0), {});
    expect(d.change).toBeUndefined();
    expect(d.state.lowLagSince).toBe(0);
    d = decide(p, obs(50, 5, 30_000), d.state);
    expect(d.change).toBeUndefined();
    expect(d.state.lowLagSince).toBe(0);
    d = decide(p, obs(50, 5, 59_999), d.state);
    expect(d.change).toBeUndefined();
    d = decide(p, obs(50, 5, 60_000), d.state);
    expect(d.change).toMatchObject({ from: 5, to: 1, direction: 'down' });
    expect(d.change?.reason).toContain('low for 60s (window 60s)');
    expect(d.state.lowLagSince).toBeUndefined();
  });

  it('goes to the highest recommendation seen during the window', () => {
    let d = decide(p, obs(300, 8, 0), {});
    d = decide(p, obs(50, 8, 20_000), d.state);
    d = decide(p, obs(10, 8, 60_000), d.state);
    expect(d.change).toMatchObject({ from: 8, to: 3 });
  });

  it('a rise back to the current count restarts the window', () => {
    let d = decide(p, obs(0, 4, 0), {});
    d = decide(p, obs(400, 4, 50_000), d.state);
    expect(d.state.lowLagSince).toBeUndefined();
    d = decide(p, obs(0, 4, 70_000), d.state);
    expect(d.change).toBeUndefined();
    expect(d.state.lowLagSince).toBe(70_000);
    d = decide(p, obs(0, 4, 130_000), d.state);
    expect(d.change).toMatchObject({ to: 1 });
  });

  it('a zero window scales down at once', () => {
    const d = decide(policy({ scaleDownStabilizationMs: 0 }), obs(0, 4, 0), {});
    expect(d.change).toMatchObject({ from: 4, to: 1 });
  });

  it('a state carried over from before a restart still counts', () => {
    const d = decide(p, obs(0, 4, 100_000), { lowLagSince: 30_000 });
    expect(d.change).toMatchObject({ from: 4, to: 1 });
  });
});

describe('decide: a lag oscillating around a threshold', () => {
  const changes = (p: AutoscalePolicy, lags: number[], start: number, stepMs: number) => {
    let current = start;
    let state: ScaleState = {};
    const out: Decision[] = [];
    lags.forEach((lag, i) => {
      const d = decide(p, obs(lag, current, i * stepMs), state);
      state = d.state;
      current = d.replicas;
      if (d.change) out.push(d);
    });
    return { changes: out, final: current };
  };

  it('around lagPerReplica × n: one step up, no flapping while it oscillates faster than the window', () => {
    const p = policy({ scaleDownStabilizationMs: 60_000 });
    // 290/310 around the 3 → 4 boundary, every 15 s for 10 minutes.
    const lags = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 290 : 310));
    const { changes: c, final } = changes(p, lags, 3, 15_000);
    expect(c.map((d) => d.change?.to)).toEqual([4]);
    expect(final).toBe(4);
  });

  it('around activationLag with minReplicas 0: up once, never back to zero while it oscillates', () => {
    const p = policy({ minReplicas: 0, activationLag: 100, scaleDownStabilizationMs: 120_000 });
    const lags = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? 120 : 80));
    const { changes: c } = changes(p, lags, 0, 15_000);
    expect(c.map((d) => [d.change?.from, d.change?.to])).toEqual([[0, 2]]);
  });

  it('a slow oscillation (longer than the window) changes at most twice per period', () => {
    const p = policy({ scaleDownStabilizationMs: 60_000 });
    // 5 minutes high, 5 minutes low, sampled every 15 s, for 30 minutes: 3 periods.
    const lags = Array.from({ length: 120 }, (_, i) => (Math.floor(i / 20) % 2 === 0 ? 500 : 100));
    const { changes: c } = changes(p, lags, 1, 15_000);
    expect(c.length).toBeLessThanOrEqual(6);
    expect(c.map((d) => d.change?.to)).toEqual([5, 1, 5, 1, 5, 1]);
    // Every scale-down came a full window after the drop.
    for (const d of c.filter((x) => x.change?.direction === 'down'))
      expect(d.change?.reason).toContain('low for 60s');
  });
});

describe('decide: queue expansion', () => {
  const p = policy({
    maxReplicas: 16,
    lagPerReplica: 10,
    queueExpansion: { enabled: true, maxQueues: 8, afterMs: 30_000 },
  });
  const capped = (lag: number, now: number, current = 4, extra: Partial<TopicObservation> = {}) =>
    obs(lag, current, now, [topic({ lag, queues: 4, queuesPerMaster: 4, ...extra })]);

  it('grows the topic after lag kept growing at full replicas for `after`', () => {
    let d = decide(p, capped(100, 0), {});
    expect(d.grow).toEqual([]);
    expect(d.state.saturatedSince).toBe(0);
    expect(d.growNote).toContain('lag growing for 0s of 30s');
    d = decide(p, capped(200, 15_000), d.state);
    expect(d.grow).toEqual([]);
    d = decide(p, capped(300, 30_000), d.state);
    expect(d.grow).toEqual([{ topic: 'orders', from: 4, to: 8 }]);
    expect(d.state.saturatedSince).toBeUndefined();
  });

  it('a falling lag restarts the wait', () => {
    let d = decide(p, capped(100, 0), {});
    d = decide(p, capped(90, 20_000), d.state);
    expect(d.state.saturatedSince).toBeUndefined();
    expect(d.growNote).toContain('lag fell from 100 to 90');
    d = decide(p, capped(95, 40_000), d.state);
    expect(d.state.saturatedSince).toBe(40_000);
    d = decide(p, capped(99, 60_000), d.state);
    expect(d.grow).toEqual([]);
    d = decide(p, capped(120, 70_000), d.state);
    expect(d.grow).toHaveLength(1);
  });

  it('a flat lag at the end of the wait (consumers stuck, nothing produced) adds nothing', () => {
    let d = decide(p, capped(100, 0), {});
    d = decide(p, capped(100, 40_000), d.state);
    expect(d.grow).toEqual([]);
    expect(d.state.saturatedSince).toBe(0);
  });

  it('never beyond maxQueues, and not when already there', () => {
    let d = decide(p, capped(100, 0, 6, { queues: 6, queuesPerMaster: 6 }), {});
    d = decide(p, capped(200, 30_000, 6, { queues: 6, queuesPerMaster: 6 }), d.state);
    expect(d.grow).toEqual([{ topic: 'orders', from: 6, to: 8 }]);
    d = decide(p, capped(100, 0, 8, { queues: 8, queuesPerMaster: 8 }), {});
    expect(d.growNote).toContain('no subscribed Topic can grow');
    expect(d.state.saturatedSince).toBeUndefined();
  });

  it('not while replicas are still below the queue count: scale first', () => {
    const d = decide(p, capped(100, 0, 2), {});
    expect(d.change).toMatchObject({ to: 4 });
    expect(d.state.saturatedSince).toBeUndefined();
    expect(d.grow).toEqual([]);
  });

  it('not when maxReplicas, not the queues, is the bound', () => {
    const q = { ...p, maxReplicas: 4 };
    let d = decide(q, capped(100, 0), {});
    d = decide(q, capped(200, 60_000), d.state);
    expect(d.grow).toEqual([]);
    expect(d.state.saturatedSince).toBeUndefined();
  });

  it('not when the lag fits the replicas', () => {
    const d = decide(p, capped(40, 0), { lastLag: 10 });
    expect(d.state.saturatedSince).toBeUndefined();
  });

  it('only topics the operator manages, at the bound, with lag', () => {
    const topics = [
      topic({ topic: 'a', lag: 200, queues: 4, queuesPerMaster: 2 }),
      topic({ topic: 'b', lag: 200, queues: 4, queuesPerMaster: 4, expandable: false }),
      topic({ topic: 'c', lag: 0, queues: 4, queuesPerMaster: 4 }),
      topic({ topic: 'd', lag: 100, queues: 2, queuesPerMaster: 2 }),
    ];
    let d = decide(p, { lag: 400, topics, currentReplicas: 4, now: 0 }, {});
    d = decide(p, { lag: 500, topics, currentReplicas: 4, now: 30_000 }, d.state);
    expect(d.grow).toEqual([
      { topic: 'a', from: 2, to: 4 },
      { topic: 'd', from: 2, to: 4 },
    ]);
  });

  it('is off when disabled or without maxQueues', () => {
    for (const queueExpansion of [
      { enabled: false, maxQueues: 8, afterMs: 0 },
      { enabled: true, afterMs: 0 },
    ]) {
      let d = decide({ ...p, queueExpansion }, capped(100, 0), {});
      d = decide({ ...p, queueExpansion }, capped(200, 1000), d.state);
      expect(d.grow).toEqual([]);
      expect(d.state.saturatedSince).toBeUndefined();
    }
  });

  it('grownQueues doubles up to the limit', () => {
    expect(grownQueues(1, 8)).toBe(2);
    expect(grownQueues(4, 8)).toBe(8);
    expect(grownQueues(5, 8)).toBe(8);
    expect(grownQueues(8, 8)).toBe(8);
  });
});

describe('policyOf', () => {
  it('takes the defaulted spec, seconds → ms', () => {
    const spec = defaultAutoscaling({
      target: { name: 'w' },
      maxReplicas: 5,
      maxScaleUpStep: 2,
      queueExpansion: { enabled: true, maxQueues: 16 },
    });
    expect(policyOf(spec)).toEqual({
      minReplicas: 1,
      maxReplicas: 5,
      lagPerReplica: 1000,
      activationLag: 0,
      scaleDownStabilizationMs: 300_000,
      maxScaleUpStep: 2,
      queueExpansion: { enabled: true, maxQueues: 16, afterMs: 300_000 },
    });
  });
});
