// A real 410 Gone: with the watch cache off and etcd compacted every second, an informer whose watch
// was down while objects changed re-watches from a compacted resourceVersion, gets the API server's
// ERROR event (410 Expired), relists, and reports the object that vanished during the outage.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BuiltinResources,
  HttpsTransport,
  Informer,
  KubeClient,
  type KubeObject,
  type ListWatcher,
} from '../../operator/src/kube/index.js';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.js';

async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Counts calls, can cut the open watch, and can hold the next watch until released. */
class GatedWatches implements ListWatcher {
  lists = 0;
  watchErrors: unknown[] = [];
  private cut: AbortController | undefined;
  private gate: Promise<void> | undefined;
  release: () => void = () => {};

  constructor(private readonly client: KubeClient) {}

  list: ListWatcher['list'] = (type, opts) => {
    this.lists++;
    return this.client.list(type, opts);
  };

  watch: ListWatcher['watch'] = async (type, opts, onEvent) => {
    await this.gate;
    const cut = new AbortController();
    this.cut = cut;
    try {
      await this.client.watch(type, { ...opts, signal: AbortSignal.any([opts.signal, cut.signal]) }, onEvent);
    } catch (err) {
      this.watchErrors.push(err);
      throw err;
    }
    if (cut.signal.aborted && !opts.signal.aborted) throw new Error('connection reset by test');
  };

  cutAndHold(): void {
    this.gate = new Promise((r) => {
      this.release = () => {
        this.gate = undefined;
        r();
      };
    });
    this.cut?.abort();
  }
}

describe('Informer and a real 410 Gone', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  const ns = 'gone';

  beforeAll(async () => {
    cp = await startControlPlane({ apiServerArgs: ['--watch-cache=false', '--etcd-compaction-interval=1s'] });
    client = new KubeClient(new HttpsTransport(cp.kubeConfig));
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  });

  afterAll(async () => {
    client?.close();
    await cp?.stop();
  });

  it('relists after the server says the resourceVersion is too old', async () => {
    const cm = (name: string) =>
      ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns } }) as KubeObject;
    await client.apply(cm('doomed'));
    const api = new GatedWatches(client);
    const informer = new Informer<KubeObject>(api, BuiltinResources.ConfigMap, {
      namespace: ns,
      initialBackoffMs: 100,
      maxBackoffMs: 200,
    });
    const seen: string[] = [];
    informer.addEventHandler({
      onAdd: (o) => seen.push(`add ${o.metadata?.name}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    informer.start();
    await informer.waitForSync();
    const staleRv = informer.lastResourceVersion();

    api.cutAndHold();
    await client.delete(BuiltinResources.ConfigMap, 'doomed', ns);
    await client.apply(cm('born-in-outage'));
    // Wait until etcd has compacted past the informer's resourceVersion.
    await eventually('compaction past the stale resourceVersion', async () => {
      const res = await cp.request(
        `/api/v1/namespaces/${ns}/configmaps?resourceVersion=${staleRv}&resourceVersionMatch=Exact`,
      );
      return res.status === 410;
    });
    api.release();

    await eventually('delete found by relist', () => seen.includes('delete doomed'));
    // The server accepted the watch, then sent an ERROR event with status 410 inside the stream.
    expect(String(api.watchErrors[0])).toMatch(/^GoneError: watch ConfigMap: 410 Expired/);
    expect(api.lists).toBe(2);
    // A relist reports adds and updates first, then what vanished.
    expect(seen).toEqual(['add doomed', 'add born-in-outage', 'delete doomed']);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['born-in-outage']);
    await informer.stop();
  });
});
