// The `bolide-operator` program as real processes against a real kube-apiserver: two replicas with
// Lease leader election → only the leader reconciles; SIGTERM makes the leader exit 0 and release the
// Lease, and the other replica takes over and reconciles; /healthz, /readyz and /metrics answer.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerCluster } from '../../operator/src/api/index.js';
import type { ConfigMap } from '../../operator/src/desired/index.js';
import type { KubeObject, Lease } from '../../operator/src/kube/index.js';
import {
  BolideResources,
  BuiltinResources,
  eventually,
  type OperatorTestEnv,
  startOperatorTestEnv,
} from './operator-support.js';

const ns = 'proc-test';
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(REPO, 'operator', 'src', 'main.ts');

interface Replica {
  process: ChildProcess;
  identity: string;
  base: string;
  exited: Promise<number>;
  stderr: () => string;
}

async function spawnReplica(kubeconfig: string): Promise<Replica> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      MAIN,
      '--kubeconfig',
      kubeconfig,
      '--namespace',
      ns,
      '--metrics-port',
      '0',
      '--leader-elect',
      'true',
      '--lease-name',
      'bolide-operator',
      '--lease-namespace',
      ns,
      '--lease-duration-ms',
      '3000',
    ],
    {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-20_000);
  });
  const exited = new Promise<number>((r) =>
    child.once('exit', (code, signal) => r(code ?? (signal ? 128 : 1))),
  );
  const line = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`operator did not start:\n${err}`)), 60_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const found = out.split('\n').find((l) => l.startsWith('bolide-operator ready'));
      if (found) {
        clearTimeout(timer);
        res(found);
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`operator exited with ${code}:\n${err}`));
    });
  });
  const field = (k: string) => new RegExp(`${k}=(\\S+)`).exec(line)?.[1] ?? '';
  return {
    process: child,
    identity: field('identity'),
    base: `http://127.0.0.1:${field('http')}`,
    exited,
    stderr: () => err,
  };
}

const metricsOf = async (r: Replica) => (await fetch(`${r.base}/metrics`)).text();
const isLeader = async (r: Replica) => /^bolide_operator_leader 1$/m.test(await metricsOf(r));
const reconciles = async (r: Replica) => {
  const m = /^bolide_operator_reconciles_total\{controller="BrokerCluster",result="success"\} (\d+)$/m.exec(
    await metricsOf(r),
  );
  return m ? Number(m[1]) : 0;
};

describe('bolide-operator processes with leader election', () => {
  let env: OperatorTestEnv;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    env = await startOperatorTestEnv(ns, {}, { inProcess: false });
    replicas.push(await spawnReplica(env.cp.kubeconfigPath), await spawnReplica(env.cp.kubeconfigPath));
  });

  afterAll(async () => {
    for (const r of replicas) {
      if (r.process.exitCode === null && r.process.signalCode === null) r.process.kill('SIGKILL');
    }
    await env?.stop();
  });

  it('serves /healthz, /readyz and /metrics on both replicas', async () => {
    for (const r of replicas) {
      expect((await fetch(`${r.base}/healthz`)).status).toBe(200);
      await eventually('ready', async () => (await fetch(`${r.base}/readyz`)).status === 200);
      expect(await metricsOf(r)).toContain('bolide_operator_workqueue_depth');
    }
  });

  it('only the leader reconciles', async () => {
    const leader = await eventually('a leader', async () => {
      const flags = await Promise.all(replicas.map(isLeader));
      return flags.filter(Boolean).length === 1 ? replicas[flags.indexOf(true)] : undefined;
    });
    const follower = replicas.find((r) => r !== leader)!;
    const lease = await env.client.get<Lease>(BuiltinResources.Lease, 'bolide-operator', ns);
    expect(lease?.spec?.holderIdentity).toBe(leader.identity);

    await env.client.create<BrokerCluster & KubeObject>({
      apiVersion: 'bolide.dev/v1alpha1',
      kind: 'BrokerCluster',
      metadata: { name: 'ha', namespace: ns },
      spec: {},
    });
    await eventually('children created', () =>
      env.client.get(BuiltinResources.StatefulSet, 'ha-broker-0', ns),
    );
    await eventually('leader counted reconciles', async () => (await reconciles(leader)) > 0);
    expect(await reconciles(follower)).toBe(0);
    expect(await isLeader(follower)).toBe(false);
  });

  it('SIGTERM: the leader exits 0 and releases the Lease; the other replica takes over and reconciles', async () => {
    const flags = await Promise.all(replicas.map(isLeader));
    const leader = replicas[flags.indexOf(true)];
    const follower = replicas.find((r) => r !== leader)!;
    leader.process.kill('SIGTERM');
    expect(await leader.exited).toBe(0);
    await eventually('follower leads', () => isLeader(follower), 20_000);
    const lease = await env.client.get<Lease>(BuiltinResources.Lease, 'bolide-operator', ns);
    expect(lease?.spec?.holderIdentity).toBe(follower.identity);

    const cr = (await env.client.get<BrokerCluster & KubeObject>(BolideResources.BrokerCluster, 'ha', ns))!;
    await env.client.patch(cr, { spec: { flushMode: 'Sync' } });
    await eventually('new leader rewrote broker.conf', async () =>
      (
        await env.client.get<ConfigMap & KubeObject>(BuiltinResources.ConfigMap, 'ha-broker-0-config', ns)
      )?.data['broker.conf'].includes('flushDiskType=SYNC_FLUSH'),
    );
    expect(await reconciles(follower)).toBeGreaterThan(0);
  });
});
