import { describe, expect, it } from 'vitest';
import type { ListOptions, ListWatcher, WatchOptions } from './client.js';
import { ControllerManager } from './manager.js';
import type { KubeList, KubeObject, WatchEvent } from './objects.js';
import { BuiltinResources, type ResourceType } from './resources.js';

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
};

const Widget: ResourceType = {
  group: 'example.dev',
  version: 'v1',
  kind: 'Widget',
  plural: 'widgets',
  namespaced: true,
};

/** Lists what it holds per plural; watches stay open and receive `push`ed events. */
class FakeApi implements ListWatcher {
  readonly store = new Map<string, KubeObject[]>();
  private readonly listeners = new Map<string, Array<(e: WatchEvent) => void>>();
  releaseLists: (() => void) | undefined;
  private gate: Promise<void> | undefined;

  holdLists() {
    this.gate = new Promise((r) => {
      this.releaseLists = r;
    });
  }

  async list<T extends KubeObject>(type: ResourceType, _opts?: ListOptions): Promise<KubeList<T>> {
    await this.gate;
    return {
      items: structuredClone(this.store.get(type.plural) ?? []) as T[],
      metadata: { resourceVersion: '1' },
    };
  }

  watch<T extends KubeObject>(type: ResourceType, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void) {
    const list = this.listeners.get(type.plural) ?? [];
    list.push(onEvent as (e: WatchEvent) => void);
    this.listeners.set(type.plural, list);
    return new Promise<void>((resolve) => opts.signal.addEventListener('abort', () => resolve()));
  }

  push(type: ResourceType, event: WatchEvent) {
    for (const l of this.listeners.get(type.plural) ?? []) l(structuredClone(event));
  }
}

const widget = (name: string, generation: number, rv: string, status?: unknown): KubeObject =>
  ({
    apiVersion: 'example.dev/v1',
    kind: 'Widget',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, generation, resourceVersion: rv },
    status,
  }) as KubeObject;

describe('ControllerManager', () => {
  it('shares informers, waits for sync before reconciling, and fans in owned, watched and primary changes', async () => {
    const api = new FakeApi();
    api.store.set('widgets', [widget('w1', 1, '1')]);
    api.holdLists();
    const reconciled: string[] = [];
    const depths = new Map<string, () => number>();
    const outcomes: string[] = [];
    const manager = new ControllerManager({
      client: api,
      observer: { registerQueue: (n, d) => depths.set(n, d), reconciled: (_n, o) => outcomes.push(o) },
    });
    manager.add({
      name: 'Widget',
      for: Widget,
      owns: [BuiltinResources.ConfigMap],
      watches: [{ type: BuiltinResources.Secret, map: (o) => [`ns/${o.metadata?.labels?.widget}`] }],
      reconcile: async (key) => {
        reconciled.push(key);
      },
    });
    // Another controller on the same type reuses the informer.
    expect(manager.informer(BuiltinResources.ConfigMap)).toBe(manager.informer(BuiltinResources.ConfigMap));

    const starting = manager.start();
    await settle();
    expect(manager.synced()).toBe(false);
    expect(reconciled).toEqual([]);
    api.releaseLists!();
    await starting;
    expect(manager.synced()).toBe(true);
    await settle();
    expect(reconciled).toEqual(['ns/w1']);

    api.push(BuiltinResources.ConfigMap, {
      type: 'ADDED',
      object: {
        metadata: {
          name: 'w1-conf',
          namespace: 'ns',
          resourceVersion: '5',
          ownerReferences: [
            { apiVersion: 'example.dev/v1', kind: 'Widget', name: 'w1', uid: 'uid-w1', controller: true },
          ],
        },
      },
    });
    await settle();
    api.push(BuiltinResources.Secret, {
      type: 'ADDED',
      object: { metadata: { name: 's', namespace: 'ns', resourceVersion: '6', labels: { widget: 'w2' } } },
    });
    await settle();
    // A status-only write of the primary does not wake it; a spec change does.
    api.push(Widget, { type: 'MODIFIED', object: widget('w1', 1, '7', { ready: true }) });
    await settle();
    api.push(Widget, { type: 'MODIFIED', object: widget('w1', 2, '8') });
    await settle();
    expect(reconciled).toEqual(['ns/w1', 'ns/w1', 'ns/w2', 'ns/w1']);
    expect(outcomes.every((o) => o === 'success')).toBe(true);
    expect(depths.get('Widget')?.()).toBe(0);

    expect(() => manager.add({ name: 'late', for: Widget, reconcile: async () => {} })).toThrow(
      /after start/,
    );
    await manager.stop();
  });
});
