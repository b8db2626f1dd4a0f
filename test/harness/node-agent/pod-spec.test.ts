import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { resolveClusterName } from './dns.js';
import { containerArgv, imageRepository, localImage } from './images.js';
import {
  containerEnv,
  expandVars,
  fieldRefValue,
  probePort,
  restartDelayMs,
  shouldRestart,
} from './pod-spec.js';

const pod: V1Pod = {
  metadata: { name: 'web-0', namespace: 'shop', uid: 'u1', labels: { app: 'web' } },
  spec: { nodeName: 'n1', subdomain: 'web', containers: [] },
  status: { podIP: '10.1.2.3' },
};

describe('pod spec helpers', () => {
  it('reads downward-API fields and refuses unknown ones', () => {
    expect(fieldRefValue(pod, 'metadata.name')).toBe('web-0');
    expect(fieldRefValue(pod, 'status.podIP')).toBe('10.1.2.3');
    expect(fieldRefValue(pod, "metadata.labels['app']")).toBe('web');
    expect(() => fieldRefValue(pod, 'spec.bogus')).toThrow(/unsupported fieldRef/);
  });

  it('expands $(VAR) like Kubernetes: known names, $$ escapes, unknown names kept', () => {
    expect(expandVars('$(A)-$(B)-$$(A)', { A: 'x' })).toBe('x-$(B)-$(A)');
  });

  it('builds env from values, fieldRefs and configMap keys in order', async () => {
    const env = await containerEnv(
      pod,
      {
        name: 'c',
        env: [
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'ADDR', value: '$(IP):80' },
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cm', key: 'mode' } } },
        ],
      },
      {
        configMapKey: async (ns, name, key) =>
          ns === 'shop' && name === 'cm' && key === 'mode' ? 'fast' : undefined,
        secretKey: async () => undefined,
        configMapData: async () => ({}),
      },
    );
    expect(env).toEqual({ IP: '10.1.2.3', ADDR: '10.1.2.3:80', MODE: 'fast' });
  });

  it('resolves named and numeric probe ports', () => {
    const container = { name: 'c', ports: [{ name: 'http', containerPort: 8080 }] };
    expect(probePort(container, 'http')).toBe(8080);
    expect(probePort(container, 9000)).toBe(9000);
    expect(() => probePort(container, 'nope')).toThrow(/no port named nope/);
  });

  it('follows restartPolicy and caps the back-off', () => {
    expect(shouldRestart(undefined, 0)).toBe(true);
    expect(shouldRestart('OnFailure', 0)).toBe(false);
    expect(shouldRestart('OnFailure', 1)).toBe(true);
    expect(shouldRestart('Never', 1)).toBe(false);
    expect(restartDelayMs(0)).toBe(1000);
    expect(restartDelayMs(20)).toBe(10_000);
  });

  it('maps images to local programs by repository, with command/args over ENTRYPOINT/CMD', () => {
    expect(imageRepository('docker.io/bolide/broker:0.1.0@sha256:abc')).toBe('bolide/broker');
    expect(imageRepository('localhost:5000/bolide/broker')).toBe('localhost:5000/bolide/broker');
    const broker = localImage('bolide/broker:0.1.0');
    expect(containerArgv(broker)).toEqual(['bolide', 'standalone', '--data-dir', '/var/lib/bolide']);
    expect(containerArgv(broker, undefined, ['consume'])).toEqual(['bolide', 'consume']);
    expect(containerArgv(broker, ['/bin/sh', '-c'], ['x'])).toEqual(['/bin/sh', '-c', 'x']);
    expect(() => localImage('nginx:1')).toThrow(/no local program for image nginx:1/);
  });
});

describe('cluster DNS names', () => {
  const ready = (name: string, ip: string, isReady: boolean): V1Pod => ({
    metadata: { name, namespace: 'shop', labels: { app: 'web' } },
    spec: { subdomain: 'web', containers: [] },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: isReady ? 'True' : 'False' }] },
  });
  const pods = [ready('web-0', '10.0.0.2', true), ready('web-1', '10.0.0.3', false)];
  const service = (publish: boolean): V1Service => ({
    metadata: { name: 'web', namespace: 'shop' },
    spec: { clusterIP: 'None', selector: { app: 'web' }, publishNotReadyAddresses: publish },
  });

  it('answers Service names with ready pods, or all with publishNotReadyAddresses', () => {
    expect(
      resolveClusterName(
        { pods: () => pods, services: () => [service(false)] },
        'web.shop.svc.cluster.local',
      ),
    ).toEqual(['10.0.0.2']);
    expect(
      resolveClusterName(
        { pods: () => pods, services: () => [service(true)] },
        'WEB.shop.svc.cluster.local.',
      ),
    ).toEqual(['10.0.0.2', '10.0.0.3']);
  });

  it('answers pod names under their subdomain Service, and NXDOMAIN otherwise', () => {
    const view = { pods: () => pods, services: () => [service(false)] };
    expect(resolveClusterName(view, 'web-1.web.shop.svc.cluster.local')).toEqual(['10.0.0.3']);
    expect(resolveClusterName(view, 'web-9.web.shop.svc.cluster.local')).toBeUndefined();
    expect(resolveClusterName(view, 'web.other.svc.cluster.local')).toBeUndefined();
    expect(resolveClusterName(view, 'example.com')).toBeUndefined();
  });
});
