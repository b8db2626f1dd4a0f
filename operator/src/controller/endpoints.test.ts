import { describe, expect, it } from 'vitest';
import { parseEndpointOverrides, resolveCluster } from './endpoints.js';
import { sampleCluster } from './test-fakes.js';

describe('parseEndpointOverrides', () => {
  it('parses masters and name servers per namespace/cluster', () => {
    const map = parseEndpointOverrides(
      JSON.stringify({
        'dev/local': {
          nameServers: ['127.0.0.1:9876'],
          masters: [{ brokerName: 'broker-a', address: '127.0.0.1:10911' }],
          clusterName: 'DefaultCluster',
        },
      }),
    );
    expect(map.get('dev/local')).toEqual({
      clusterName: 'DefaultCluster',
      nameServers: ['127.0.0.1:9876'],
      masters: [{ brokerName: 'broker-a', address: '127.0.0.1:10911' }],
    });
    expect(parseEndpointOverrides(undefined).size).toBe(0);
    expect(parseEndpointOverrides('  ').size).toBe(0);
  });

  it('refuses bad input with the offending path', () => {
    expect(() => parseEndpointOverrides('{')).toThrow(/endpoint overrides: not JSON/);
    expect(() => parseEndpointOverrides('[]')).toThrow(/keyed by "namespace\/cluster"/);
    expect(() => parseEndpointOverrides('{"nons": {"masters": []}}')).toThrow(
      /"nons" must be "namespace\/cluster"/,
    );
    expect(() => parseEndpointOverrides('{"a/b": {"masters": []}}')).toThrow(
      /a\/b.masters must be a non-empty array/,
    );
    expect(() =>
      parseEndpointOverrides('{"a/b": {"masters": [{"brokerName": "x", "address": "nope"}]}}'),
    ).toThrow(/a\/b.masters\[0\].address must be "host:port", got "nope"/);
    expect(() => parseEndpointOverrides('{"a/b": {"masters": [{"address": "h:1"}]}}')).toThrow(
      /needs a brokerName/,
    );
  });
});

describe('resolveCluster', () => {
  it('uses the override when there is one, even without a BrokerCluster', () => {
    const overrides = parseEndpointOverrides(
      '{"shop/orders": {"nameServers": ["127.0.0.1:1"], "masters": [{"brokerName": "a", "address": "127.0.0.1:2"}]}}',
    );
    expect(resolveCluster('shop', 'orders', undefined, overrides)).toEqual({
      clusterName: 'orders',
      nameServers: ['127.0.0.1:1'],
      masters: [{ brokerName: 'a', address: '127.0.0.1:2' }],
    });
  });

  it('otherwise derives the masters from the BrokerCluster, and nothing without one', () => {
    const target = resolveCluster('shop', 'orders', sampleCluster(), new Map());
    expect(target?.masters).toEqual([
      { brokerName: 'orders-broker-0', address: 'orders-broker-0-0.orders-broker.shop.svc:10911' },
    ]);
    expect(target?.clusterName).toBe('orders');
    expect(resolveCluster('shop', 'orders', undefined, new Map())).toBeUndefined();
  });
});
