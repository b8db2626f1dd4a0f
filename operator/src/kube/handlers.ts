import type { EventHandler } from './informer.js';
import { controllerOf, groupOf, type KubeObject, objectKey } from './objects.js';

/** Anything keys can be added to (a WorkQueue). */
export interface KeySink {
  add(key: string): void;
}

/** `For(primary)`: every change of the object enqueues its own key. */
export function enqueueObject<T extends KubeObject>(queue: KeySink): EventHandler<T> {
  const add = (obj: T) => queue.add(objectKey(obj));
  return { onAdd: add, onUpdate: (_old, obj) => add(obj), onDelete: add };
}

/** The owner's key, if `obj`'s controller ownerReference points at `owner` (group and kind; version ignored). */
export function ownerKey(obj: KubeObject, owner: { group: string; kind: string }): string | undefined {
  const ref = controllerOf(obj);
  if (!ref || ref.kind !== owner.kind || groupOf(ref.apiVersion) !== owner.group) return undefined;
  // Owners of namespaced objects live in the same namespace (cross-namespace owners are not allowed).
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${ref.name}` : ref.name;
}

/**
 * `Owns(child)`: a change of a child enqueues the key of its controller owner of the given kind. On
 * update both the old and the new owner are enqueued, so a child that changes hands wakes both.
 */
export function enqueueOwner<T extends KubeObject>(
  queue: KeySink,
  owner: { group: string; kind: string },
): EventHandler<T> {
  const add = (obj: T) => {
    const key = ownerKey(obj, owner);
    if (key) queue.add(key);
  };
  return {
    onAdd: add,
    onUpdate: (oldObj, newObj) => {
      const a = ownerKey(oldObj, owner);
      const b = ownerKey(newObj, owner);
      if (a) queue.add(a);
      if (b && b !== a) queue.add(b);
    },
    onDelete: add,
  };
}

/** `Watches(x, mapFn)`: any other relation, e.g. Topic → its BrokerCluster by spec.clusterRef. */
export function enqueueMapped<T extends KubeObject>(
  queue: KeySink,
  map: (obj: T) => readonly string[],
): EventHandler<T> {
  const add = (obj: T) => {
    for (const key of map(obj)) queue.add(key);
  };
  return {
    onAdd: add,
    onUpdate: (oldObj, newObj) => {
      const keys = new Set([...map(oldObj), ...map(newObj)]);
      for (const key of keys) queue.add(key);
    },
    onDelete: add,
  };
}

/**
 * Drops updates that change neither metadata.generation nor labels/annotations/finalizers/deletion —
 * i.e. status-only writes (controller-runtime's GenerationChangedPredicate, a little wider). Use for
 * primaries whose own status writes must not wake them again.
 */
export function ignoreStatusOnlyUpdates<T extends KubeObject>(inner: EventHandler<T>): EventHandler<T> {
  return {
    onAdd: inner.onAdd?.bind(inner),
    onDelete: inner.onDelete?.bind(inner),
    onUpdate: (oldObj, newObj) => {
      const a = oldObj.metadata ?? {};
      const b = newObj.metadata ?? {};
      const same =
        a.generation !== undefined &&
        a.generation === b.generation &&
        a.deletionTimestamp === b.deletionTimestamp &&
        JSON.stringify(a.labels ?? {}) === JSON.stringify(b.labels ?? {}) &&
        JSON.stringify(a.annotations ?? {}) === JSON.stringify(b.annotations ?? {}) &&
        JSON.stringify(a.finalizers ?? []) === JSON.stringify(b.finalizers ?? []);
      if (!same) inner.onUpdate?.(oldObj, newObj);
    },
  };
}
