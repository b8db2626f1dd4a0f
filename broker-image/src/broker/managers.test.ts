import { describe, expect, it } from 'vitest';
import { ConsumerManager, ProducerManager } from './client-manager.js';
import { memoryConfigFiles } from './config-files.js';
import { CONSUMER_OFFSET_FILE, ConsumerOffsetManager } from './consumer-offset-manager.js';
import { parseTagSubscription } from './subscription.js';
import { SubscriptionGroupManager } from './subscription-group-manager.js';
import { TOPICS_FILE, TopicConfigManager, type TopicConfigSettings } from './topic-config-manager.js';

const settings: TopicConfigSettings = {
  brokerClusterName: 'DefaultCluster',
  brokerName: 'broker-a',
  autoCreateTopicEnable: true,
  defaultTopicQueueNums: 8,
  clusterTopicEnable: true,
  brokerTopicEnable: true,
  traceTopicEnable: false,
  msgTraceTopicName: 'RMQ_SYS_TRACE_TOPIC',
};

describe('TopicConfigManager', () => {
  it('creates the system topics of a Java broker', async () => {
    const m = new TopicConfigManager(settings, memoryConfigFiles(), 1);
    await m.load();
    expect(m.get('TBW102')).toMatchObject({ readQueueNums: 8, writeQueueNums: 8, perm: 7 });
    expect(m.get('DefaultCluster')?.perm).toBe(7);
    expect(m.get('broker-a')).toMatchObject({ writeQueueNums: 1, perm: 7 });
    expect(m.get('SCHEDULE_TOPIC_XXXX')?.writeQueueNums).toBe(18);
    expect(m.get('DefaultCluster_REPLY_TOPIC')).toBeDefined();
    expect(m.has('RMQ_SYS_TRACE_TOPIC')).toBe(false);
  });

  it('auto-creates on send from an inheritable template only', async () => {
    let changes = 0;
    const files = memoryConfigFiles();
    const m = new TopicConfigManager(settings, files, 1, () => changes++);
    await m.load();
    const before = m.dataVersion.counter;
    const created = await m.createInSend('NewTopic', 'TBW102', 4, 0, 10);
    expect(created).toMatchObject({ topicName: 'NewTopic', readQueueNums: 4, writeQueueNums: 4, perm: 6 });
    expect(m.dataVersion).toEqual({ counter: before + 1, timestamp: 10 });
    expect(changes).toBe(1);
    expect(files.files.get(TOPICS_FILE)).toContain('"NewTopic"');
    // Capped by the template's queue count.
    expect((await m.createInSend('Big', 'TBW102', 64, 0, 11))?.writeQueueNums).toBe(8);
    // A template without the inherit bit, or a missing one, creates nothing.
    expect(await m.createInSend('X', 'NewTopic', 4, 0, 12)).toBeUndefined();
    expect(await m.createInSend('X', 'Missing', 4, 0, 12)).toBeUndefined();
  });

  it('has no TBW102 when auto-creation is off, even if an old file had it', async () => {
    const files = memoryConfigFiles();
    const on = new TopicConfigManager(settings, files, 1);
    await on.load();
    await on.persist();
    const off = new TopicConfigManager({ ...settings, autoCreateTopicEnable: false }, files, 2);
    await off.load();
    expect(off.has('TBW102')).toBe(false);
    expect(await off.createInSend('T', 'TBW102', 4, 0, 3)).toBeUndefined();
  });

  it('persists updates and deletes across a reload', async () => {
    const files = memoryConfigFiles();
    const m = new TopicConfigManager(settings, files, 1);
    await m.load();
    await m.update(
      {
        topicName: 'Orders',
        readQueueNums: 2,
        writeQueueNums: 3,
        perm: 6,
        topicFilterType: 'SINGLE_TAG',
        topicSysFlag: 0,
        order: true,
      },
      5,
    );
    await m.update(
      {
        topicName: 'Gone',
        readQueueNums: 1,
        writeQueueNums: 1,
        perm: 6,
        topicFilterType: 'SINGLE_TAG',
        topicSysFlag: 0,
        order: false,
      },
      6,
    );
    expect(await m.delete('Gone', 7)).toBe(true);
    expect(await m.delete('Gone', 8)).toBe(false);
    const again = new TopicConfigManager(settings, files, 100);
    await again.load();
    expect(again.get('Orders')).toMatchObject({ readQueueNums: 2, writeQueueNums: 3, order: true });
    expect(again.has('Gone')).toBe(false);
    expect(again.dataVersion).toEqual(m.dataVersion);
  });

  it('masks perms by the broker permission in the registration wrapper', async () => {
    const m = new TopicConfigManager(settings, memoryConfigFiles(), 1);
    await m.load();
    expect(m.wrapper(6).topicConfigTable.TBW102.perm).toBe(7);
    expect(m.wrapper(4).topicConfigTable.TBW102.perm).toBe(4);
  });
});

describe('SubscriptionGroupManager', () => {
  it('pre-creates tool groups, auto-creates on demand and persists', async () => {
    const files = memoryConfigFiles();
    const m = new SubscriptionGroupManager(true, files, 1);
    expect(m.get('TOOLS_CONSUMER')).toBeDefined();
    const g = await m.findOrCreate('CG', 2);
    expect(g).toMatchObject({ groupName: 'CG', retryQueueNums: 1, retryMaxTimes: 16, consumeEnable: true });
    await m.update({ ...g!, retryMaxTimes: 3 }, 3);
    const again = new SubscriptionGroupManager(false, files, 4);
    await again.load();
    expect(again.get('CG')?.retryMaxTimes).toBe(3);
    expect(await again.findOrCreate('Other', 5)).toBeUndefined();
    expect(await again.delete('CG', 6)).toBe(true);
    expect(again.get('CG')).toBeUndefined();
  });
});

describe('ConsumerOffsetManager', () => {
  it('writes Java consumerOffset.json with bare integer keys and reads it back', async () => {
    const files = memoryConfigFiles();
    const m = new ConsumerOffsetManager(files);
    m.commit('CG', 'TopicTest', 0, 12n);
    m.commit('CG', 'TopicTest', 1, 7n);
    m.commit('CG2', 'Other', 0, 1n);
    await m.persist();
    expect(files.files.get(CONSUMER_OFFSET_FILE)).toBe(
      '{"offsetTable":{"TopicTest@CG":{0:12,1:7},"Other@CG2":{0:1}}}',
    );
    const again = new ConsumerOffsetManager(files);
    await again.load();
    expect(again.query('CG', 'TopicTest', 1)).toBe(7n);
    expect(again.query('CG', 'TopicTest', 2)).toBeUndefined();
    expect(again.topicsOfGroup('CG')).toEqual(['TopicTest']);
    expect(again.groupsOfTopic('Other')).toEqual(['CG2']);
    again.clone('CG', 'CG3');
    expect(again.query('CG3', 'TopicTest', 0)).toBe(12n);
    again.removeGroup('CG');
    expect(again.query('CG', 'TopicTest', 0)).toBeUndefined();
  });

  it('only writes when something changed', async () => {
    const files = memoryConfigFiles();
    const m = new ConsumerOffsetManager(files);
    await m.persist();
    expect(files.files.has(CONSUMER_OFFSET_FILE)).toBe(false);
    m.commit('G', 'T', 0, 1n);
    await m.persist();
    files.files.delete(CONSUMER_OFFSET_FILE);
    m.commit('G', 'T', 0, 1n);
    await m.persist();
    expect(files.files.has(CONSUMER_OFFSET_FILE)).toBe(false);
  });

  it('drops a commit made with a mark older than the latest commit of its queue', () => {
    const m = new ConsumerOffsetManager(memoryConfigFiles());
    const pullArrived = m.mark();
    expect(m.commit('G', 'T', 0, 50n)).toBe(true);
    expect(m.commit('G', 'T', 1, 7n, pullArrived)).toBe(true);
    expect(m.commit('G', 'T', 0, 40n, pullArrived)).toBe(false);
    expect(m.query('G', 'T', 0)).toBe(50n);
    // A mark taken after the latest commit lets the commit through, even to a lower offset (a reset).
    expect(m.commit('G', 'T', 0, 10n, m.mark())).toBe(true);
    expect(m.query('G', 'T', 0)).toBe(10n);
    // A cloned group's offsets count as commits at the time of the clone.
    const beforeClone = m.mark();
    m.clone('G', 'G2');
    expect(m.commit('G2', 'T', 0, 1n, beforeClone)).toBe(false);
    expect(m.query('G2', 'T', 0)).toBe(10n);
  });
});

describe('ConsumerManager', () => {
  const ch = (id: string, clientId = id) => ({
    channelId: id,
    clientId,
    language: 'JAVA',
    version: 409,
    clientAddr: '1.2.3.4:5',
    lastUpdateTimestamp: 0,
  });
  const reg = (subs: string[]) => ({
    group: 'CG',
    consumeType: 'CONSUME_PASSIVELY',
    messageModel: 'CLUSTERING',
    consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
    subscriptions: subs.map((t, i) => parseTagSubscription(t, '*', i)),
  });

  it('reports membership and topic changes, not repeated heartbeats', () => {
    const m = new ConsumerManager();
    expect(m.register(reg(['T', '%RETRY%CG']), ch('c1'), 0)).toBe(true);
    expect(m.register(reg(['T', '%RETRY%CG']), ch('c1'), 1)).toBe(false);
    expect(m.register(reg(['T', '%RETRY%CG']), ch('c2'), 2)).toBe(true);
    expect(m.register(reg(['T', 'U', '%RETRY%CG']), ch('c2'), 3)).toBe(true);
    expect(m.clientIds('CG').sort()).toEqual(['c1', 'c2']);
    expect(m.groupsSubscribing('U')).toEqual(['CG']);
    expect(m.register(reg(['T', '%RETRY%CG']), ch('c1'), 4)).toBe(false);
    expect(m.groupsSubscribing('U')).toEqual([]);
  });

  it('removes closed and expired connections and drops empty groups', () => {
    const m = new ConsumerManager();
    m.register(reg(['T']), ch('c1'), 0);
    m.register(reg(['T']), ch('c2'), 100_000);
    expect(m.expiredChannels(120_001, 120_000)).toEqual(['c1']);
    expect(m.removeChannel('c1')).toEqual([
      { group: 'CG', channels: [expect.objectContaining({ channelId: 'c2' })] },
    ]);
    expect(m.unregister('CG', 'c2')).toEqual({ group: 'CG', channels: [] });
    expect(m.get('CG')).toBeUndefined();
    expect(m.removeChannel('c2')).toEqual([]);
  });

  it('tracks producers per group', () => {
    const p = new ProducerManager();
    p.register('PG', ch('c1'), 0);
    p.register('PG', ch('c2'), 0);
    expect(p.members('PG')).toHaveLength(2);
    p.removeChannel('c1');
    expect(p.members('PG').map((c) => c.channelId)).toEqual(['c2']);
    expect(p.expiredChannels(200_000, 120_000)).toEqual(['c2']);
    p.unregister('PG', 'c2');
    expect(p.groupNames()).toEqual([]);
  });
});
