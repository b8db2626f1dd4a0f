// Informer, owner fan-in, workqueue and reconcile loop against a real kube-apiserver: the cache
// follows creates, updates and deletes; it recovers when its watch breaks and relists after 410 Gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BuiltinResources,
  enqueueOwner,
  GoneError,
  HttpsTransport,
  Informer,
  KubeClient,
  type KubeObject,
  type ListWatcher,
  ReconcileLoop,
  WorkQueue,
} from '../../operator/src/kube/index.js';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.js';
import { installCrds } from '../harness/crds.js';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

async function eventually(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Wraps the real client so a test can cut the open watch or make the next one fail with 410. */
class BreakableWatches implements ListWatcher {
  private cut: AbortController | undefined;
  goneNext = false;
  watchesOpened = 0;
  lists = 0;

  constructor(private readonly client: KubeClient) {}

  list: ListWatcher['list'] = (type, opts) => {
    this.lists++;
    return this.client.list(type, opts);
  };

  watch: ListWatcher['watch'] = async (type, opts, onEvent) => {
    if (this.goneNext) {
      this.goneNext = false;
      throw new GoneError(
        410,
        { reason: 'Expired', code: 410, message: 'too old resource version' },
        'watch',
      );
    }
    this.watchesOpened++;
    const cut = new AbortController();
    this.cut = cut;
    await this.client.watch(type, { ...opts, signal: AbortSignal.any([opts.signal, cut.signal]) }, onEvent);
    if (cut.signal.aborted && !opts.signal.aborted) throw new Error('connection reset by test');
  };

  breakWatch(): void {
    this.cut?.abort();
  }
}

describe('Informer against a real API server', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  const ns = 'informer';

  const cm = (
    name: string,
    labels: Record<string, string>,
    data: Record<string, string> = {},
  ): ConfigMap => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns, labels },
    data,
  });

  beforeAll(async () => {
    cp = await startControlPlane();
    await installCrds(cp.kubeConfig);
    client = new KubeClient(new HttpsTransport(cp.kubeConfig));
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  });

  afterAll(async () => {
    client?.close();
    await cp?.stop();
  });

  it('follows create, update and delete, and survives a broken watch and a 410 relist', async () => {
    await client.apply(cm('before-start', { app: 'bolide' }));
    await client.apply(cm('not-ours', { app: 'other' }));
    const api = new BreakableWatches(client);
    const informer = new Informer<ConfigMap>(api, BuiltinResources.ConfigMap, {
      namespace: ns,
      labelSelector: 'app=bolide',
      initialBackoffMs: 100,
      maxBackoffMs: 400,
    });
    const seen: string[] = [];
    informer.addEventHandler({
      onAdd: (o) => seen.push(`add ${o.metadata?.name}`),
      onUpdate: (_old, o) => seen.push(`update ${o.metadata?.name} ${o.data?.v ?? ''}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    informer.start();
    await informer.waitForSync();
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['before-start']);

    await client.apply(cm('live', { app: 'bolide' }, { v: '1' }));
    await client.apply(cm('live', { app: 'bolide' }, { v: '2' }));
    await eventually('update of live', () => seen.includes('update live 2'));
    await client.delete(BuiltinResources.ConfigMap, 'live', ns);
    await eventually('delete of live', () => seen.includes('delete live'));
    expect(seen).toEqual(['add before-start', 'add live', 'update live 2', 'delete live']);
    expect(informer.get('live', ns)).toBeUndefined();

    // Cut the connection; changes made while it is down arrive once it re-watches from its resourceVersion.
    const listsBefore = api.lists;
    api.breakWatch();
    await client.apply(cm('while-broken', { app: 'bolide' }));
    await eventually('event made during the outage', () => informer.get('while-broken', ns) !== undefined);
    expect(api.watchesOpened).toBeGreaterThanOrEqual(2);
    expect(api.lists).toBe(listsBefore);

    // 410 Gone: the informer relists, and reports what vanished while it was not watching.
    api.goneNext = true;
    api.breakWatch();
    await client.delete(BuiltinResources.ConfigMap, 'before-start', ns);
    await eventually('delete found by relist', () => seen.includes('delete before-start'));
    expect(api.lists).toBe(listsBefore + 1);
    expect(informer.restartCount()).toBeGreaterThanOrEqual(2);
    expect(informer.list({ labelSelector: 'app=bolide' }).map((o) => o.metadata?.name)).toEqual([
      'while-broken',
    ]);

    await informer.stop();
  });

  it('re-opens a watch the server times out', async () => {
    const api = new BreakableWatches(client);
    const informer = new Informer<ConfigMap>(api, BuiltinResources.ConfigMap, {
      namespace: ns,
      watchTimeoutSeconds: 1,
    });
    informer.start();
    await informer.waitForSync();
    // The server ends each watch after about a second; the informer must open new ones, not relist.
    await eventually('two server-side watch timeouts', () => api.watchesOpened >= 3);
    expect(api.lists).toBe(1);
    await client.apply(cm('after-timeouts', { app: 'late' }));
    await eventually(
      'event after server-side timeouts',
      () => informer.get('after-timeouts', ns) !== undefined,
    );
    await informer.stop();
  });

  it('wakes the owner’s reconcile when an owned object changes (owner-reference fan-in)', async () => {
    const topic = await client.create<KubeObject>({
      apiVersion: 'bolide.dev/v1alpha1',
      kind: 'Topic',
      metadata: { name: 'owner', namespace: ns },
      spec: { clusterRef: { name: 'c1' } },
    } as KubeObject);
    const queue = new WorkQueue();
    const reconciled: string[] = [];
    const loop = new ReconcileLoop({
      name: 'Topic',
      queue,
      reconcile: async (key) => {
        reconciled.push(key);
      },
    });
    const children = new Informer<ConfigMap>(client, BuiltinResources.ConfigMap, { namespace: ns });
    children.addEventHandler(enqueueOwner(queue, { group: 'bolide.dev', kind: 'Topic' }));
    children.start();
    await children.waitForSync();
    loop.start();

    await client.apply({
      ...cm('owned', { app: 'child' }),
      metadata: {
        name: 'owned',
        namespace: ns,
        ownerReferences: [
          {
            apiVersion: 'bolide.dev/v1alpha1',
            kind: 'Topic',
            name: 'owner',
            uid: topic.metadata!.uid!,
            controller: true,
          },
        ],
      },
    });
    await eventually('owner reconciled', () => reconciled.includes(`${ns}/owner`));
    await client.apply(cm('unowned', { app: 'child' }));
    await client.apply({
      ...cm('owned', {}, { changed: 'yes' }),
      metadata: (await client.get<ConfigMap>(BuiltinResources.ConfigMap, 'owned', ns))!.metadata,
    });
    await eventually('second reconcile', () => reconciled.filter((k) => k === `${ns}/owner`).length >= 2);
    expect(new Set(reconciled)).toEqual(new Set([`${ns}/owner`]));

    await loop.stop();
    await children.stop();
  });
});
