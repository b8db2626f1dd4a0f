// Delayed messages over real sockets (protocol.md §6): a message with a DELAY level waits in
// SCHEDULE_TOPIC_XXXX and reaches its topic within 1 s after its time, once — also when the broker
// is stopped and restarted on the same data directory mid-delay; after a SIGKILL it still arrives
// (at-least-once).

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOffsetMessageId } from '../../broker-image/src/message/index.js';
import { ResponseCode } from '../../broker-image/src/protocol/index.js';
import { decodeRecord, type StoredRecord } from '../../broker-image/src/store/record-codec.js';
import { type LocalRocketMQ, startStandalone } from '../harness/local-rocketmq.js';
import { RawRocketMQ, recordsOf } from '../harness/raw-rocketmq.js';
import { createTopic, pullNext, uniqueName } from './support.js';

// Level 1 = 1 s, level 2 = 6 s: long enough for a restart in the middle.
const LEVELS = '1s 6s 10s 30s';
const LONG_DELAY_MS = 6000;

const dirs: string[] = [];
const running: LocalRocketMQ[] = [];
const raw = new RawRocketMQ();

afterAll(async () => {
  await raw.close();
  for (const mq of running) await mq.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function start(dataDir: string, mode: 'in-process' | 'child-process' = 'in-process') {
  const mq = await startStandalone({
    dataDir,
    keepData: true,
    mode,
    brokerConf: { messageDelayLevel: LEVELS },
  });
  running.push(mq);
  return mq;
}

async function stop(mq: LocalRocketMQ, how: 'stop' | 'kill' = 'stop') {
  running.splice(running.indexOf(mq), 1);
  if (how === 'kill') await mq.kill!();
  else expect(await mq.stop()).toBeOneOf([0, undefined]);
}

/** The stored schedule record of a send (its store time starts the delay). */
async function scheduledRecord(broker: string, msgId: string): Promise<StoredRecord> {
  const view = await raw.invoke(broker, 33, { offset: String(parseOffsetMessageId(msgId).physicalOffset) });
  expect(view.code).toBe(ResponseCode.SUCCESS);
  return decodeRecord(view.body!);
}

/** Every record of queue 0, once one with body `last` is there, then a quiet period for extras. */
async function collect(broker: string, topic: string, last: string): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  const deadline = Date.now() + 30_000;
  while (!out.some((r) => r.body.toString() === last) && Date.now() < deadline) {
    const got = await pullNext(raw, broker, 'Reader', topic, 0, BigInt(out.length), deadline - Date.now());
    out.push(...got.records);
  }
  const extra = await raw.pull(broker, {
    group: 'Reader',
    topic,
    queueId: 0,
    offset: out.length,
    subscription: '*',
    suspendTimeoutMillis: 2000,
  });
  out.push(...recordsOf(extra));
  return out;
}

describe('delayed messages', () => {
  it('arrive once, within 1 s after their time, across a graceful restart mid-delay', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'bolide-delay-'));
    dirs.push(dataDir);
    const topic = uniqueName('DelayT');
    const first = await start(dataDir);
    await createTopic(raw, first.brokerAddr, topic, 1);

    const short = await raw.send(first.brokerAddr, topic, 'short', {
      queueId: 0,
      properties: { DELAY: '1' },
    });
    const long = await raw.send(first.brokerAddr, topic, 'long', { queueId: 0, properties: { DELAY: '2' } });
    expect(short.code).toBe(ResponseCode.SUCCESS);
    expect(long.code).toBe(ResponseCode.SUCCESS);
    // The send answer names the requested queue; the record sits in the schedule queue for its level.
    expect(long.extFields.queueId).toBe('0');
    const parked = await scheduledRecord(first.brokerAddr, long.extFields.msgId);
    expect(parked).toMatchObject({ topic: 'SCHEDULE_TOPIC_XXXX', queueId: 1 });
    expect(parked.properties.get('REAL_TOPIC')).toBe(topic);
    // Nothing is visible before its time.
    const early = await raw.pull(first.brokerAddr, {
      group: 'Reader',
      topic,
      queueId: 0,
      offset: 0,
      subscription: '*',
      suspend: false,
    });
    expect(early.code).toBe(ResponseCode.PULL_NOT_FOUND);

    const shortArrived = await pullNext(raw, first.brokerAddr, 'Reader', topic, 0, 0n);
    expect(shortArrived.records.map((r) => r.body.toString())).toEqual(['short']);
    await stop(first);
    expect(await readFile(join(dataDir, 'config', 'delayOffset.json'), 'utf8')).toMatch(
      /"offsetTable":\{1:1/,
    );

    const second = await start(dataDir);
    const records = await collect(second.brokerAddr, topic, 'long');
    expect(records.map((r) => r.body.toString())).toEqual(['short', 'long']);
    const delivered = records[1];
    const lateBy = delivered.storeTimestamp - (parked.storeTimestamp + LONG_DELAY_MS);
    console.log(`delayed message re-put ${lateBy} ms after its time (across a restart)`);
    expect(lateBy).toBeGreaterThanOrEqual(0);
    expect(lateBy).toBeLessThanOrEqual(1000);
    expect(delivered.properties.has('DELAY')).toBe(false);
    expect(delivered.bornTimestamp).toBe(parked.bornTimestamp);
    await stop(second);
  });

  it('still arrive after a SIGKILL mid-delay (at-least-once)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'bolide-delay-kill-'));
    dirs.push(dataDir);
    const topic = uniqueName('DelayKillT');
    const first = await start(dataDir, 'child-process');
    await createTopic(raw, first.brokerAddr, topic, 1);
    await raw.send(first.brokerAddr, topic, 'before-kill', { queueId: 0, properties: { DELAY: '1' } });
    const long = await raw.send(first.brokerAddr, topic, 'after-kill', {
      queueId: 0,
      properties: { DELAY: '2' },
    });
    const parked = await scheduledRecord(first.brokerAddr, long.extFields.msgId);
    const arrived = await pullNext(raw, first.brokerAddr, 'Reader', topic, 0, 0n);
    expect(arrived.records.map((r) => r.body.toString())).toEqual(['before-kill']);
    await stop(first, 'kill');

    const second = await start(dataDir, 'child-process');
    const records = await collect(second.brokerAddr, topic, 'after-kill');
    const bodies = records.map((r) => r.body.toString());
    const repeats = bodies.filter((b) => b === 'before-kill').length - 1;
    console.log(`after SIGKILL: ${bodies.join(', ')} (repeated deliveries: ${repeats})`);
    expect(bodies.filter((b) => b === 'after-kill')).toHaveLength(1);
    expect(bodies[0]).toBe('before-kill');
    const last = records.find((r) => r.body.toString() === 'after-kill')!;
    expect(last.storeTimestamp).toBeGreaterThanOrEqual(parked.storeTimestamp + LONG_DELAY_MS);
    await stop(second);
  });
});
