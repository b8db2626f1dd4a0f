// Two LeaderElectors on one Lease of a real kube-apiserver: exactly one leads; the other takes over
// at once when the leader stops (releasing the lease) and after the lease expires when it crashes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BuiltinResources,
  HttpsTransport,
  KubeClient,
  LeaderElector,
  type Lease,
} from '../../operator/src/kube/index.js';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.js';

const ns = 'kube-system';

async function eventually(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Lease leader election against a real API server', () => {
  let cp: ControlPlane;
  const clients: KubeClient[] = [];

  /** Each replica gets its own client (own connections), as separate pods would. */
  function replica(identity: string, lease: string, log: string[], releaseOnStop = true) {
    const client = new KubeClient(new HttpsTransport(cp.kubeConfig));
    clients.push(client);
    return new LeaderElector(client, {
      namespace: ns,
      name: lease,
      identity,
      leaseDurationMs: 5000,
      renewDeadlineMs: 3500,
      retryPeriodMs: 300,
      releaseOnStop,
      onStartedLeading: () => log.push(`${identity} started`),
      onStoppedLeading: () => log.push(`${identity} stopped`),
    });
  }

  beforeAll(async () => {
    cp = await startControlPlane();
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await cp?.stop();
  });

  it('lets one of two replicas lead and hands over when the leader stops', async () => {
    const log: string[] = [];
    const a = replica('op-a', 'handover', log);
    const b = replica('op-b', 'handover', log);
    a.start();
    b.start();
    await eventually('a leader', () => a.isLeader() || b.isLeader());
    // Hold for several renew periods: never two leaders, and the same one throughout.
    const first = a.isLeader() ? a : b;
    const second = first === a ? b : a;
    for (let i = 0; i < 40; i++) {
      expect(a.isLeader() && b.isLeader()).toBe(false);
      expect(first.isLeader()).toBe(true);
      await new Promise((r) => setTimeout(r, 25));
    }
    const reader = new KubeClient(new HttpsTransport(cp.kubeConfig));
    clients.push(reader);
    const held = await reader.get<Lease>(BuiltinResources.Lease, 'handover', ns);
    const firstId = first === a ? 'op-a' : 'op-b';
    expect(held?.spec?.holderIdentity).toBe(firstId);
    expect(held?.spec?.leaseDurationSeconds).toBe(5);
    expect(second.currentLeader()).toBe(firstId);

    await first.stop();
    expect(first.isLeader()).toBe(false);
    await eventually('takeover after release', () => second.isLeader());
    const taken = await reader.get<Lease>(BuiltinResources.Lease, 'handover', ns);
    expect(taken?.spec?.holderIdentity).toBe(first === a ? 'op-b' : 'op-a');
    expect(taken?.spec?.leaseTransitions).toBe(1);
    expect(log).toEqual([
      `${firstId} started`,
      `${firstId} stopped`,
      `${first === a ? 'op-b' : 'op-a'} started`,
    ]);
    await second.stop();
  });

  it('takes over from a crashed leader only once the lease has expired', async () => {
    const log: string[] = [];
    const a = replica('op-a', 'crash', log, false);
    a.start();
    await a.whenLeading();
    const b = replica('op-b', 'crash', log);
    b.start();
    // b has to see the record unchanged for a whole lease duration before it may take it.
    await new Promise((r) => setTimeout(r, 1000));
    expect(b.isLeader()).toBe(false);
    const crashedAt = Date.now();
    await a.stop(); // releaseOnStop=false: the lease stays with op-a, as after a crash
    await eventually('takeover after expiry', () => b.isLeader(), 20_000);
    // A lower bound only (slowness can only make it later): op-a renewed at most 300 ms before stopping.
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(4000);
    await b.stop();
  });
});
