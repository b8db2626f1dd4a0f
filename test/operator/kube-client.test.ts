// operator/src/kube's KubeClient and EventRecorder against a real kube-apiserver: server-side apply
// ownership, the status and scale subresources, finalizers under optimistic concurrency, events.
import { readFileSync } from 'node:fs';
import * as yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BuiltinResources,
  ConflictError,
  EventRecorder,
  HttpsTransport,
  KubeClient,
  type KubeList,
  type KubeObject,
} from '../../operator/src/kube/index.js';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.js';
import { installCrds } from '../harness/crds.js';

const ns = 'kube-client';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

interface TopicCr extends KubeObject {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

interface Deployment extends KubeObject {
  spec?: { replicas?: number };
}

const topicSample = (name: string): TopicCr => ({
  ...(yaml.load(
    readFileSync(new URL('../fixtures/crs/topic-minimal.yaml', import.meta.url), 'utf8'),
  ) as TopicCr),
  metadata: { name, namespace: ns },
});

describe('KubeClient against a real API server', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let other: KubeClient;

  beforeAll(async () => {
    cp = await startControlPlane();
    await installCrds(cp.kubeConfig);
    client = new KubeClient(new HttpsTransport(cp.kubeConfig));
    // A second writer with its own field manager, like a user running kubectl.
    other = new KubeClient(new HttpsTransport(cp.kubeConfig), { fieldManager: 'kubectl-user' });
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  });

  afterAll(async () => {
    client?.close();
    other?.close();
    await cp?.stop();
  });

  it('server-side applies a ConfigMap, converges on change, and leaves other managers’ fields alone', async () => {
    const desired = (data: Record<string, string>): ConfigMap => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'conf',
        namespace: ns,
        labels: { 'app.kubernetes.io/managed-by': 'bolide-operator' },
      },
      data,
    });
    const created = await client.apply(
      desired({ 'broker.conf': 'flushDiskType=ASYNC_FLUSH', retention: '72' }),
    );
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.data).toEqual({ 'broker.conf': 'flushDiskType=ASYNC_FLUSH', retention: '72' });
    const managers = (created.metadata?.managedFields ?? []) as Array<{ manager: string; operation: string }>;
    expect(managers).toEqual([expect.objectContaining({ manager: 'bolide-operator', operation: 'Apply' })]);

    // Someone else adds a key and a label with a merge patch.
    await other.patch(created, {
      data: { 'user-note': 'hello' },
      metadata: { labels: { team: 'payments' } },
    });

    // Same desired state again: nothing changes, not even the resourceVersion.
    const again = await client.apply(
      desired({ 'broker.conf': 'flushDiskType=ASYNC_FLUSH', retention: '72' }),
    );
    const afterPatch = await client.get<ConfigMap>(BuiltinResources.ConfigMap, 'conf', ns);
    expect(again.metadata?.resourceVersion).toBe(afterPatch?.metadata?.resourceVersion);

    // A changed field converges; a field we stop applying is removed; the other manager's survive.
    const changed = await client.apply(desired({ 'broker.conf': 'flushDiskType=SYNC_FLUSH' }));
    expect(changed.data).toEqual({ 'broker.conf': 'flushDiskType=SYNC_FLUSH', 'user-note': 'hello' });
    expect(changed.metadata?.labels).toEqual({
      'app.kubernetes.io/managed-by': 'bolide-operator',
      team: 'payments',
    });
  });

  it('reports a field conflict without force as ConflictError, and wins with force', async () => {
    const cm = (value: string): ConfigMap => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'contested', namespace: ns },
      data: { key: value },
    });
    await other.apply(cm('theirs'), { force: false });
    const err = await client.apply(cm('ours'), { force: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/conflict/i);
    const forced = await client.apply(cm('ours'));
    expect(forced.data).toEqual({ key: 'ours' });
  });

  it('dry-runs an apply without storing it', async () => {
    const result = await client.apply(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'dry', namespace: ns },
        data: { a: 'b' },
      } as ConfigMap,
      { dryRun: true },
    );
    expect(result.data).toEqual({ a: 'b' });
    expect(await client.get(BuiltinResources.ConfigMap, 'dry', ns)).toBeUndefined();
  });

  it('patches the status subresource of a CR without touching spec, with an optional resourceVersion guard', async () => {
    const topic = await client.create(topicSample('orders'));
    expect(topic.metadata?.generation).toBe(1);
    const conditions = [
      {
        type: 'Ready',
        status: 'False',
        reason: 'BrokerUnreachable',
        message: 'broker-a refused the connection',
        lastTransitionTime: '2025-01-01T00:00:00Z',
        observedGeneration: 1,
      },
    ];
    const patched = await client.patchStatus<TopicCr>(topic, { observedGeneration: 1, conditions });
    expect(patched.status).toMatchObject({ observedGeneration: 1, conditions });
    expect(patched.spec).toEqual(topic.spec);
    // A status write does not bump the generation.
    expect(patched.metadata?.generation).toBe(1);

    // The resourceVersion guard turns a stale write into ConflictError.
    const stale = client.patchStatus(
      topic,
      { observedGeneration: 1 },
      { resourceVersion: topic.metadata?.resourceVersion },
    );
    await expect(stale).rejects.toBeInstanceOf(ConflictError);
    const fresh = await client.patchStatus<TopicCr>(
      patched,
      { observedGeneration: 1, conditions: [{ ...conditions[0], status: 'True', reason: 'Created' }] },
      { resourceVersion: patched.metadata?.resourceVersion },
    );
    expect(fresh.status).toMatchObject({ conditions: [{ status: 'True' }] });

    // Server-side apply on /status works too and owns only what it sent.
    const applied = await client.applyStatus<TopicCr>({
      apiVersion: topic.apiVersion,
      kind: topic.kind,
      metadata: { name: 'orders', namespace: ns },
      status: {
        observedGeneration: 1,
        conditions: [{ ...conditions[0], status: 'True', reason: 'Applied' }],
      },
    } as TopicCr);
    expect(applied.status).toMatchObject({ conditions: [{ reason: 'Applied' }] });
    // Status fields the schema refuses are refused through the subresource too.
    const invalid = client.patchStatus(topic, { conditions: [{ type: 'Ready', status: 'Maybe' }] });
    await expect(invalid).rejects.toThrow(/422 Invalid.*Unsupported value: "Maybe"/);
  });

  it('adds and removes a finalizer under optimistic concurrency; a stale copy gets ConflictError', async () => {
    const topic = await client.create(topicSample('guarded'));
    const added = await client.addFinalizer(topic, 'bolide.dev/finalizer');
    expect(added.changed).toBe(true);
    expect(added.object.metadata?.finalizers).toEqual(['bolide.dev/finalizer']);
    // Adding again is a no-op without a request.
    expect((await client.addFinalizer(added.object, 'bolide.dev/finalizer')).changed).toBe(false);

    // Someone else adds their finalizer meanwhile; our stale copy must not overwrite it.
    const theirs = await other.addFinalizer(added.object, 'example.com/backup');
    expect(theirs.object.metadata?.finalizers).toEqual(['bolide.dev/finalizer', 'example.com/backup']);
    await expect(client.removeFinalizer(added.object, 'bolide.dev/finalizer')).rejects.toBeInstanceOf(
      ConflictError,
    );

    // Deletion waits for finalizers; a deleting object refuses new finalizers, so addFinalizer skips it.
    expect(await client.delete(BuiltinResources.ConfigMap, 'no-such-thing', ns)).toBe(false);
    const type = await client.resolve('bolide.dev/v1alpha1', 'Topic');
    expect(type).toMatchObject({ plural: 'topics', namespaced: true });
    expect(await client.delete(type, 'guarded', ns)).toBe(true);
    const deleting = (await client.get<TopicCr>(type, 'guarded', ns))!;
    expect(deleting.metadata?.deletionTimestamp).toBeTruthy();
    expect((await client.addFinalizer(deleting, 'late/finalizer')).changed).toBe(false);

    const ours = await client.removeFinalizer(deleting, 'bolide.dev/finalizer');
    expect(ours.object.metadata?.finalizers).toEqual(['example.com/backup']);
    await other.removeFinalizer(ours.object, 'example.com/backup');
    expect(await client.get(type, 'guarded', ns)).toBeUndefined();
  });

  it('reads and sets replicas through the scale subresource', async () => {
    await client.apply<Deployment>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'consumer', namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'consumer' } },
        template: {
          metadata: { labels: { app: 'consumer' } },
          spec: { containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    } as Deployment);
    const scale = await client.getScale(BuiltinResources.Deployment, 'consumer', ns);
    expect(scale.kind).toBe('Scale');
    expect(scale.spec?.replicas).toBe(1);
    const scaled = await client.setScale(BuiltinResources.Deployment, 'consumer', ns, 4);
    expect(scaled.spec?.replicas).toBe(4);
    const dep = await client.get<Deployment>(BuiltinResources.Deployment, 'consumer', ns);
    expect(dep?.spec?.replicas).toBe(4);
    await expect(
      client.setScale(BuiltinResources.Deployment, 'consumer', ns, 2, {
        resourceVersion: scale.metadata?.resourceVersion,
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(client.setScale(BuiltinResources.Deployment, 'consumer', ns, -1)).rejects.toThrow(
      /replicas/,
    );
  });

  it('lists with a label selector across pages', async () => {
    for (let i = 0; i < 7; i++) {
      await client.apply<ConfigMap>({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `paged-${i}`, namespace: ns, labels: { paged: 'yes', parity: String(i % 2) } },
      });
    }
    const all = await client.listAll<ConfigMap>(BuiltinResources.ConfigMap, {
      namespace: ns,
      labelSelector: 'paged=yes',
      limit: 2,
    });
    expect(all.items.map((c) => c.metadata?.name).sort()).toEqual(
      [0, 1, 2, 3, 4, 5, 6].map((i) => `paged-${i}`),
    );
    expect(all.resourceVersion).toMatch(/^\d+$/);
    const odd = await client.list<ConfigMap>(BuiltinResources.ConfigMap, {
      namespace: ns,
      labelSelector: {
        matchLabels: { paged: 'yes' },
        matchExpressions: [{ key: 'parity', operator: 'In', values: ['1'] }],
      },
    });
    expect(odd.items.length).toBe(3);
  });

  it('explains API errors with the server’s message', async () => {
    const err = await client
      .create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_A_DNS_Name', namespace: ns } })
      .catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/422 Invalid .*Not_A_DNS_Name/);
    await expect(client.resolve('bolide.dev/v1alpha1', 'NoSuchKind')).rejects.toThrow(
      /does not serve kind NoSuchKind/,
    );
  });

  it('records events and counts repeats on one Event', async () => {
    const topic = await client.create(topicSample('evented'));
    const recorder = new EventRecorder(client, { instance: 'test-0' });
    await recorder.record(topic, 'Warning', 'BrokerUnreachable', 'broker-a at 10.0.0.1:10911 refused');
    await recorder.record(topic, 'Warning', 'BrokerUnreachable', 'broker-a at 10.0.0.1:10911 refused');
    await recorder.record(topic, 'Normal', 'Created', 'topic created on 1 broker');
    const events = await client.list<
      KubeObject & { reason?: string; count?: number; involvedObject?: { uid?: string } }
    >(BuiltinResources.Event, { namespace: ns, fieldSelector: `involvedObject.name=evented` });
    const byReason = Object.fromEntries(
      (events as KubeList<KubeObject & { reason?: string; count?: number }>).items.map((e) => [e.reason, e]),
    );
    expect(Object.keys(byReason).sort()).toEqual(['BrokerUnreachable', 'Created']);
    expect(byReason.BrokerUnreachable.count).toBe(2);
    expect(events.items[0].involvedObject?.uid).toBe(topic.metadata?.uid);
  });
});
