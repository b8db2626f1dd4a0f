import { describe, expect, it } from 'vitest';
import { AlertRequestError, alertHandler, groupKeysFromAlerts } from './alerts.js';

const webhook = (alerts: unknown[], extra: Record<string, unknown> = {}) => ({
  version: '4',
  status: 'firing',
  receiver: 'bolide-operator',
  groupKey: '{}:{namespace="shop", consumergroup="billing"}',
  truncatedAlerts: 0,
  externalURL: 'http://alertmanager:9093',
  alerts,
  ...extra,
});

const alert = (labels: Record<string, unknown>, status = 'firing') => ({
  status,
  labels: { alertname: 'BolideConsumerGroupLagHigh', ...labels },
  annotations: { summary: 'falling behind' },
  startsAt: '2025-01-01T00:00:00Z',
  endsAt: '0001-01-01T00:00:00Z',
  fingerprint: 'abc',
});

function refusal(fn: () => unknown): AlertRequestError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AlertRequestError) return err;
    throw err;
  }
  throw new Error('expected an AlertRequestError');
}

describe('groupKeysFromAlerts', () => {
  it('reads namespace + consumergroup of every alert, firing or resolved, each group once', () => {
    const keys = groupKeysFromAlerts(
      webhook([
        alert({ namespace: 'shop', consumergroup: 'billing' }),
        alert({ namespace: 'shop', consumergroup: 'billing', instance: 'x' }),
        alert({ namespace: 'ops', consumergroup: 'audit.v2' }, 'resolved'),
      ]),
    );
    expect(keys).toEqual(['shop/billing', 'ops/audit.v2']);
  });

  it('fills labels in from groupLabels / commonLabels; alerts naming no group are ignored', () => {
    expect(
      groupKeysFromAlerts(
        webhook([alert({ consumergroup: 'billing' }), { labels: {} }], {
          commonLabels: { namespace: 'shop' },
        }),
      ),
    ).toEqual(['shop/billing']);
    expect(groupKeysFromAlerts(webhook([alert({ alertname: 'DiskFull' })]))).toEqual([]);
    expect(groupKeysFromAlerts({ alerts: [] })).toEqual([]);
  });

  it('refuses bodies that are not a version 4 webhook with 400', () => {
    const cases: unknown[] = [
      null,
      [],
      'alerts',
      {},
      { alerts: {} },
      webhook([42]),
      webhook([alert({ namespace: 'shop', consumergroup: 7 })]),
      webhook([{ labels: ['namespace'] }]),
      webhook([], { commonLabels: 'x' }),
      webhook([alert({ namespace: 'Shop!', consumergroup: 'billing' })]),
      webhook([alert({ namespace: 'shop', consumergroup: 'a/b' })]),
      webhook([], { version: '3' }),
    ];
    for (const body of cases) {
      const err = refusal(() => groupKeysFromAlerts(body));
      expect(err.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe('alertHandler', () => {
  it('queues the named groups on the leader', () => {
    const queued: string[] = [];
    const seen: string[][] = [];
    const handle = alertHandler({
      enqueue: (k) => queued.push(k),
      isLeader: () => true,
      onAlert: (keys) => seen.push(keys),
    });
    handle(webhook([alert({ namespace: 'shop', consumergroup: 'billing' })]));
    expect(queued).toEqual(['shop/billing']);
    expect(seen).toEqual([['shop/billing']]);
  });

  it('answers 503 on a replica that does not lead (Alertmanager retries), 400 first for bad bodies', () => {
    const queued: string[] = [];
    const handle = alertHandler({ enqueue: (k) => queued.push(k), isLeader: () => false });
    expect(refusal(() => handle(webhook([alert({ namespace: 'shop', consumergroup: 'b' })]))).status).toBe(
      503,
    );
    expect(refusal(() => handle({})).status).toBe(400);
    expect(queued).toEqual([]);
  });
});
