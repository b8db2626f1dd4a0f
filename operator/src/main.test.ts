import { describe, expect, it } from 'vitest';
import { DEFAULT_BROKER_IMAGE, parseOperatorOptions } from './main.js';

describe('parseOperatorOptions', () => {
  it('defaults: all namespaces, port 8080, leader election on, lease bolide-operator in default', () => {
    const o = parseOperatorOptions([], {});
    expect(o).toMatchObject({
      namespace: undefined,
      metricsPort: 8080,
      leaderElection: true,
      leaseName: 'bolide-operator',
      leaseNamespace: 'default',
      defaultImage: DEFAULT_BROKER_IMAGE,
      resyncMs: 300_000,
      adminTimeoutMs: 3000,
      queueShrinkGraceMs: 45_000,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 3000,
      help: false,
    });
    expect(o.endpointOverrides.size).toBe(0);
    expect(o.identity).toMatch(/_[0-9a-f]{8}$/);
  });

  it('environment, then flags, override the defaults', () => {
    const env = {
      BOLIDE_WATCH_NAMESPACE: 'mq',
      BOLIDE_METRICS_PORT: '9090',
      BOLIDE_LEADER_ELECT: 'false',
      POD_NAMESPACE: 'ops',
      POD_NAME: 'op-7',
      BOLIDE_BROKER_IMAGE: 'r/b:1',
      BOLIDE_QUEUE_SHRINK_GRACE_SECONDS: '7',
      BOLIDE_ENDPOINT_OVERRIDES: '{"mq/c": {"masters": [{"brokerName": "b", "address": "10.0.0.1:10911"}]}}',
    };
    const fromEnv = parseOperatorOptions([], env);
    expect(fromEnv).toMatchObject({
      namespace: 'mq',
      metricsPort: 9090,
      leaderElection: false,
      leaseNamespace: 'ops',
      defaultImage: 'r/b:1',
      queueShrinkGraceMs: 7000,
    });
    expect(fromEnv.identity.startsWith('op-7_')).toBe(true);
    expect(fromEnv.endpointOverrides.get('mq/c')?.masters).toEqual([
      { brokerName: 'b', address: '10.0.0.1:10911' },
    ]);
    const fromFlags = parseOperatorOptions(
      [
        '--namespace',
        'x',
        '--metrics-port=-1',
        '--leader-elect',
        'yes',
        '--lease-duration-ms',
        '3000',
        '--queue-shrink-grace-seconds',
        '2',
      ],
      env,
    );
    expect(fromFlags).toMatchObject({
      namespace: 'x',
      metricsPort: -1,
      leaderElection: true,
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 600,
      queueShrinkGraceMs: 2000,
    });
  });

  it('refuses bad values with the option name', () => {
    expect(() => parseOperatorOptions(['--metrics-port', 'x'], {})).toThrow(
      /--metrics-port must be a whole number/,
    );
    expect(() => parseOperatorOptions(['--leader-elect', 'maybe'], {})).toThrow(
      /--leader-elect must be true or false/,
    );
    expect(() => parseOperatorOptions(['--bogus'], {})).toThrow(/bogus/);
    expect(() => parseOperatorOptions([], { BOLIDE_ENDPOINT_OVERRIDES: '{' })).toThrow(
      /endpoint overrides: not JSON/,
    );
    expect(() => parseOperatorOptions(['extra'], {})).toThrow(/unexpected argument: extra/);
  });
});
