import { describe, expect, it } from 'vitest';
import {
  allBrokerAddresses,
  masterAddress,
  parseTopicRoute,
  publishQueues,
  routeFromDefaultTopic,
  sameRoute,
  subscribeQueues,
} from './route.js';

const body = {
  brokerDatas: [
    { brokerAddrs: { 0: '10.0.0.2:10911', 1: '10.0.0.3:10911' }, brokerName: 'broker-b', cluster: 'C' },
    { brokerAddrs: { '0': '10.0.0.1:10911' }, brokerName: 'broker-a', cluster: 'C' },
    { brokerAddrs: { '1': '10.0.0.5:10911' }, brokerName: 'broker-c', cluster: 'C' },
  ],
  filterServerTable: {},
  queueDatas: [
    { brokerName: 'broker-b', perm: 6, readQueueNums: 2, topicSysFlag: 0, writeQueueNums: 2 },
    { brokerName: 'broker-a', perm: 6, readQueueNums: 3, topicSysFlag: 0, writeQueueNums: 2 },
    { brokerName: 'broker-c', perm: 6, readQueueNums: 1, topicSysFlag: 0, writeQueueNums: 1 },
    { brokerName: 'broker-d', perm: 4, readQueueNums: 1, topicSysFlag: 0, writeQueueNums: 1 },
  ],
};

describe('topic routes', () => {
  const route = parseTopicRoute(body);
  const names = (qs: { brokerName: string; queueId: number }[]) =>
    qs.map((q) => `${q.brokerName}:${q.queueId}`);

  it('parses numeric and string broker-id keys', () => {
    expect(masterAddress(route, 'broker-b')).toBe('10.0.0.2:10911');
    expect(masterAddress(route, 'broker-a')).toBe('10.0.0.1:10911');
    expect(masterAddress(route, 'broker-c')).toBeUndefined();
    expect(allBrokerAddresses(route)).toContain('10.0.0.3:10911');
  });

  it('lists writable queues with a master, sorted by broker name, for producers', () => {
    expect(names(publishQueues('T', route))).toEqual([
      'broker-a:0',
      'broker-a:1',
      'broker-b:0',
      'broker-b:1',
    ]);
  });

  it('uses orderTopicConf when present', () => {
    const ordered = parseTopicRoute({ ...body, orderTopicConf: 'broker-b:1;broker-a:2' });
    expect(names(publishQueues('T', ordered))).toEqual(['broker-b:0', 'broker-a:0', 'broker-a:1']);
  });

  it('lists readable queues for consumers', () => {
    expect(names(subscribeQueues('T', route))).toEqual([
      'broker-b:0',
      'broker-b:1',
      'broker-a:0',
      'broker-a:1',
      'broker-a:2',
      'broker-c:0',
      'broker-d:0',
    ]);
  });

  it('reshapes the TBW102 route to at most the default queue count', () => {
    const r = routeFromDefaultTopic(
      parseTopicRoute({
        ...body,
        queueDatas: [{ ...body.queueDatas[1], readQueueNums: 8, writeQueueNums: 8, perm: 7 }],
      }),
      4,
    );
    expect(names(publishQueues('New', r))).toEqual(['broker-a:0', 'broker-a:1', 'broker-a:2', 'broker-a:3']);
  });

  it('rejects malformed bodies and compares routes structurally', () => {
    expect(() => parseTopicRoute({ queueDatas: [{ brokerName: 1 }] })).toThrow(/brokerName/);
    expect(() => parseTopicRoute('x')).toThrow(/not an object/);
    const reordered = parseTopicRoute({ ...body, queueDatas: [...body.queueDatas].reverse() });
    expect(sameRoute(route, reordered)).toBe(true);
    expect(sameRoute(route, parseTopicRoute({ ...body, queueDatas: body.queueDatas.slice(1) }))).toBe(false);
  });
});
