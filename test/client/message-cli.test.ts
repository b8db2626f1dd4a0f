// `bolide message …` and `bolide group reset-offset|stats` against a real standalone broker:
// lookups by key, client id and offset id; dead letters listed and re-sent to their topic; offsets
// moved to a time with no consumer online; stats that show the retry and DLQ topics.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../broker-image/src/cli/index.js';
import { runCli } from '../../broker-image/src/cli/index.js';
import { type AdminClient, type Producer, PushConsumer } from '../../broker-image/src/client/index.js';
import type { LocalRocketMQ } from '../harness/local-rocketmq.js';
import {
  createRoutedTopic,
  fastConsumerOptions,
  startBrokerWithClients,
  stopBrokerWithClients,
  uniqueName,
  waitFor,
} from './support.js';

let rmq: LocalRocketMQ;
let admin: AdminClient;
let producer: Producer;
let ns: string[];

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}

async function cli(...argv: string[]): Promise<{ code: number; lines: string[]; errors: string[] }> {
  const io = capture();
  const code = await runCli([...argv, ...ns], io);
  return { code, lines: io.lines, errors: io.errors };
}

beforeAll(async () => {
  ({ rmq, admin, producer } = await startBrokerWithClients({
    brokerConf: { messageDelayLevel: '1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s' },
  }));
  ns = ['--namesrv-addr', rmq.namesrvAddr];
});

afterAll(async () => {
  await stopBrokerWithClients({ rmq, admin, producer });
});

function createTopic(queues: number): Promise<string> {
  return createRoutedTopic(admin, rmq.brokerAddr, 'CliT', queues);
}

describe('bolide message', () => {
  it('queries by key and client id, and views by offset id', async () => {
    const topic = await createTopic(2);
    const first = await producer.send({
      topic,
      body: Buffer.from('first order'),
      keys: ['order-7', 'cust-1'],
      tags: 'A',
    });
    const second = await producer.send({ topic, body: Buffer.from('second order'), keys: 'order-7' });
    await producer.send({ topic, body: Buffer.from('other'), keys: 'order-70' });

    let r = await cli('message', 'query', '--topic', topic, '--key', 'order-7');
    expect(r.code, r.errors.join('\n')).toBe(0);
    expect(r.lines[0]).toMatch(/^MSG ID\s+OFFSET MSG ID/);
    expect(r.lines).toHaveLength(3);
    expect(r.lines[1]).toContain(first.msgId);
    expect(r.lines[1]).toContain('"first order"');
    expect(r.lines[2]).toContain(second.msgId);

    r = await cli('message', 'query', '--topic', topic, '--uniq-key', second.msgId);
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(2);
    expect(r.lines[1]).toContain(second.offsetMsgId);

    r = await cli('message', 'query', '--topic', topic, '--key', 'nobody');
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toMatch(/no message/);

    r = await cli('message', 'view', '--id', first.offsetMsgId);
    expect(r.code, r.errors.join('\n')).toBe(0);
    expect(r.lines).toContain(`Topic:             ${topic}`);
    expect(r.lines).toContain('Keys:              order-7 cust-1');
    expect(r.lines).toContain('Tags:              A');
    expect(r.lines).toContain(`Msg id:            ${first.msgId}`);
    expect(r.lines).toContain(`Queue offset:      ${first.queueOffset}`);
    expect(r.lines.at(-1)).toBe('Body:              "first order"');

    // A client id is found through the topic, like the dashboard does.
    r = await cli('message', 'view', '--id', second.msgId, '--topic', topic);
    expect(r.code, r.errors.join('\n')).toBe(0);
    expect(r.lines).toContain(`Offset msg id:     ${second.offsetMsgId}`);

    // An offset id that points at no record start is refused by the broker, not answered with garbage.
    const bogus = `${first.offsetMsgId.slice(0, 16)}${(BigInt(`0x${first.offsetMsgId.slice(16)}`) + 3n).toString(16).padStart(16, '0').toUpperCase()}`;
    r = await cli('message', 'view', '--id', bogus);
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toMatch(/code 1|not find|can not/i);
  });

  it('lists dead letters with their original topic, re-sends them, and shows retry and DLQ in group stats', async () => {
    const topic = await createTopic(1);
    const group = uniqueName('CliDlqCG');
    const consumer = new PushConsumer({
      ...fastConsumerOptions(rmq.namesrvAddr, group),
      maxReconsumeTimes: 1,
    });
    const attempts: number[] = [];
    consumer.subscribe(topic, '*');
    consumer.registerMessageListener((msgs) => {
      for (const m of msgs) attempts.push(m.reconsumeTimes);
      return msgs.some((m) => m.keys === 'poison') ? 'RECONSUME_LATER' : 'CONSUME_SUCCESS';
    });
    await consumer.start();
    let dlqLines: string[] = [];
    try {
      const poison = await producer.send({
        topic,
        body: Buffer.from('bad payload'),
        keys: 'poison',
        tags: 'P',
      });
      await producer.send({ topic, body: Buffer.from('fine'), keys: 'fine' });
      await waitFor(
        async () => {
          const r = await cli('message', 'dlq', '--group', group);
          dlqLines = r.lines;
          return r.lines.some((l) => l.includes(poison.msgId));
        },
        60_000,
        () => `the poison message in the DLQ, attempts ${attempts}, last listing ${dlqLines.join('\n')}`,
      );
      expect(dlqLines[0]).toMatch(/^MSG ID\s+ORIGINAL TOPIC/);
      const row = dlqLines.find((l) => l.includes(poison.msgId))!;
      expect(row).toContain(topic);
      expect(row).toContain('"bad payload"');
      expect(dlqLines.at(-1)).toBe(`1 dead letter(s) in %DLQ%${group}`);
      expect(attempts.filter((a) => a > 0)).toEqual([1]);

      await waitFor(
        async () => {
          const r = await cli('group', 'stats', '--group', group);
          return (
            r.lines.some((l) => l.startsWith(`%DLQ%${group}`)) && /dead letters: 1/.test(r.lines.at(-1)!)
          );
        },
        20_000,
        () => 'DLQ row in group stats',
      );
      const stats = await cli('group', 'stats', '--group', group, '--topic', topic);
      expect(stats.code, stats.errors.join('\n')).toBe(0);
      const topics = new Set(stats.lines.slice(1, -1).map((l) => l.split(/\s+/)[0]));
      expect(topics).toEqual(new Set([topic, `%RETRY%${group}`, `%DLQ%${group}`]));
      expect(stats.lines.at(-1)).toMatch(/retry lag: \d+ {2}dead letters: 1 {2}total lag: \d+$/);
    } finally {
      await consumer.shutdown();
    }

    const resent = await cli('message', 'dlq', '--group', group, '--resend');
    expect(resent.code, resent.errors.join('\n')).toBe(0);
    expect(resent.lines.at(-1)).toMatch(new RegExp(`^resent \\S+ to ${topic}: SEND_OK`));
    await waitFor(
      async () => (await admin.queryMessagesByKey(topic, 'poison')).length === 2,
      20_000,
      () => 'the re-sent copy in the original topic',
    );
    const copies = await admin.queryMessagesByKey(topic, 'poison');
    expect(copies.map((m) => m.body.toString())).toEqual(['bad payload', 'bad payload']);
    expect(copies[1].tags).toBe('P');
    expect(copies[1].properties.BOLIDE_RESENT_FROM).toBeTruthy();
    expect(copies[1].msgId).not.toBe(copies[0].msgId);
  });

  it('resets a group to a time with no consumer online', async () => {
    const topic = await createTopic(2);
    const group = uniqueName('CliResetCG');
    for (let i = 0; i < 6; i++) await producer.send({ topic, body: Buffer.from(`early ${i}`) });
    await new Promise((r) => setTimeout(r, 50));
    const middle = Date.now();
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 4; i++) await producer.send({ topic, body: Buffer.from(`late ${i}`) });
    const stats = await admin.getTopicStats(topic);
    const total = stats.reduce((s, q) => s + q.maxOffset, 0);
    expect(total).toBe(10);

    let r = await cli('group', 'reset-offset', '--group', group, '--topic', topic, '--timestamp=-1');
    expect(r.code, r.errors.join('\n')).toBe(0);
    expect(r.lines.at(-1)).toMatch(/reset 2 queue\(s\).*offsets written directly/);
    let lag = (await admin.getConsumeStats(group, topic)).totalLag;
    expect(lag).toBe(0);

    r = await cli('group', 'reset-offset', '--group', group, '--topic', topic, '--timestamp', String(middle));
    expect(r.code, r.errors.join('\n')).toBe(0);
    lag = (await admin.getConsumeStats(group, topic)).totalLag;
    expect(lag).toBe(4);

    const d = new Date(0);
    const stamp = `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}${String(d.getHours()).padStart(2, '0')}${String(d.getMinutes()).padStart(2, '0')}${String(d.getSeconds()).padStart(2, '0')}`;
    r = await cli('group', 'reset-offset', '--group', group, '--topic', topic, '--timestamp', stamp);
    expect(r.code, r.errors.join('\n')).toBe(0);
    expect((await admin.getConsumeStats(group, topic)).totalLag).toBe(10);
    expect(r.lines.slice(1, 3).map((l) => l.split(/\s+/).at(-1))).toEqual(['0', '0']);
  });
});
