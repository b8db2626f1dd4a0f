import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from './control-plane.js';
import { type ControllerManager, startControllerManager } from './controller-manager.js';
import { type NodeAgent, startNodeAgent } from './node-agent/agent.js';
import { REPO_ROOT } from './node-agent/images.js';
import { eventually } from './polling.js';

const NS = 'agent-check';
const ECHO = join(REPO_ROOT, 'test/fixtures/local-cluster/echo-server.mjs');

interface EchoInfo {
  podName: string;
  podIP: string;
  greeting: string;
  starts: number;
  resolved: string[] | string | null;
  hostname: string;
}

async function echo(url: string): Promise<EchoInfo> {
  return (await (await fetch(url)).json()) as EchoInfo;
}

const ready = (pod: V1Pod | undefined) =>
  pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? pod : undefined;

describe('node agent: pods as local processes', () => {
  let cp: ControlPlane;
  let kcm: ControllerManager;
  let agent: NodeAgent;
  let core: CoreV1Api;

  beforeAll(async () => {
    cp = await startControlPlane();
    kcm = await startControllerManager(cp);
    agent = await startNodeAgent({
      kubeConfig: cp.kubeConfig,
      images: { 'test/echo': { entrypoint: ['node', ECHO], cmd: [] } },
      log: process.env.BOLIDE_AGENT_DEBUG ? (m) => console.error(`[agent] ${m}`) : undefined,
    });
    core = cp.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await eventually('default ServiceAccount', async () =>
      (await core.listNamespacedServiceAccount({ namespace: NS })).items.length > 0 ? true : undefined,
    );
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await kcm?.stop();
    await cp?.stop();
  });

  it('registers a Ready node with capacity', async () => {
    const node = await core.readNode({ name: agent.nodeName });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(Number(node.status?.capacity?.cpu)).toBeGreaterThan(0);
    expect(node.status?.addresses?.[0]?.address).toBe(agent.nodeIp);
  });

  it('runs a StatefulSet: own IPs, downward API, configMap files, cluster DNS, PVC data across pod deletion', async () => {
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'demo' }, data: { greeting: 'hello' } },
    });
    await core.createNamespacedService({
      namespace: NS,
      body: {
        metadata: { name: 'echo' },
        spec: { clusterIP: 'None', selector: { app: 'echo' }, ports: [{ port: 8080 }] },
      },
    });
    const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
    await apps.createNamespacedStatefulSet({
      namespace: NS,
      body: {
        metadata: { name: 'echo' },
        spec: {
          serviceName: 'echo',
          replicas: 2,
          selector: { matchLabels: { app: 'echo' } },
          template: {
            metadata: { labels: { app: 'echo' } },
            spec: {
              terminationGracePeriodSeconds: 5,
              containers: [
                {
                  name: 'echo',
                  image: 'test/echo:1',
                  env: [
                    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                  ],
                  ports: [{ name: 'http', containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 },
                  volumeMounts: [
                    { name: 'config', mountPath: '/etc/demo' },
                    { name: 'data', mountPath: '/data' },
                  ],
                },
              ],
              volumes: [{ name: 'config', configMap: { name: 'demo' } }],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: 'data' },
              spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
            },
          ],
        },
      },
    });
    const pods = await eventually(
      'two Ready pods',
      async () => {
        const list = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=echo' });
        return list.items.length === 2 && list.items.every(ready) ? list.items : undefined;
      },
      90_000,
    );
    const ips = pods.map((p) => p.status?.podIP);
    expect(new Set(ips).size).toBe(2);
    const prefix = agent.nodeIp.split('.').slice(0, 3).join('.');
    for (const ip of ips) expect(ip?.startsWith(`${prefix}.`)).toBe(true);
    const echo0 = pods.find((p) => p.metadata?.name === 'echo-0');
    const ip0 = echo0?.status?.podIP ?? '';
    expect(echo0?.status?.containerStatuses?.[0]).toMatchObject({
      ready: true,
      restartCount: 0,
      started: true,
    });
    expect(echo0?.status?.containerStatuses?.[0]?.state?.running).toBeDefined();

    const info = await (
      await fetch(`http://${ip0}:8080/?resolve=echo-1.echo.${NS}.svc.cluster.local`)
    ).json();
    const ip1 = pods.find((p) => p.metadata?.name === 'echo-1')?.status?.podIP;
    expect(info).toMatchObject({
      podName: 'echo-0',
      podIP: ip0,
      greeting: 'hello',
      starts: 1,
      resolved: [ip1],
      hostname: 'echo-0',
    });
    // The short Service name through the search list; the agent's view of readiness lags by a poll.
    await eventually('both ready pods behind the Service name', async () => {
      const short = await echo(`http://${ip0}:8080/?resolve=echo`);
      return Array.isArray(short.resolved) && short.resolved.length === 2 ? short : undefined;
    });
    const short = await echo(`http://${ip0}:8080/?resolve=echo`);
    expect([...(short.resolved as string[])].sort()).toEqual([...ips].sort());
    const missing = await echo(`http://${ip0}:8080/?resolve=nothing.${NS}.svc.cluster.local`);
    expect(missing.resolved).toBe('ENOTFOUND');

    // The PVC was bound to a PV the agent provisioned.
    const pvc = await core.readNamespacedPersistentVolumeClaim({ namespace: NS, name: 'data-echo-0' });
    expect(pvc.status?.phase).toBe('Bound');

    // Delete echo-0: SIGTERM, pod object removed, the StatefulSet recreates it on the same data.
    const oldUid = echo0?.metadata?.uid;
    await core.deleteNamespacedPod({ namespace: NS, name: 'echo-0' });
    const again = await eventually(
      'echo-0 back and Ready',
      async () => {
        const pod = await core.readNamespacedPod({ namespace: NS, name: 'echo-0' });
        return pod.metadata?.uid !== oldUid ? ready(pod) : undefined;
      },
      90_000,
    );
    const after = await echo(`http://${again.status?.podIP}:8080/`);
    expect(after.starts).toBe(2);
    expect(after.podName).toBe('echo-0');
  }, 240_000);

  it('restarts a container that exits and counts it', async () => {
    const pod = await core.readNamespacedPod({ namespace: NS, name: 'echo-1' });
    await fetch(`http://${pod.status?.podIP}:8080/exit`);
    const restarted = await eventually('restartCount 1 and Ready', async () => {
      const p = await core.readNamespacedPod({ namespace: NS, name: 'echo-1' });
      return p.status?.containerStatuses?.[0]?.restartCount === 1 ? ready(p) : undefined;
    });
    expect(restarted.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(3);
    const info = await echo(`http://${restarted.status?.podIP}:8080/`);
    expect(info.starts).toBe(2);
  }, 60_000);

  it('its watchdog removes processes, namespaces, bridge and folder when the agent process is killed', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO_ROOT, 'test/fixtures/local-cluster/run-agent.ts'),
        cp.kubeconfigPath,
        ECHO,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const started = await new Promise<{ nodeName: string; dir: string }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(JSON.parse(out));
      });
      child.once('exit', (code) => reject(new Error(`agent process exited ${code}`)));
    });
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'orphan' },
        spec: {
          nodeName: started.nodeName,
          containers: [
            { name: 'echo', image: 'test/echo:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
        },
      },
    });
    const running = await eventually('orphan running', async () => {
      const pod = await core.readNamespacedPod({ namespace: NS, name: 'orphan' });
      return pod.status?.containerStatuses?.[0]?.state?.running ? pod : undefined;
    });
    const pid = Number(running.status?.containerStatuses?.[0]?.containerID?.replace('local://', ''));
    expect(() => process.kill(pid, 0)).not.toThrow();
    child.kill('SIGKILL');
    const id = started.nodeName.replace('bolide-node-', '');
    await eventually(
      'watchdog cleanup',
      async () => {
        const alive = (() => {
          try {
            process.kill(pid, 0);
            return true;
          } catch {
            return false;
          }
        })();
        const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
        const links = execFileSync('ip', ['link'], { encoding: 'utf8' });
        return !alive &&
          !netns.includes(`bolide-${id}-`) &&
          !links.includes(`bolbr${id}`) &&
          !existsSync(started.dir)
          ? true
          : undefined;
      },
      20_000,
    );
    await core.deleteNamespacedPod({ namespace: NS, name: 'orphan', gracePeriodSeconds: 0 });
    await core.deleteNode({ name: started.nodeName });
  }, 90_000);

  it('stop() removes processes, network namespaces, the bridge and its folder', async () => {
    const info = agent.podInfo(NS, 'echo-1');
    const pid = info?.pid('echo');
    expect(pid).toBeGreaterThan(0);
    const dir = agent.dir;
    await agent.stop();
    expect(() => process.kill(pid ?? 0, 0)).toThrow();
    const id = agent.nodeName.replace('bolide-node-', '');
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`bolide-${id}-`);
    expect(execFileSync('ip', ['link'], { encoding: 'utf8' })).not.toContain(`bolbr${id}`);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});
