// The admin client and the `bolide` client CLI against a real standalone broker over loopback.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../broker-image/src/cli/index.js';
import { runCli } from '../../broker-image/src/cli/index.js';
import { ClientApi } from '../../broker-image/src/client/client-api.js';
import { AdminClient, isUnreachable, MQBrokerError, Producer } from '../../broker-image/src/client/index.js';
import { RemotingClient } from '../../broker-image/src/remoting/index.js';
import { type LocalRocketMQ, startStandalone } from '../harness/local-rocketmq.js';
import { createTopicAndWaitForRoute, uniqueName, waitFor } from './support.js';

let rmq: LocalRocketMQ;
let admin: AdminClient;

function capture(signal?: AbortSignal): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, signal, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}

beforeAll(async () => {
  rmq = await startStandalone();
  admin = new AdminClient({ namesrvAddr: rmq.namesrvAddr });
});

afterAll(async () => {
  await admin?.close();
  await rmq?.stop();
});

describe('AdminClient', () => {
  it('creates, updates, lists, routes and deletes a topic', async () => {
    const topic = uniqueName('AdminT');
    const masters = await admin.createOrUpdateTopicInCluster(undefined, {
      topicName: topic,
      readQueueNums: 6,
      writeQueueNums: 6,
    });
    expect(masters).toEqual([rmq.brokerAddr]);
    await waitFor(
      async () => (await admin.listTopics()).includes(topic),
      10_000,
      () => 'topic in list',
    );
    const route = await admin.getTopicRoute(topic);
    expect(route?.queueDatas).toEqual([
      expect.objectContaining({ readQueueNums: 6, writeQueueNums: 6, perm: 6 }),
    ]);
    expect(Object.values(route!.brokerDatas[0].brokerAddrs)).toContain(rmq.brokerAddr);
    const configs = await admin.listTopicConfigs(rmq.brokerAddr);
    expect(configs[topic]).toMatchObject({ readQueueNums: 6, writeQueueNums: 6, perm: 6 });

    await admin.createOrUpdateTopic(rmq.brokerAddr, {
      topicName: topic,
      readQueueNums: 8,
      writeQueueNums: 8,
    });
    await waitFor(
      async () => (await admin.getTopicRoute(topic))?.queueDatas[0]?.writeQueueNums === 8,
      10_000,
      () => 'updated queue count in route',
    );
    const stats = await admin.getTopicStats(topic);
    expect(stats.map((s) => s.messageQueue.queueId)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(stats.every((s) => s.maxOffset === 0)).toBe(true);

    await admin.deleteTopicInBroker(rmq.brokerAddr, topic);
    await admin.deleteTopicInNamesrv(rmq.namesrvAddr, topic);
    await waitFor(
      async () => (await admin.getTopicRoute(topic)) === undefined,
      10_000,
      () => 'route removed',
    );
    expect(await admin.listTopics()).not.toContain(topic);
    expect((await admin.listTopicConfigs(rmq.brokerAddr))[topic]).toBeUndefined();
  });

  it('rejects invalid topics with the broker error code', async () => {
    const err = await admin
      .createOrUpdateTopic(rmq.brokerAddr, { topicName: 'bad topic!' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MQBrokerError);
    expect((err as MQBrokerError).code).toBe(1);
    expect(isUnreachable(err)).toBe(false);
    const nowhere = new AdminClient({ namesrvAddr: '127.0.0.1:1', requestTimeoutMs: 1_000 });
    try {
      const down = await nowhere.listTopics().catch((e: unknown) => e);
      expect(isUnreachable(down)).toBe(true);
      const downBroker = await nowhere.deleteTopicInBroker('127.0.0.1:1', 'T').catch((e: unknown) => e);
      expect(isUnreachable(downBroker)).toBe(true);
    } finally {
      await nowhere.close();
    }
  });

  it('manages subscription groups and reports consume lag per queue', async () => {
    const group = uniqueName('AdminG');
    await admin.createOrUpdateSubscriptionGroupInCluster(undefined, { groupName: group, retryMaxTimes: 3 });
    const groups = await admin.listSubscriptionGroups(rmq.brokerAddr);
    expect(groups[group]).toMatchObject({ groupName: group, retryMaxTimes: 3 });

    const topic = uniqueName('LagT');
    await createTopicAndWaitForRoute(admin, rmq.brokerAddr, {
      topicName: topic,
      readQueueNums: 2,
      writeQueueNums: 2,
    });
    const producer = new Producer({ namesrvAddr: rmq.namesrvAddr, producerGroup: uniqueName('PG') });
    await producer.start();
    const mqs = await producer.fetchPublishMessageQueues(topic);
    try {
      for (let i = 0; i < 5; i++) await producer.sendToQueue({ topic, body: Buffer.from(`x${i}`) }, mqs[0]);
      for (let i = 0; i < 3; i++) await producer.sendToQueue({ topic, body: Buffer.from(`y${i}`) }, mqs[1]);
    } finally {
      await producer.shutdown();
    }
    // Commit offsets the way a consumer does (UPDATE_CONSUMER_OFFSET): lag = 5 − 2 and 3 − 0.
    const remoting = new RemotingClient();
    try {
      const api = new ClientApi(remoting, { namesrvAddrs: [rmq.namesrvAddr], namesrvTimeoutMs: 3000 });
      await api.updateConsumerOffset(rmq.brokerAddr, group, mqs[0], 2, false, 3000);
      await api.updateConsumerOffset(rmq.brokerAddr, group, mqs[1], 0, false, 3000);
    } finally {
      await remoting.close();
    }
    const stats = await admin.getConsumeStats(group, topic);
    const rows = stats.queues.filter((q) => q.messageQueue.topic === topic);
    expect(rows.map((q) => [q.messageQueue.queueId, q.brokerOffset, q.consumerOffset, q.lag])).toEqual([
      [0, 5, 2, 3],
      [1, 3, 0, 3],
    ]);
    expect(stats.totalLag).toBeGreaterThanOrEqual(6);

    await admin.deleteSubscriptionGroupInCluster(undefined, group, true);
    expect((await admin.listSubscriptionGroups(rmq.brokerAddr))[group]).toBeUndefined();
  });

  it('reads cluster info and broker runtime info', async () => {
    const info = await admin.getClusterInfo();
    const clusters = Object.keys(info.clusterAddrTable);
    expect(clusters.length).toBeGreaterThan(0);
    expect(await admin.masterAddresses(clusters[0])).toContain(rmq.brokerAddr);
    const runtime = await admin.getBrokerRuntimeInfo(rmq.brokerAddr);
    expect(runtime.brokerVersionDesc).toMatch(/^V4_9/);
    expect(runtime.putTps.split(' ')).toHaveLength(3);
  });
});

describe('bolide client CLI', () => {
  it('creates a topic, produces, consumes, shows route, stats and group lag', async () => {
    const ns = ['--namesrv-addr', rmq.namesrvAddr];
    const topic = uniqueName('CliT');
    const group = uniqueName('CliG');

    let io = capture();
    expect(await runCli(['topic', 'create', '--topic', topic, '--queues', '2', ...ns], io)).toBe(0);
    expect(io.lines.join('\n')).toMatch(new RegExp(`created topic ${topic}`));
    await waitFor(
      async () => (await admin.getTopicRoute(topic)) !== undefined,
      10_000,
      () => 'route',
    );

    io = capture();
    expect(await runCli(['topic', 'route', '--topic', topic, ...ns], io)).toBe(0);
    expect(JSON.parse(io.lines.join('\n')).queueDatas[0].writeQueueNums).toBe(2);

    io = capture();
    expect(
      await runCli(
        ['produce', '--topic', topic, '--tag', 'TagA', '--key', 'K1', '--count', '3', '--body', 'hi', ...ns],
        io,
      ),
    ).toBe(0);
    expect(io.lines.filter((l) => l.startsWith('SEND_OK'))).toHaveLength(3);

    io = capture();
    expect(
      await runCli(
        [
          'consume',
          '--topic',
          topic,
          '--group',
          group,
          '--from',
          'first',
          '--count',
          '3',
          '--expression',
          'TagA',
          ...ns,
        ],
        io,
      ),
    ).toBe(0);
    expect(io.lines).toHaveLength(3);
    for (const line of io.lines) expect(line).toMatch(/tags=TagA keys=K1 .*body="hi"/);

    io = capture();
    expect(await runCli(['group', 'stats', '--group', group, '--topic', topic, ...ns], io)).toBe(0);
    expect(io.lines.at(-1)).toMatch(/total lag: 0/);

    io = capture();
    expect(await runCli(['topic', 'list', ...ns], io)).toBe(0);
    expect(io.lines).toContain(topic);

    io = capture();
    expect(await runCli(['cluster', 'list', ...ns], io)).toBe(0);
    expect(io.lines.join('\n')).toContain(rmq.brokerAddr);

    io = capture();
    expect(await runCli(['group', 'create', '--group', `${group}_2`, ...ns], io)).toBe(0);
    io = capture();
    expect(await runCli(['group', 'delete', '--group', `${group}_2`, ...ns], io)).toBe(0);

    io = capture();
    expect(await runCli(['topic', 'delete', '--topic', topic, ...ns], io)).toBe(0);
    io = capture();
    expect(await runCli(['topic', 'route', '--topic', topic, ...ns], io)).toBe(1);
  });

  it('stops a running consume on abort and reports an unreachable name server', async () => {
    const ac = new AbortController();
    const io = capture(ac.signal);
    const running = runCli(
      [
        'consume',
        '--topic',
        uniqueName('Empty'),
        '--group',
        uniqueName('G'),
        '--namesrv-addr',
        rmq.namesrvAddr,
      ],
      io,
    );
    await new Promise((r) => setTimeout(r, 500));
    ac.abort();
    expect(await running).toBe(0);

    const down = capture();
    expect(await runCli(['topic', 'list', '--namesrv-addr', '127.0.0.1:1'], down)).toBe(1);
    expect(down.errors.join('\n')).toMatch(/127\.0\.0\.1:1/);
  });
});
