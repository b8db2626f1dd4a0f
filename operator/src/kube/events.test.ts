import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { ApiError } from './errors.js';
import { EventRecorder, rfc3339, rfc3339Micro } from './events.js';
import type { KubeObject } from './objects.js';

class FakeEventApi {
  readonly events = new Map<string, Record<string, unknown>>();
  failCreate = false;

  async create<T extends KubeObject>(obj: T): Promise<T> {
    if (this.failCreate) throw new ApiError(403, { reason: 'Forbidden', message: 'no' }, 'create');
    this.events.set(obj.metadata!.name!, structuredClone(obj) as Record<string, unknown>);
    return obj;
  }

  async patch<T extends KubeObject>(obj: KubeObject, patch: unknown): Promise<T> {
    const existing = this.events.get(obj.metadata!.name!);
    if (!existing) throw new ApiError(404, { reason: 'NotFound' }, 'patch');
    Object.assign(existing, patch);
    return existing as T;
  }
}

const topic: KubeObject = {
  apiVersion: 'bolide.dev/v1alpha1',
  kind: 'Topic',
  metadata: { name: 'orders', namespace: 'shop', uid: 'u-1', resourceVersion: '7' },
};

describe('EventRecorder', () => {
  it('writes a core/v1 Event about the object and counts repeats on the same Event', async () => {
    const api = new FakeEventApi();
    const clock = new ManualClock(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
    const rec = new EventRecorder(api, { clock, instance: 'op-0' });
    await rec.record(
      topic,
      'Warning',
      'BrokerUnreachable',
      'broker-a at 10.0.0.1:10911 refused the connection',
    );
    clock.advance(30_000);
    await Promise.all([
      rec.record(topic, 'Warning', 'BrokerUnreachable', 'broker-a at 10.0.0.1:10911 refused the connection'),
      rec.record(topic, 'Warning', 'BrokerUnreachable', 'broker-a at 10.0.0.1:10911 refused the connection'),
    ]);
    await rec.record(topic, 'Normal', 'Created', 'topic created on 2 brokers');
    expect(api.events.size).toBe(2);
    const warning = [...api.events.values()].find((e) => e.reason === 'BrokerUnreachable')!;
    expect(warning).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: 'shop' },
      involvedObject: {
        kind: 'Topic',
        name: 'orders',
        namespace: 'shop',
        uid: 'u-1',
        apiVersion: 'bolide.dev/v1alpha1',
      },
      type: 'Warning',
      count: 3,
      firstTimestamp: '2025-01-02T03:04:05Z',
      lastTimestamp: '2025-01-02T03:04:35Z',
      reportingComponent: 'bolide-operator',
      reportingInstance: 'op-0',
    });
    expect((warning.metadata as { name: string }).name).toMatch(/^orders\.[0-9a-f]+$/);
  });

  it('starts a new Event after the window or when the old one expired', async () => {
    const api = new FakeEventApi();
    const clock = new ManualClock();
    const rec = new EventRecorder(api, { clock, dedupWindowMs: 60_000 });
    await rec.record(topic, 'Normal', 'Synced', 'ok');
    clock.advance(61_000);
    await rec.record(topic, 'Normal', 'Synced', 'ok');
    expect(api.events.size).toBe(2);
    api.events.clear();
    clock.advance(1000);
    await rec.record(topic, 'Normal', 'Synced', 'ok');
    expect(api.events.size).toBe(1);
    expect([...api.events.values()][0].count).toBe(1);
  });

  it('never throws, truncates long messages, and forgets the oldest beyond its cap', async () => {
    const api = new FakeEventApi();
    const clock = new ManualClock();
    const warnings: string[] = [];
    const rec = new EventRecorder(api, {
      clock,
      maxTracked: 2,
      logger: { info() {}, error() {}, warn: (m) => warnings.push(m) },
    });
    api.failCreate = true;
    await expect(rec.record(topic, 'Normal', 'X', 'y')).resolves.toBeUndefined();
    expect(warnings).toEqual(['could not record event']);
    api.failCreate = false;
    await rec.record(topic, 'Normal', 'Long', 'x'.repeat(5000));
    expect(([...api.events.values()][0].message as string).length).toBe(1024);
    await rec.record(topic, 'Normal', 'B', 'b');
    await rec.record(topic, 'Normal', 'C', 'c');
    // 'Long' was evicted, so a repeat creates a new Event rather than patching.
    await rec.record(topic, 'Normal', 'Long', 'x'.repeat(5000));
    expect(api.events.size).toBe(4);
  });

  it('formats metav1.Time and MicroTime the way the API server parses them', () => {
    const ms = Date.UTC(2025, 5, 6, 7, 8, 9, 12);
    expect(rfc3339(ms)).toBe('2025-06-06T07:08:09Z');
    expect(rfc3339Micro(ms)).toBe('2025-06-06T07:08:09.012000Z');
  });
});
