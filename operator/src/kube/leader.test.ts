import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { ApiError, ConflictError } from './errors.js';
import { type LeaderElectionOptions, LeaderElector, type Lease } from './leader.js';
import type { KubeObject } from './objects.js';

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
};

/** One Lease object with resourceVersion checks, like the API server's optimistic concurrency. */
class FakeLeases {
  lease: Lease | undefined;
  private rv = 1;
  failing = new Set<string>();

  async get<T extends KubeObject>(): Promise<T | undefined> {
    if (this.failing.has('get')) throw new ApiError(503, { message: 'unavailable' }, 'get');
    return structuredClone(this.lease) as T | undefined;
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    if (this.lease) throw new ApiError(409, { reason: 'AlreadyExists' }, 'create');
    this.lease = {
      ...structuredClone(obj),
      metadata: { ...obj.metadata, resourceVersion: String(++this.rv) },
    };
    return structuredClone(this.lease) as T;
  }

  async replace<T extends KubeObject>(obj: T): Promise<T> {
    if (this.failing.has('replace')) throw new ApiError(503, { message: 'unavailable' }, 'replace');
    if (obj.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
      throw new ConflictError(409, { reason: 'Conflict' }, 'replace');
    }
    this.lease = {
      ...structuredClone(obj),
      metadata: { ...obj.metadata, resourceVersion: String(++this.rv) },
    };
    return structuredClone(this.lease) as T;
  }
}

function elector(
  store: FakeLeases,
  clock: ManualClock,
  identity: string,
  extra: Partial<LeaderElectionOptions> = {},
) {
  const log: string[] = [];
  const e = new LeaderElector(store, {
    namespace: 'ops',
    name: 'bolide',
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock,
    random: () => 0,
    onStartedLeading: () => log.push('started'),
    onStoppedLeading: () => log.push('stopped'),
    ...extra,
  });
  return { e, log };
}

async function tick(clock: ManualClock, ms: number, step = 500) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await settle();
  }
}

describe('LeaderElector', () => {
  it('lets exactly one of two candidates lead and hands over at once when the leader stops', async () => {
    const store = new FakeLeases();
    const clock = new ManualClock();
    const a = elector(store, clock, 'a');
    const b = elector(store, clock, 'b');
    a.e.start();
    await settle();
    b.e.start();
    await tick(clock, 30_000);
    expect(a.e.isLeader()).toBe(true);
    expect(b.e.isLeader()).toBe(false);
    expect(b.e.currentLeader()).toBe('a');
    expect(store.lease?.spec?.holderIdentity).toBe('a');
    expect(store.lease?.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    await a.e.stop();
    expect(a.log).toEqual(['started', 'stopped']);
    expect(store.lease?.spec?.holderIdentity).toBe('');
    await tick(clock, 3000);
    expect(b.e.isLeader()).toBe(true);
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    await b.e.stop();
  });

  it('takes over a crashed leader only after the lease duration, measured on its own clock', async () => {
    const store = new FakeLeases();
    const clock = new ManualClock();
    const a = elector(store, clock, 'a', { releaseOnStop: false });
    a.e.start();
    await settle();
    await a.e.whenLeading();
    await a.e.stop();
    const b = elector(store, clock, 'b');
    b.e.start();
    await tick(clock, 14_000);
    expect(b.e.isLeader()).toBe(false);
    await tick(clock, 4000);
    expect(b.e.isLeader()).toBe(true);
    await b.e.stop();
  });

  it('steps down when it cannot renew within the renew deadline', async () => {
    const store = new FakeLeases();
    const clock = new ManualClock();
    const a = elector(store, clock, 'a');
    a.e.start();
    await a.e.whenLeading();
    store.failing.add('get');
    await tick(clock, 8000);
    expect(a.e.isLeader()).toBe(true);
    await tick(clock, 4000);
    expect(a.e.isLeader()).toBe(false);
    expect(a.log).toEqual(['started', 'stopped']);
    // It has stopped for good; waiting for leadership returns at once.
    await a.e.whenLeading();
    await a.e.stop();
  });

  it('steps down at once when it sees another holder', async () => {
    const store = new FakeLeases();
    const clock = new ManualClock();
    const a = elector(store, clock, 'a');
    a.e.start();
    await a.e.whenLeading();
    // Someone (e.g. after a long pause of ours) took the lease.
    store.lease = { ...store.lease!, spec: { ...store.lease!.spec, holderIdentity: 'intruder' } };
    await tick(clock, 2500);
    expect(a.e.isLeader()).toBe(false);
    await a.e.stop();
  });

  it('refuses inconsistent durations', () => {
    const store = new FakeLeases();
    expect(
      () =>
        new LeaderElector(store, {
          namespace: 'x',
          name: 'l',
          identity: 'a',
          leaseDurationMs: 5000,
          renewDeadlineMs: 6000,
        }),
    ).toThrow(/leaseDuration > renewDeadline/);
    expect(() => new LeaderElector(store, { namespace: 'x', name: 'l', identity: '' })).toThrow(/identity/);
  });
});
