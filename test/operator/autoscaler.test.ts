// The autoscaler end to end: a real kube-apiserver (which stores Deployments; with no controller-manager
// their /scale spec.replicas is exactly what the operator set) and two real Bolide brokers whose consume
// stats give the lag. Short poll intervals and windows keep it quick; nothing here asserts speed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../broker-image/src/client/index.js';
import { BuiltinResources, type KubeObject } from '../../operator/src/kube/index.js';
import { type AutoscaleEnv, eventually, startAutoscaleEnv } from './autoscale-support.js';

const ns = 'autoscale-test';
const TOKEN = 'alert-token-for-tests';

interface EventObj extends KubeObject {
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string };
}

describe('autoscaler against a real API server and real brokers', () => {
  let t: AutoscaleEnv;
  let admin: AdminClient;

  const eventsFor = async (kind: string, name: string) =>
    (await t.env.client.listAll<EventObj>(BuiltinResources.Event, { namespace: ns })).items.filter(
      (e) => e.involvedObject?.kind === kind && e.involvedObject?.name === name,
    );
  const waitReplicas = (deployment: string, n: number, ms = 30_000) =>
    eventually(`${deployment} at ${n} replicas`, async () => (await t.replicas(deployment)) === n, ms);
  /** The Deployment at `n` replicas and the group's status written after that scale. */
  const waitScaled = async (deployment: string, group: string, n: number, ms = 30_000) => {
    await waitReplicas(deployment, n, ms);
    return eventually(`${group} status at ${n} replicas`, async () => {
      const g = await t.group(group);
      return g?.status?.currentReplicas === n ? g : undefined;
    });
  };

  beforeAll(async () => {
    t = await startAutoscaleEnv(ns, { alertToken: TOKEN });
    admin = new AdminClient({});
  });

  afterAll(async () => {
    await admin?.close();
    await t?.stop();
  });

  it('a backlog raises replicas to ceil(lag / lagPerReplica), capped by queues and maxReplicas; they fall only after the window', async () => {
    await t.createTopic('orders', 2); // 2 per master × 2 masters = 4 queues
    await t.createDeployment('orders-workers', 1);
    await t.createGroup('orders-consumers', 'orders', {
      target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'orders-workers' },
      minReplicas: 1,
      maxReplicas: 6,
      lagPerReplica: 10,
      pollIntervalSeconds: 1,
      scaleDownStabilizationSeconds: 4,
    });
    await eventually('first evaluation', async () => (await t.group('orders-consumers'))?.status?.lagTime);

    await t.produce('orders', 25);
    const g1 = await waitScaled('orders-workers', 'orders-consumers', 3);
    expect(g1?.status).toMatchObject({
      lag: 25,
      queues: 4,
      currentReplicas: 3,
      desiredReplicas: 3,
      lagPerTopic: [
        { topic: 'orders', lag: 25, queues: 4 },
        { topic: '%RETRY%orders-consumers', lag: 0, queues: 0 },
      ],
    });
    expect(g1?.status?.lastScaleReason).toBe('lag 25 needs 3 replicas at 10 per replica');

    await t.produce('orders', 75);
    const g2 = await waitScaled('orders-workers', 'orders-consumers', 4);
    expect(g2?.status?.lag).toBe(100);
    expect(g2?.status?.lastScaleReason).toBe(
      'lag 100 needs 10 replicas at 10 per replica, capped by 4 queues',
    );

    // Lowering maxReplicas below the current count applies at once (a hard bound, no window).
    if (g2) await t.env.client.patch(g2, { spec: { autoscaling: { maxReplicas: 3 } } });
    const capped = await waitScaled('orders-workers', 'orders-consumers', 3);
    expect(capped.status?.lastScaleReason).toContain('above maxReplicas 3');

    // Consumers catch up: lag 0, but replicas stay until the lag has been low for the whole window.
    await t.catchUp('orders-consumers', 'orders');
    const low = await eventually('lag 0 with the window started', async () => {
      const g = await t.group('orders-consumers');
      return g?.status?.lag === 0 && g.status.lowLagSince ? g.status.lowLagSince : undefined;
    });
    expect(await t.replicas('orders-workers')).toBe(3);
    const g3 = await waitScaled('orders-workers', 'orders-consumers', 1);
    expect(g3?.status).toMatchObject({ lag: 0, currentReplicas: 1, desiredReplicas: 1 });
    expect(g3?.status?.lowLagSince).toBeUndefined();
    const held = Date.parse(g3?.status?.lastScaleTime ?? '') - Date.parse(low);
    expect(held).toBeGreaterThanOrEqual(4000);
    expect(g3?.status?.lastScaleReason).toMatch(
      /^lag 0 at or below activationLag 0; low for \d+s \(window 4s\)$/,
    );

    const reasons = (await eventsFor('ConsumerGroup', 'orders-consumers')).map((e) => e.reason);
    expect(reasons.filter((r) => r === 'ScaledUp')).toHaveLength(2);
    expect(reasons.filter((r) => r === 'ScaledDown')).toHaveLength(2);
  });

  it('grows the topic on every master when replicas are capped by its queues and lag keeps growing', async () => {
    await t.createTopic('clicks', 1); // 2 queues
    await t.createDeployment('clicks-workers', 1);
    await t.createGroup('clicks-consumers', 'clicks', {
      target: { name: 'clicks-workers' },
      minReplicas: 1,
      maxReplicas: 8,
      lagPerReplica: 5,
      pollIntervalSeconds: 1,
      queueExpansion: { enabled: true, maxQueues: 4, afterSeconds: 2 },
    });
    // Producers outrun the (absent) consumers until the expansion has run its course.
    let producing = true;
    const producer = (async () => {
      while (producing) {
        await t.produce('clicks', 4);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const seen = new Set<number>();
    try {
      await eventually(
        '8 replicas over 4 queues per master',
        async () => {
          const n = await t.replicas('clicks-workers');
          seen.add(n);
          return n === 8;
        },
        90_000,
      );
    } finally {
      producing = false;
      await producer;
    }
    // 2 queues → replicas 2; grown to 2 per master → 4; grown to 4 per master (maxQueues) → 8.
    expect([...seen].filter((n) => n > 1 && n < 8).every((n) => n === 2 || n === 4)).toBe(true);
    const topic = await t.topic('clicks');
    expect(topic?.spec.queues).toBe(1);
    expect(topic?.status).toMatchObject({ autoscaledQueues: 4, effectiveQueues: 4 });
    for (const m of t.masters) {
      expect((await admin.listTopicConfigs(m.address)).clicks).toMatchObject({
        readQueueNums: 4,
        writeQueueNums: 4,
      });
    }
    expect((await waitScaled('clicks-workers', 'clicks-consumers', 8)).status?.queues).toBe(8);
    const expanded = (await eventsFor('Topic', 'clicks')).filter((e) => e.reason === 'QueuesExpanded');
    expect(expanded.map((e) => e.message?.replace(/ \(.*$/, ''))).toEqual([
      'queues of topic clicks grown from 1 to 2 per master',
      'queues of topic clicks grown from 2 to 4 per master',
    ]);
  });

  it('an alert evaluates the group at once, long before its poll interval', async () => {
    await t.createTopic('refunds', 2);
    await t.createDeployment('refunds-workers', 1);
    await t.createGroup('refunds-consumers', 'refunds', {
      target: { name: 'refunds-workers' },
      maxReplicas: 4,
      lagPerReplica: 10,
      pollIntervalSeconds: 3600,
    });
    await eventually('first evaluation', async () => (await t.group('refunds-consumers'))?.status?.lagTime);
    await t.produce('refunds', 30);

    const noToken = await t.alert(['refunds-consumers']);
    expect(noToken.status).toBe(401);
    const malformed = await t.alert([], { token: TOKEN, body: '{"alerts": [' });
    expect(malformed.status).toBe(400);
    const wrongShape = await t.alert([], { token: TOKEN, body: '{"alerts": [{"labels": ["x"]}]}' });
    expect(wrongShape.status).toBe(400);
    // Nothing polls this group for an hour: it still runs 1 replica.
    expect(await t.replicas('refunds-workers')).toBe(1);

    const accepted = await t.alert(['refunds-consumers'], { token: TOKEN });
    expect(accepted.status).toBe(202);
    const refunds = await waitScaled('refunds-workers', 'refunds-consumers', 3, 15_000);
    expect(refunds.status).toMatchObject({ lag: 30, desiredReplicas: 3 });
  });

  it('scales to zero when idle and back from zero when lag passes activationLag', async () => {
    await t.createTopic('audit', 1);
    await t.createDeployment('audit-workers', 2);
    await t.createGroup('audit-consumers', 'audit', {
      target: { name: 'audit-workers' },
      minReplicas: 0,
      maxReplicas: 4,
      lagPerReplica: 10,
      activationLag: 5,
      pollIntervalSeconds: 1,
      scaleDownStabilizationSeconds: 0,
    });
    await waitReplicas('audit-workers', 0);

    await t.produce('audit', 3);
    await eventually('lag 3 measured', async () => (await t.group('audit-consumers'))?.status?.lag === 3);
    expect(await t.replicas('audit-workers')).toBe(0);
    expect((await t.group('audit-consumers'))?.status?.desiredReplicas).toBe(0);

    await t.produce('audit', 10);
    const audit = await waitScaled('audit-workers', 'audit-consumers', 2);
    expect(audit.status?.lastScaleReason).toBe('lag 13 needs 2 replicas at 10 per replica');

    await t.catchUp('audit-consumers', 'audit');
    await waitScaled('audit-workers', 'audit-consumers', 0);
  });

  it('exports lag, replicas and scale events per ConsumerGroup on /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${t.env.operator.httpPort}/metrics`)).text();
    /** The sample of `name` for audit-consumers with the extra label, whatever the label order. */
    const value = (name: string, extra = '') => {
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith(`${name}{`) &&
            l.includes('consumergroup="audit-consumers"') &&
            l.includes(`namespace="${ns}"`) &&
            l.includes(extra),
        );
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    expect(value('bolide_consumergroup_lag')).toBe(0);
    expect(value('bolide_consumergroup_topic_lag', 'topic="audit"')).toBe(0);
    expect(value('bolide_consumergroup_current_replicas')).toBe(0);
    expect(value('bolide_consumergroup_desired_replicas')).toBe(0);
    expect(value('bolide_consumergroup_scale_events_total', 'direction="up"')).toBe(1);
    expect(value('bolide_consumergroup_scale_events_total', 'direction="down"')).toBe(2);
    expect(text).toMatch(/bolide_consumergroup_queue_expansions_total\{[^}]*topic="clicks"[^}]*\} 2/);
  });

  it('a replica that does not lead answers 503 to alerts (Alertmanager retries), the leader 202', async () => {
    // Two more operators with leader election, watching a namespace of their own (so they leave the
    // groups above alone).
    const haNs = 'autoscale-ha';
    await t.env.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: haNs } });
    const election = {
      namespace: haNs,
      leaderElection: true,
      leaseName: 'alerts',
      leaseNamespace: haNs,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    };
    const leader = await t.env.startOperator({ ...election, identity: 'ha-leader' });
    await leader.whenLeading();
    const follower = await t.env.startOperator({ ...election, identity: 'ha-follower' });
    expect(follower.isLeader()).toBe(false);
    const alertFor = (port: number | undefined) =>
      t.alert(['some-group'], { token: TOKEN, port }).then((r) => r.status);
    expect(await alertFor(follower.httpPort)).toBe(503);
    expect(await alertFor(leader.httpPort)).toBe(202);
    // Bad bodies are refused as such everywhere.
    expect((await t.alert([], { token: TOKEN, body: '[]', port: follower.httpPort })).status).toBe(400);
  });
});
