import { describe, expect, it } from 'vitest';
import { defaultBrokerCluster } from '../api/index.js';
import { brokerConfigProblems, escapePropertyValue, renderBrokerConf } from './broker-conf.js';
import { sampleCluster } from './test-fixtures.js';

function parse(text: string): Map<string, string> {
  const entries = text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const eq = l.indexOf('=');
      return [l.slice(0, eq), l.slice(eq + 1)] as [string, string];
    });
  return new Map(entries);
}

describe('renderBrokerConf', () => {
  it('renders the managed keys of a defaulted cluster (Async flush, async master)', () => {
    const conf = parse(renderBrokerConf(defaultBrokerCluster(sampleCluster()), 0));
    expect(Object.fromEntries(conf)).toEqual({
      brokerClusterName: 'orders',
      brokerName: 'orders-broker-0',
      brokerId: '0',
      brokerRole: 'ASYNC_MASTER',
      flushDiskType: 'ASYNC_FLUSH',
      namesrvAddr: 'orders-namesrv-0.orders-namesrv.shop.svc:9876',
      listenPort: '10911',
      haListenPort: '10912',
      storePathRootDir: '/var/lib/bolide/store',
      fileReservedTime: '72',
      deleteWhen: '04',
    });
  });

  it('maps flushMode Sync to SYNC_FLUSH and replicationMode Sync to SYNC_MASTER', () => {
    const conf = parse(
      renderBrokerConf(
        defaultBrokerCluster(sampleCluster({ flushMode: 'Sync', replicationMode: 'Sync' })),
        1,
      ),
    );
    expect(conf.get('flushDiskType')).toBe('SYNC_FLUSH');
    expect(conf.get('brokerRole')).toBe('SYNC_MASTER');
    expect(conf.get('brokerName')).toBe('orders-broker-1');
  });

  it('lists every name server by its stable DNS name, separated by ;', () => {
    const conf = parse(
      renderBrokerConf(defaultBrokerCluster(sampleCluster({ nameServers: { replicas: 3 } })), 0),
    );
    expect(conf.get('namesrvAddr')).toBe(
      [0, 1, 2].map((i) => `orders-namesrv-${i}.orders-namesrv.shop.svc:9876`).join(';'),
    );
  });

  it('writes retention and extra keys (sorted, after the managed ones)', () => {
    const text = renderBrokerConf(
      defaultBrokerCluster(
        sampleCluster({
          retention: { fileReservedTimeHours: 48, deleteWhen: '03;15' },
          brokerConfig: { sendMessageThreadPoolNums: '8', maxMessageSize: '4194304' },
        }),
      ),
      0,
    );
    const conf = parse(text);
    expect(conf.get('fileReservedTime')).toBe('48');
    expect(conf.get('deleteWhen')).toBe('03;15');
    const keys = [...conf.keys()];
    expect(keys.slice(-2)).toEqual(['maxMessageSize', 'sendMessageThreadPoolNums']);
    expect(conf.get('maxMessageSize')).toBe('4194304');
  });

  it('leaves out extra keys the operator manages and escapes values so they cannot add lines', () => {
    const text = renderBrokerConf(
      defaultBrokerCluster(
        sampleCluster({ brokerConfig: { brokerRole: 'SLAVE', msgTraceTopicName: 'a\nbrokerId=7' } }),
      ),
      0,
    );
    const conf = parse(text);
    expect(conf.get('brokerRole')).toBe('ASYNC_MASTER');
    expect(conf.get('brokerId')).toBe('0');
    expect(conf.get('msgTraceTopicName')).toBe('a\\nbrokerId=7');
  });
});

describe('brokerConfigProblems', () => {
  it('names managed, command-line and malformed keys', () => {
    expect(
      brokerConfigProblems({ flushDiskType: 'SYNC_FLUSH', httpPort: '1', 'bad key': 'x', ok: '1' }),
    ).toEqual([
      {
        field: 'spec.brokerConfig.flushDiskType',
        message: 'is managed by the operator and cannot be set here',
      },
      { field: 'spec.brokerConfig.httpPort', message: 'is managed by the operator and cannot be set here' },
      {
        field: 'spec.brokerConfig.bad key',
        message: 'not a broker.conf property name (letters, digits and dots)',
      },
    ]);
    expect(brokerConfigProblems(undefined)).toEqual([]);
  });
});

describe('escapePropertyValue', () => {
  it('escapes backslashes, control characters and a leading blank', () => {
    expect(escapePropertyValue('a\\b')).toBe('a\\\\b');
    expect(escapePropertyValue('x\r\ny\t')).toBe('x\\r\\ny\\t');
    expect(escapePropertyValue(' lead')).toBe('\\ lead');
    expect(escapePropertyValue('plain;04')).toBe('plain;04');
  });
});
