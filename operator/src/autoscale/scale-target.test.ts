import { describe, expect, it } from 'vitest';
import { kubeScaleTarget } from './scale-target.js';

describe('kubeScaleTarget', () => {
  it('resolves the kind, reads and writes spec.replicas through /scale', async () => {
    const calls: string[] = [];
    const stored = new Map<string, number>([['shop/workers', 3]]);
    const target = kubeScaleTarget<string>({
      resolve: async (apiVersion, kind) => {
        calls.push(`resolve ${apiVersion} ${kind}`);
        return `${apiVersion}/${kind}`;
      },
      getScale: async (type, name, namespace) => {
        calls.push(`get ${type} ${namespace}/${name}`);
        const replicas = stored.get(`${namespace}/${name}`);
        return replicas === undefined ? {} : { spec: { replicas } };
      },
      setScale: async (type, name, namespace, replicas) => {
        calls.push(`set ${type} ${namespace}/${name} ${replicas}`);
        stored.set(`${namespace}/${name}`, replicas);
      },
    });
    const ref = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'workers' };
    expect(await target.getReplicas('shop', ref)).toBe(3);
    await target.setReplicas('shop', ref, 5);
    expect(await target.getReplicas('shop', ref)).toBe(5);
    expect(await target.getReplicas('shop', { ...ref, name: 'fresh' })).toBe(0);
    expect(calls.slice(0, 4)).toEqual([
      'resolve apps/v1 StatefulSet',
      'get apps/v1/StatefulSet shop/workers',
      'resolve apps/v1 StatefulSet',
      'set apps/v1/StatefulSet shop/workers 5',
    ]);
  });
});
