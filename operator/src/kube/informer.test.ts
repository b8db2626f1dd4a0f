import { describe, expect, it } from 'vitest';
import type { ListOptions, ListWatcher, WatchOptions } from './client.js';
import { ManualClock } from './clock.js';
import { ApiError, GoneError } from './errors.js';
import { Informer } from './informer.js';
import type { KubeList, KubeObject, WatchEvent } from './objects.js';
import { BuiltinResources } from './resources.js';
import { matchesLabels, toRequirements } from './selectors.js';

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
};

interface OpenWatch {
  opts: WatchOptions;
  onEvent: (e: WatchEvent) => void;
  end: (err?: unknown) => void;
}

/** An in-memory API server for one resource: objects, a resourceVersion counter, and open watches. */
class FakeApi implements ListWatcher {
  private rv = 100;
  readonly objects = new Map<string, KubeObject>();
  readonly history: Array<{ rv: number; event: WatchEvent }> = [];
  readonly watches: OpenWatch[] = [];
  lists = 0;
  failLists = 0;
  /** Watches opened with a resourceVersion older than this get 410. */
  compactedBelow = 0;

  async list<T extends KubeObject>(_type: unknown, opts: ListOptions = {}): Promise<KubeList<T>> {
    this.lists++;
    if (this.failLists > 0) {
      this.failLists--;
      throw new Error('connection refused');
    }
    const reqs = toRequirements(opts.labelSelector);
    const items = [...this.objects.values()].filter((o) => matchesLabels(reqs, o.metadata?.labels));
    return { items: structuredClone(items) as T[], metadata: { resourceVersion: String(this.rv) } };
  }

  watch<T extends KubeObject>(
    _type: unknown,
    opts: WatchOptions,
    onEvent: (e: WatchEvent<T>) => void,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const from = Number(opts.resourceVersion);
      if (from < this.compactedBelow) {
        reject(new GoneError(410, { reason: 'Expired', code: 410 }, 'watch'));
        return;
      }
      const w: OpenWatch = {
        opts,
        onEvent: onEvent as (e: WatchEvent) => void,
        end: (err) => {
          this.watches.splice(this.watches.indexOf(w), 1);
          if (err) reject(err);
          else resolve();
        },
      };
      this.watches.push(w);
      if (opts.signal.aborted) w.end();
      opts.signal.addEventListener('abort', () => w.end());
      for (const h of this.history) if (h.rv > from) w.onEvent(structuredClone(h.event));
    });
  }

  private emit(type: WatchEvent['type'], obj: KubeObject) {
    const event = { type, object: structuredClone(obj) } as WatchEvent;
    this.history.push({ rv: this.rv, event });
    for (const w of [...this.watches]) w.onEvent(structuredClone(event));
  }

  put(name: string, labels: Record<string, string> = {}, extra: Partial<KubeObject['metadata']> = {}) {
    const exists = this.objects.has(name);
    const obj: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'ns', labels, resourceVersion: String(++this.rv), ...extra },
    };
    this.objects.set(name, obj);
    this.emit(exists ? 'MODIFIED' : 'ADDED', obj);
  }

  remove(name: string) {
    const obj = this.objects.get(name)!;
    this.objects.delete(name);
    this.emit('DELETED', { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
  }

  /** Changes the store without telling watchers (as if events were lost), then compacts history. */
  silently(fn: () => void) {
    const watches = this.watches.splice(0);
    fn();
    this.watches.push(...watches);
    this.compactedBelow = this.rv;
    this.history.length = 0;
  }
}

function recorder() {
  const events: string[] = [];
  return {
    events,
    handler: {
      onAdd: (o: KubeObject) => events.push(`add ${o.metadata?.name}`),
      onUpdate: (_a: KubeObject, b: KubeObject) => events.push(`update ${b.metadata?.name}`),
      onDelete: (o: KubeObject) => events.push(`delete ${o.metadata?.name}`),
    },
  };
}

function newInformer(api: FakeApi, clock = new ManualClock(), labelSelector?: string) {
  return new Informer<KubeObject>(api, BuiltinResources.ConfigMap, {
    clock,
    labelSelector,
    initialBackoffMs: 1000,
    maxBackoffMs: 8000,
  });
}

describe('Informer', () => {
  it('lists, then follows the watch from the list resourceVersion', async () => {
    const api = new FakeApi();
    api.put('a', { app: 'x' });
    const inf = newInformer(api);
    const { events, handler } = recorder();
    inf.addEventHandler(handler);
    inf.start();
    await inf.waitForSync();
    await settle();
    expect(api.watches[0].opts.resourceVersion).toBe('101');
    api.put('b');
    api.put('a', { app: 'y' });
    api.remove('b');
    await settle();
    expect(events).toEqual(['add a', 'add b', 'update a', 'delete b']);
    expect(inf.get('a', 'ns')?.metadata?.labels).toEqual({ app: 'y' });
    expect(inf.get('b', 'ns')).toBeUndefined();
    expect(inf.lastResourceVersion()).toBe('104');
    await inf.stop();
    expect(api.watches.length).toBe(0);
  });

  it('serves get and list by namespace and label selector from the cache, frozen', async () => {
    const api = new FakeApi();
    api.put('a', { role: 'broker' });
    api.put('b', { role: 'namesrv' });
    api.objects.set('c', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'other', resourceVersion: '1' },
    });
    const inf = newInformer(api);
    inf.start();
    await inf.waitForSync();
    expect(inf.list().length).toBe(3);
    expect(
      inf
        .list({ namespace: 'ns' })
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(inf.list({ labelSelector: 'role in (broker)' }).map((o) => o.metadata?.name)).toEqual(['a']);
    expect(inf.list({ namespace: 'missing' })).toEqual([]);
    expect(inf.get('c', 'other')?.metadata?.name).toBe('c');
    const cached = inf.get('a', 'ns')!;
    expect(() => {
      cached.metadata!.name = 'changed';
    }).toThrow(TypeError);
    await inf.stop();
  });

  it('re-opens a watch the server ended, from the last resourceVersion, without relisting', async () => {
    const api = new FakeApi();
    const clock = new ManualClock();
    const inf = newInformer(api, clock);
    const { events, handler } = recorder();
    inf.addEventHandler(handler);
    inf.start();
    await settle();
    api.put('a');
    await settle();
    clock.advance(5000);
    api.watches[0].end();
    await settle();
    expect(api.watches.length).toBe(1);
    expect(api.watches[0].opts.resourceVersion).toBe('101');
    expect(api.lists).toBe(1);
    api.put('b');
    await settle();
    expect(events).toEqual(['add a', 'add b']);
    await inf.stop();
  });

  it('relists on 410 Gone and emits what changed while it was not watching', async () => {
    const api = new FakeApi();
    api.put('keep');
    api.put('change');
    api.put('vanish');
    const clock = new ManualClock();
    const inf = newInformer(api, clock);
    const { events, handler } = recorder();
    inf.addEventHandler(handler);
    inf.start();
    await settle();
    events.length = 0;
    api.silently(() => {
      api.put('change', { v: '2' });
      api.remove('vanish');
      api.put('fresh');
    });
    api.watches[0].end(new Error('connection reset'));
    await settle();
    // The retry waits out the backoff, then its watch gets 410 and the informer relists at once.
    expect(api.lists).toBe(1);
    clock.advance(1000);
    await settle();
    expect(api.lists).toBe(2);
    expect(events).toEqual(['update change', 'add fresh', 'delete vanish']);
    expect(
      inf
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['change', 'fresh', 'keep']);
    expect(inf.restartCount()).toBe(2);
    // And it watches again from the new list's resourceVersion.
    expect(api.watches[0].opts.resourceVersion).toBe(inf.lastResourceVersion());
    await inf.stop();
  });

  it('retries failed lists and broken watches with doubling delays, reset after success', async () => {
    const api = new FakeApi();
    const clock = new ManualClock();
    api.failLists = 3;
    const inf = newInformer(api, clock);
    inf.start();
    await settle();
    expect(api.lists).toBe(1);
    clock.advance(999);
    await settle();
    expect(api.lists).toBe(1);
    clock.advance(1);
    await settle();
    expect(api.lists).toBe(2);
    clock.advance(2000);
    await settle();
    expect(api.lists).toBe(3);
    clock.advance(4000);
    await settle();
    expect(api.lists).toBe(4);
    expect(inf.hasSynced()).toBe(true);
    // A success reset the backoff: the next failure waits the initial delay again.
    clock.advance(10_000);
    api.watches[0].end(new ApiError(500, { message: 'etcd unavailable' }, 'watch'));
    await settle();
    expect(api.watches.length).toBe(0);
    clock.advance(1000);
    await settle();
    expect(api.watches.length).toBe(1);
    await inf.stop();
  });
});
