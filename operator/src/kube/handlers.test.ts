import { describe, expect, it } from 'vitest';
import { enqueueMapped, enqueueObject, enqueueOwner, ignoreStatusOnlyUpdates, ownerKey } from './handlers.js';
import type { KubeObject, OwnerReference } from './objects.js';
import { objectKey, splitKey } from './objects.js';

function child(name: string, refs: OwnerReference[], ns = 'prod'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: ns, ownerReferences: refs },
  };
}

const clusterRef = (name: string, controller = true): OwnerReference => ({
  apiVersion: 'bolide.dev/v1alpha1',
  kind: 'BrokerCluster',
  name,
  uid: `uid-${name}`,
  controller,
});

function sink() {
  const keys: string[] = [];
  return { keys, add: (k: string) => keys.push(k) };
}

describe('object keys', () => {
  it('uses namespace/name, or name for cluster-scoped objects, and splits them back', () => {
    expect(objectKey({ metadata: { name: 'a', namespace: 'ns' } })).toBe('ns/a');
    expect(objectKey({ metadata: { name: 'node-1' } })).toBe('node-1');
    expect(splitKey('ns/a')).toEqual({ namespace: 'ns', name: 'a' });
    expect(splitKey('node-1')).toEqual({ name: 'node-1' });
    expect(() => splitKey('a/b/c')).toThrow(/malformed/);
    expect(() => splitKey('/a')).toThrow(/malformed/);
    expect(() => objectKey({ kind: 'Pod', metadata: {} })).toThrow(/metadata.name/);
  });
});

describe('owner fan-in', () => {
  const owner = { group: 'bolide.dev', kind: 'BrokerCluster' };

  it('maps a child to its controller owner of the watched kind, in the child namespace', () => {
    expect(ownerKey(child('c1-broker-0', [clusterRef('c1')]), owner)).toBe('prod/c1');
    // Version does not matter, group and kind do.
    expect(ownerKey(child('x', [{ ...clusterRef('c1'), apiVersion: 'bolide.dev/v1' }]), owner)).toBe(
      'prod/c1',
    );
    expect(
      ownerKey(child('x', [{ ...clusterRef('c1'), apiVersion: 'other.dev/v1alpha1' }]), owner),
    ).toBeUndefined();
    expect(ownerKey(child('x', [{ ...clusterRef('c1'), kind: 'Topic' }]), owner)).toBeUndefined();
    // Only the controller reference counts.
    expect(ownerKey(child('x', [clusterRef('c1', false)]), owner)).toBeUndefined();
    expect(ownerKey(child('x', [clusterRef('plain', false), clusterRef('boss')]), owner)).toBe('prod/boss');
    expect(ownerKey({ metadata: { name: 'bare', namespace: 'prod' } }, owner)).toBeUndefined();
  });

  it('enqueues the owner on add, update and delete, and both owners when a child changes hands', () => {
    const s = sink();
    const h = enqueueOwner(s, owner);
    h.onAdd?.(child('a', [clusterRef('c1')]));
    h.onDelete?.(child('a', [clusterRef('c1')]));
    h.onAdd?.(child('orphan', []));
    h.onUpdate?.(child('a', [clusterRef('c1')]), child('a', [clusterRef('c2')]));
    h.onUpdate?.(child('a', [clusterRef('c2')]), child('a', [clusterRef('c2')]));
    expect(s.keys).toEqual(['prod/c1', 'prod/c1', 'prod/c1', 'prod/c2', 'prod/c2']);
  });

  it('enqueues primaries by their own key and mapped objects by the mapping', () => {
    const s = sink();
    const primary = enqueueObject(s);
    primary.onAdd?.({ metadata: { name: 't', namespace: 'ns' } });
    primary.onUpdate?.(
      { metadata: { name: 't', namespace: 'ns' } },
      { metadata: { name: 't', namespace: 'ns' } },
    );
    primary.onDelete?.({ metadata: { name: 't', namespace: 'ns' } });
    const mapped = enqueueMapped<KubeObject & { spec?: { cluster?: string } }>(s, (o) =>
      o.spec?.cluster ? [`${o.metadata?.namespace}/${o.spec.cluster}`] : [],
    );
    mapped.onUpdate?.(
      { metadata: { name: 't', namespace: 'ns' }, spec: { cluster: 'old' } },
      { metadata: { name: 't', namespace: 'ns' }, spec: { cluster: 'new' } },
    );
    mapped.onAdd?.({ metadata: { name: 'u', namespace: 'ns' } });
    expect(s.keys).toEqual(['ns/t', 'ns/t', 'ns/t', 'ns/old', 'ns/new']);
  });

  it('drops status-only updates but passes spec, label, finalizer and deletion changes', () => {
    const s = sink();
    const h = ignoreStatusOnlyUpdates(enqueueObject(s));
    const base = { metadata: { name: 'a', namespace: 'ns', generation: 1, labels: { x: '1' } } };
    h.onUpdate?.(base, { ...base, status: { ready: true } } as KubeObject);
    h.onUpdate?.(base, { metadata: { ...base.metadata, generation: 2 } });
    h.onUpdate?.(base, { metadata: { ...base.metadata, labels: { x: '2' } } });
    h.onUpdate?.(base, { metadata: { ...base.metadata, finalizers: ['f'] } });
    h.onUpdate?.(base, { metadata: { ...base.metadata, deletionTimestamp: '2025-01-01T00:00:00Z' } });
    h.onAdd?.(base);
    expect(s.keys).toEqual(['ns/a', 'ns/a', 'ns/a', 'ns/a', 'ns/a']);
  });
});
