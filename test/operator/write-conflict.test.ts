// A write conflict against a real API server is retried: the Topic controller reads a stale Topic
// (as an informer that lags behind does), its finalizer patch carries that resourceVersion, the API
// server answers 409 Conflict, the reconcile loop requeues shortly, and the next pass succeeds
// without losing the change made in between.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINALIZER, type Topic } from '../../operator/src/api/index.js';
import { type Cache, createTopicReconciler, RocketMqAdmin } from '../../operator/src/controller/index.js';
import {
  Informer,
  type KubeObject,
  ReconcileLoop,
  type ReconcileOutcome,
  WorkQueue,
} from '../../operator/src/kube/index.js';
import {
  BolideResources,
  eventually,
  type OperatorTestEnv,
  startOperatorTestEnv,
} from './operator-support.js';

const ns = 'conflict-test';
type TopicObj = Topic & KubeObject;

describe('write conflicts', () => {
  let env: OperatorTestEnv;
  beforeAll(async () => {
    env = await startOperatorTestEnv(ns, {}, { inProcess: false });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('a finalizer patch from a stale read gets 409 and is retried until it succeeds', async () => {
    const v1 = await env.client.create<TopicObj>({
      apiVersion: 'bolide.dev/v1alpha1',
      kind: 'Topic',
      metadata: { name: 'stale', namespace: ns },
      spec: { clusterRef: { name: 'absent' } },
    });
    // Someone changes the Topic after the operator's (stale) read.
    await env.client.patch(v1, { metadata: { labels: { team: 'payments' } } });

    const topics = new Informer<TopicObj>(env.client, BolideResources.Topic, { namespace: ns });
    const clusters = new Informer<KubeObject>(env.client, BolideResources.BrokerCluster, { namespace: ns });
    topics.start();
    clusters.start();
    await Promise.all([topics.waitForSync(), clusters.waitForSync()]);
    let servedStale = false;
    const laggingCache: Cache<TopicObj> = {
      get: (name, namespace) => {
        if (!servedStale && name === 'stale') {
          servedStale = true;
          return v1;
        }
        return topics.get(name, namespace);
      },
      list: (opts) => topics.list(opts),
    };
    const admin = new RocketMqAdmin();
    const outcomes: ReconcileOutcome[] = [];
    const queue = new WorkQueue();
    const loop = new ReconcileLoop({
      name: 'Topic',
      queue,
      conflictRequeueMs: 100,
      observer: { reconciled: (_c, outcome) => outcomes.push(outcome) },
      reconcile: createTopicReconciler({
        objects: laggingCache,
        clusters: clusters as unknown as Cache<never>,
        kube: env.client,
        events: { record: async () => {} },
        admin,
        now: () => Date.now(),
      }),
    });
    loop.start();
    queue.add(`${ns}/stale`);
    try {
      await eventually('two passes', () => outcomes.length >= 2);
      expect(outcomes.slice(0, 2)).toEqual(['conflict', 'success']);
      const stored = (await env.client.get<TopicObj>(BolideResources.Topic, 'stale', ns))!;
      expect(stored.metadata?.finalizers).toEqual([FINALIZER]);
      expect(stored.metadata?.labels).toEqual({ team: 'payments' });
      expect(stored.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('ClusterNotFound');
    } finally {
      await loop.stop();
      await Promise.all([topics.stop(), clusters.stop(), admin.close()]);
    }
  });
});
