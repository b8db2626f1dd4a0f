import { describe, expect, it } from 'vitest';
import { type BrokerRegistration, type RegisteredTopicConfig, RouteTable } from './route-table.js';

function topic(name: string, queues = 4, perm = 6): RegisteredTopicConfig {
  return {
    topicName: name,
    readQueueNums: queues,
    writeQueueNums: queues,
    perm,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: false,
  };
}

function reg(over: Partial<BrokerRegistration> = {}): BrokerRegistration {
  return {
    clusterName: 'DefaultCluster',
    brokerAddr: '10.0.0.1:10911',
    brokerName: 'broker-a',
    brokerId: 0,
    haServerAddr: '10.0.0.1:10912',
    dataVersion: { counter: 1, timestamp: 100 },
    topicConfigTable: { TopicTest: topic('TopicTest'), TBW102: topic('TBW102', 8, 7) },
    connectionId: 'c1',
    ...over,
  };
}

describe('RouteTable', () => {
  it('routes a registered master topic', () => {
    const t = new RouteTable();
    t.registerBroker(reg(), 0);
    const route = t.getRoute('TopicTest');
    expect(route).toEqual({
      queueDatas: [{ brokerName: 'broker-a', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 }],
      brokerDatas: [
        { cluster: 'DefaultCluster', brokerName: 'broker-a', brokerAddrs: { '0': '10.0.0.1:10911' } },
      ],
      filterServerTable: {},
    });
    expect(t.getRoute('Nope')).toBeNull();
    expect(t.allTopics().sort()).toEqual(['TBW102', 'TopicTest']);
  });

  it('merges two brokers of a topic, sorted by broker name, and lists cluster info', () => {
    const t = new RouteTable();
    t.registerBroker(reg({ brokerName: 'broker-b', brokerAddr: '10.0.0.2:10911', connectionId: 'c2' }), 0);
    t.registerBroker(reg(), 0);
    const route = t.getRoute('TopicTest')!;
    expect(route.queueDatas.map((q) => q.brokerName)).toEqual(['broker-a', 'broker-b']);
    expect(route.brokerDatas.map((b) => b.brokerName)).toEqual(['broker-a', 'broker-b']);
    expect(t.clusterInfo().clusterAddrTable).toEqual({ DefaultCluster: ['broker-a', 'broker-b'] });
    expect(Object.keys(t.clusterInfo().brokerAddrTable).sort()).toEqual(['broker-a', 'broker-b']);
    expect(t.topicsByCluster('DefaultCluster').sort()).toEqual(['TBW102', 'TopicTest']);
    expect(t.topicsByCluster('Other')).toEqual([]);
  });

  it('updates queue data only when the data version changes, and removes topics the master dropped', () => {
    const t = new RouteTable();
    t.registerBroker(reg(), 0);
    // Same version, different table: ignored (a periodic re-registration).
    t.registerBroker(reg({ topicConfigTable: { TopicTest: topic('TopicTest', 8) } }), 1);
    expect(t.getRoute('TopicTest')!.queueDatas[0].writeQueueNums).toBe(4);
    t.registerBroker(
      reg({
        dataVersion: { counter: 2, timestamp: 100 },
        topicConfigTable: { TopicTest: topic('TopicTest', 8) },
      }),
      2,
    );
    expect(t.getRoute('TopicTest')!.queueDatas[0].writeQueueNums).toBe(8);
    expect(t.getRoute('TBW102')).toBeNull();
  });

  it('slaves add an address but not queue data, and learn the master address', () => {
    const t = new RouteTable();
    t.registerBroker(reg(), 0);
    const result = t.registerBroker(
      reg({
        brokerId: 1,
        brokerAddr: '10.0.0.3:10911',
        haServerAddr: '10.0.0.3:10912',
        topicConfigTable: {},
        connectionId: 'c3',
      }),
      0,
    );
    expect(result).toEqual({ masterAddr: '10.0.0.1:10911', haServerAddr: '10.0.0.1:10912' });
    expect(t.getRoute('TopicTest')!.brokerDatas[0].brokerAddrs).toEqual({
      '0': '10.0.0.1:10911',
      '1': '10.0.0.3:10911',
    });
  });

  it('moves an address that changes broker id', () => {
    const t = new RouteTable();
    t.registerBroker(reg({ brokerId: 1 }), 0);
    t.registerBroker(reg({ brokerId: 0 }), 1);
    expect(t.clusterInfo().brokerAddrTable['broker-a'].brokerAddrs).toEqual({ '0': '10.0.0.1:10911' });
  });

  it('expires brokers silent for more than 120 s and removes their topics', () => {
    const t = new RouteTable();
    t.registerBroker(reg(), 0);
    t.registerBroker(
      reg({ brokerName: 'broker-b', brokerAddr: '10.0.0.2:10911', connectionId: 'c2' }),
      60_000,
    );
    expect(t.expire(120_000)).toEqual([]);
    expect(t.expire(120_001)).toEqual(['10.0.0.1:10911']);
    const route = t.getRoute('TopicTest')!;
    expect(route.brokerDatas.map((b) => b.brokerName)).toEqual(['broker-b']);
    expect(t.clusterInfo().clusterAddrTable).toEqual({ DefaultCluster: ['broker-b'] });
    expect(t.expire(180_001)).toEqual(['10.0.0.2:10911']);
    expect(t.getRoute('TopicTest')).toBeNull();
    expect(t.allTopics()).toEqual([]);
    expect(t.clusterInfo()).toEqual({ brokerAddrTable: {}, clusterAddrTable: {} });
  });

  it('a re-registration keeps a broker alive', () => {
    const t = new RouteTable();
    t.registerBroker(reg(), 0);
    t.registerBroker(reg(), 100_000);
    expect(t.expire(200_000)).toEqual([]);
  });

  it('removes a broker when its connection closes', () => {
    const t = new RouteTable();
    t.registerBroker(reg(), 0);
    t.registerBroker(reg({ brokerName: 'broker-b', brokerAddr: '10.0.0.2:10911', connectionId: 'c2' }), 0);
    expect(t.onConnectionClosed('unknown')).toEqual([]);
    expect(t.onConnectionClosed('c1')).toEqual(['10.0.0.1:10911']);
    expect(t.getRoute('TopicTest')!.queueDatas.map((q) => q.brokerName)).toEqual(['broker-b']);
  });

  it('removing a slave keeps the master and its queue data', () => {
    const t = new RouteTable();
    t.registerBroker(reg(), 0);
    t.registerBroker(
      reg({ brokerId: 1, brokerAddr: '10.0.0.3:10911', connectionId: 'c3', topicConfigTable: null }),
      0,
    );
    t.unregisterBroker('DefaultCluster', '10.0.0.3:10911', 'broker-a', 1);
    expect(t.getRoute('TopicTest')!.brokerDatas[0].brokerAddrs).toEqual({ '0': '10.0.0.1:10911' });
    t.unregisterBroker('DefaultCluster', '10.0.0.1:10911', 'broker-a', 0);
    expect(t.getRoute('TopicTest')).toBeNull();
  });

  it('treats an empty registration as no topics', () => {
    const t = new RouteTable();
    t.registerBroker(reg({ dataVersion: null, topicConfigTable: null }), 0);
    expect(t.allTopics()).toEqual([]);
    expect(t.clusterInfo().clusterAddrTable).toEqual({ DefaultCluster: ['broker-a'] });
  });

  it('deletes a topic everywhere or only in one cluster', () => {
    const t = new RouteTable();
    t.registerBroker(reg(), 0);
    t.registerBroker(
      reg({ clusterName: 'C2', brokerName: 'broker-x', brokerAddr: '10.0.0.9:10911', connectionId: 'c9' }),
      0,
    );
    t.deleteTopic('TopicTest', 'C2');
    expect(t.getRoute('TopicTest')!.queueDatas.map((q) => q.brokerName)).toEqual(['broker-a']);
    t.deleteTopic('TopicTest');
    expect(t.getRoute('TopicTest')).toBeNull();
  });

  it('wipes and restores write permission of a broker', () => {
    const t = new RouteTable();
    t.registerBroker(reg(), 0);
    expect(t.wipeWritePerm('broker-a')).toBe(2);
    expect(t.getRoute('TopicTest')!.queueDatas[0].perm).toBe(4);
    expect(t.getRoute('TBW102')!.queueDatas[0].perm).toBe(5);
    expect(t.addWritePerm('broker-a')).toBe(2);
    expect(t.getRoute('TopicTest')!.queueDatas[0].perm).toBe(6);
    expect(t.wipeWritePerm('nobody')).toBe(0);
  });

  it('answers QUERY_DATA_VERSION and refreshes liveness only when unchanged', () => {
    const t = new RouteTable();
    expect(t.queryDataVersion('10.0.0.1:10911', { counter: 1, timestamp: 100 }, 0).changed).toBe(true);
    t.registerBroker(reg(), 0);
    expect(t.queryDataVersion('10.0.0.1:10911', { counter: 2, timestamp: 100 }, 100_000)).toEqual({
      changed: true,
      stored: { counter: 1, timestamp: 100 },
    });
    expect(t.expire(120_001)).toEqual(['10.0.0.1:10911']);
    t.registerBroker(reg(), 0);
    expect(t.queryDataVersion('10.0.0.1:10911', { counter: 1, timestamp: 100 }, 100_000).changed).toBe(false);
    expect(t.expire(120_001)).toEqual([]);
  });

  it('lists system topics and unit topics', () => {
    const t = new RouteTable();
    t.registerBroker(
      reg({
        topicConfigTable: {
          U: { ...topic('U'), topicSysFlag: 1 },
          S: { ...topic('S'), topicSysFlag: 2 },
          N: topic('N'),
        },
      }),
      0,
    );
    expect(t.systemTopicList()).toEqual({
      topicList: ['DefaultCluster', 'broker-a'],
      brokerAddr: '10.0.0.1:10911',
    });
    expect(t.unitTopics('unit')).toEqual(['U']);
    expect(t.unitTopics('hasUnitSub')).toEqual(['S']);
    expect(t.unitTopics('hasUnitSubUnUnit')).toEqual(['S']);
  });

  it('adds orderTopicConf when given', () => {
    const t = new RouteTable();
    t.registerBroker(reg(), 0);
    expect(t.getRoute('TopicTest', 'broker-a:4')!.orderTopicConf).toBe('broker-a:4');
  });
});
