import { describe, expect, it } from 'vitest';
import { clusterEndpoints, groupConfig, topicConfig } from './broker-settings.js';
import { sampleCluster, sampleGroup, sampleTopic } from './test-fixtures.js';

describe('topicConfig', () => {
  it('defaults: 8 read and write queues, perm 6, the metadata name, not ordered', () => {
    expect(topicConfig(sampleTopic())).toEqual({
      topicName: 'payments',
      readQueueNums: 8,
      writeQueueNums: 8,
      perm: 6,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
    });
  });

  it('spec fields: topicName, queues, perm bits, FIFO → order', () => {
    const config = topicConfig(
      sampleTopic({ topicName: 'Pay_v2', queues: 16, perm: 'ReadOnly', messageType: 'FIFO' }),
    );
    expect(config).toMatchObject({
      topicName: 'Pay_v2',
      readQueueNums: 16,
      writeQueueNums: 16,
      perm: 4,
      order: true,
    });
  });

  it('uses the autoscaler’s queue count when it is larger than the spec', () => {
    const topic = { ...sampleTopic({ queues: 4 }), status: { autoscaledQueues: 12 } };
    expect(topicConfig(topic).writeQueueNums).toBe(12);
  });
});

describe('groupConfig', () => {
  it('maps consume mode and retry limit onto a subscription group', () => {
    expect(groupConfig(sampleGroup())).toEqual({
      groupName: 'billing',
      consumeEnable: true,
      consumeFromMinEnable: true,
      consumeBroadcastEnable: false,
      retryQueueNums: 1,
      retryMaxTimes: 16,
      brokerId: 0,
      whichBrokerWhenConsumeSlowly: 1,
      notifyConsumerIdsChangedEnable: true,
    });
    expect(
      groupConfig(sampleGroup({ groupName: 'G1', consumeMode: 'Broadcasting', retryMaxTimes: 3 })),
    ).toMatchObject({ groupName: 'G1', consumeBroadcastEnable: true, retryMaxTimes: 3 });
  });
});

describe('clusterEndpoints', () => {
  it('lists the master (ordinal 0) of every group and every name server by DNS name', () => {
    expect(clusterEndpoints(sampleCluster({ brokers: { groups: 2 }, nameServers: { replicas: 2 } }))).toEqual(
      {
        nameServers: [
          'orders-namesrv-0.orders-namesrv.shop.svc:9876',
          'orders-namesrv-1.orders-namesrv.shop.svc:9876',
        ],
        masters: [
          { brokerName: 'orders-broker-0', address: 'orders-broker-0-0.orders-broker.shop.svc:10911' },
          { brokerName: 'orders-broker-1', address: 'orders-broker-1-0.orders-broker.shop.svc:10911' },
        ],
      },
    );
  });
});
