// The broker at the protocol level, over real sockets against `startStandalone` (name server +
// broker on loopback, real store in a temp dir): registration and routes, send/pull, long
// polling, tag filtering, offsets, heartbeats, admin and stats, and bad input.

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tagHashCode } from '../../broker-image/src/broker/index.js';
import { parseOffsetMessageId } from '../../broker-image/src/message/index.js';
import {
  createResponse,
  parseBodyJson,
  type RemotingCommand,
  ResponseCode,
} from '../../broker-image/src/protocol/index.js';
import { RemotingClient } from '../../broker-image/src/remoting/index.js';
import { type LocalRocketMQ, startStandalone } from '../harness/local-rocketmq.js';
import { RawRocketMQ, recordsOf } from '../harness/raw-rocketmq.js';
import { createTopic as createBrokerTopic } from './support.js';

let mq: LocalRocketMQ;
let raw: RawRocketMQ;
let broker: string;
let namesrv: string;

beforeAll(async () => {
  mq = await startStandalone({ brokerConf: { maxMessageSize: 65536 } });
  raw = new RawRocketMQ();
  broker = mq.brokerAddr;
  namesrv = mq.namesrvAddr;
});

afterAll(async () => {
  await raw?.close();
  await mq?.stop();
});

function createTopic(topic: string, queues = 4, perm = 6): Promise<void> {
  return createBrokerTopic(raw, broker, topic, queues, perm);
}

async function route(topic: string): Promise<RemotingCommand> {
  return raw.invoke(namesrv, 105, { topic });
}

describe('registration and routes', () => {
  it('registers with the name server at start, with TBW102 and the system topics', async () => {
    const r = await route('TBW102');
    expect(r.code).toBe(ResponseCode.SUCCESS);
    const data = JSON.parse(r.body!.toString());
    expect(data.brokerDatas).toEqual([
      { cluster: 'DefaultCluster', brokerName: 'broker-a', brokerAddrs: { '0': broker } },
    ]);
    expect(data.queueDatas[0]).toMatchObject({ perm: 7, writeQueueNums: 8 });
    const cluster = parseBodyJson(await raw.invoke(namesrv, 106).then((x) => x.body!)) as Record<
      string,
      unknown
    >;
    expect(cluster.clusterAddrTable).toEqual({ DefaultCluster: ['broker-a'] });
  });

  it('publishes a created topic to the name server at once', async () => {
    await createTopic('RouteMe', 3);
    await expect
      .poll(async () => (await route('RouteMe')).code, { timeout: 5000, interval: 50 })
      .toBe(ResponseCode.SUCCESS);
    const data = JSON.parse((await route('RouteMe')).body!.toString());
    expect(data.queueDatas).toEqual([
      { brokerName: 'broker-a', readQueueNums: 3, writeQueueNums: 3, perm: 6, topicSysFlag: 0 },
    ]);
  });

  it('auto-creates a topic on first send from TBW102 and routes it', async () => {
    expect((await route('AutoCreated')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    const sent = await raw.send(broker, 'AutoCreated', 'first');
    expect(sent.code, sent.remark).toBe(ResponseCode.SUCCESS);
    await expect
      .poll(async () => (await route('AutoCreated')).code, { timeout: 5000, interval: 50 })
      .toBe(ResponseCode.SUCCESS);
    const data = JSON.parse((await route('AutoCreated')).body!.toString());
    expect(data.queueDatas[0]).toMatchObject({ readQueueNums: 4, writeQueueNums: 4, perm: 6 });
  });
});

describe('send and pull', () => {
  it('round-trips messages with their properties, offsets and offset message ids', async () => {
    await createTopic('RoundTrip', 2);
    const sent: { msgId: string; queueId: number; queueOffset: bigint; body: string }[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await raw.send(broker, 'RoundTrip', `body-${i}`, {
        queueId: i % 2,
        tag: 'TagA',
        keys: `k${i} other`,
      });
      expect(r.code, r.remark).toBe(ResponseCode.SUCCESS);
      expect(r.extFields).toMatchObject({
        MSG_REGION: 'DefaultRegion',
        TRACE_ON: 'true',
        queueId: String(i % 2),
      });
      sent.push({
        msgId: r.extFields.msgId,
        queueId: i % 2,
        queueOffset: BigInt(r.extFields.queueOffset),
        body: `body-${i}`,
      });
    }
    expect(sent.filter((s) => s.queueId === 0).map((s) => s.queueOffset)).toEqual([0n, 1n, 2n, 3n, 4n]);

    for (const queueId of [0, 1]) {
      const r = await raw.pull(broker, {
        group: 'G1',
        topic: 'RoundTrip',
        queueId,
        offset: 0,
        subscription: '*',
      });
      expect(r.code).toBe(ResponseCode.SUCCESS);
      expect(r.extFields).toMatchObject({
        nextBeginOffset: '5',
        minOffset: '0',
        maxOffset: '5',
        suggestWhichBrokerId: '0',
      });
      const records = recordsOf(r);
      const expected = sent.filter((s) => s.queueId === queueId);
      expect(records.map((x) => x.body.toString())).toEqual(expected.map((s) => s.body));
      records.forEach((rec, i) => {
        expect(rec.topic).toBe('RoundTrip');
        expect(rec.queueId).toBe(queueId);
        expect(rec.queueOffset).toBe(BigInt(i));
        expect(rec.properties.get('TAGS')).toBe('TagA');
        expect(rec.properties.get('KEYS')).toBe(expected[i].body.replace('body-', 'k') + ' other');
        expect(rec.properties.get('CLUSTER')).toBe('DefaultCluster');
        expect(rec.properties.has('WAIT')).toBe(false);
        expect(rec.storeHost).toEqual({ address: '127.0.0.1', port: Number(broker.split(':')[1]) });
        expect(parseOffsetMessageId(expected[i].msgId).physicalOffset).toBe(rec.physicalOffset);
      });
    }
  });

  it('stores a batch as consecutive records of one queue', async () => {
    await createTopic('Batch', 1);
    const items = ['a', 'bb', 'ccc'].map((body, i) => {
      const props = Buffer.from(`TAGS\u0001T${i}\u0002UNIQ_KEY\u0001U${i}`);
      const item = Buffer.alloc(20 + body.length + 2 + props.length);
      item.writeInt32BE(item.length, 0);
      item.writeInt32BE(i, 12);
      item.writeInt32BE(body.length, 16);
      item.write(body, 20);
      item.writeInt16BE(props.length, 20 + body.length);
      props.copy(item, 22 + body.length);
      return item;
    });
    const r = await raw.invoke(
      broker,
      320,
      {
        a: 'PG',
        b: 'Batch',
        c: 'TBW102',
        d: '4',
        e: '0',
        f: '0',
        g: String(Date.now()),
        h: '0',
        i: 'WAIT\u0001true',
        m: 'true',
      },
      Buffer.concat(items),
    );
    expect(r.code, r.remark).toBe(ResponseCode.SUCCESS);
    expect(r.extFields.queueOffset).toBe('0');
    expect(r.extFields.msgId.split(',')).toHaveLength(3);
    const records = recordsOf(
      await raw.pull(broker, { group: 'G1', topic: 'Batch', queueId: 0, offset: 0, subscription: '*' }),
    );
    expect(
      records.map((x) => [x.body.toString(), x.flag, x.properties.get('TAGS'), x.properties.get('UNIQ_KEY')]),
    ).toEqual([
      ['a', 0, 'T0', 'U0'],
      ['bb', 1, 'T1', 'U1'],
      ['ccc', 2, 'T2', 'U2'],
    ]);
    expect(records.map((x) => x.queueOffset)).toEqual([0n, 1n, 2n]);
  });

  it('answers offsets past the end, before the start and on empty queues as RocketMQ does', async () => {
    await createTopic('Edges', 2);
    await raw.send(broker, 'Edges', 'x', { queueId: 0 });
    const past = await raw.pull(broker, {
      group: 'G1',
      topic: 'Edges',
      queueId: 0,
      offset: 5,
      subscription: '*',
      suspend: false,
    });
    expect(past.code).toBe(ResponseCode.PULL_OFFSET_MOVED);
    expect(past.extFields.nextBeginOffset).toBe('1');
    const atEnd = await raw.pull(broker, {
      group: 'G1',
      topic: 'Edges',
      queueId: 0,
      offset: 1,
      subscription: '*',
      suspend: false,
    });
    expect(atEnd.code).toBe(ResponseCode.PULL_NOT_FOUND);
    expect(atEnd.extFields).toMatchObject({ nextBeginOffset: '1', maxOffset: '1' });
    const empty = await raw.pull(broker, {
      group: 'G1',
      topic: 'Edges',
      queueId: 1,
      offset: 0,
      subscription: '*',
      suspend: false,
    });
    expect(empty.code).toBe(ResponseCode.PULL_NOT_FOUND);
    expect(empty.extFields).toMatchObject({
      nextBeginOffset: '0',
      minOffset: '0',
      maxOffset: '0',
      suggestWhichBrokerId: '0',
    });
    const badQueue = await raw.pull(broker, {
      group: 'G1',
      topic: 'Edges',
      queueId: 7,
      offset: 0,
      subscription: '*',
    });
    expect(badQueue.code).toBe(ResponseCode.SYSTEM_ERROR);
    const noTopic = await raw.pull(broker, {
      group: 'G1',
      topic: 'NoSuchTopic',
      queueId: 0,
      offset: 0,
      subscription: '*',
    });
    expect(noTopic.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
  });
});

describe('long polling', () => {
  it('answers a held pull when a message arrives, and the pull completes after the send', async () => {
    await createTopic('LongPoll', 1);
    const latencies: number[] = [];
    for (let round = 0; round < 5; round++) {
      const pulled = raw.pull(broker, {
        group: 'LP',
        topic: 'LongPoll',
        queueId: 0,
        offset: round,
        subscription: '*',
        suspendTimeoutMillis: 20_000,
      });
      let pullDone = 0;
      pulled.then(() => {
        pullDone = performance.now();
      });
      // Let the pull reach the broker and be parked.
      await expect.poll(() => mq.roles!.broker!.heldPulls, { timeout: 5000, interval: 5 }).toBe(1);
      const sentAt = performance.now();
      const sent = await raw.send(broker, 'LongPoll', `m${round}`, { queueId: 0 });
      expect(sent.code).toBe(ResponseCode.SUCCESS);
      const r = await pulled;
      expect(r.code).toBe(ResponseCode.SUCCESS);
      expect(recordsOf(r).map((x) => x.body.toString())).toEqual([`m${round}`]);
      expect(pullDone).toBeGreaterThanOrEqual(sentAt);
      latencies.push(pullDone - sentAt);
    }
    // A correctness bound only; the benchmark measures the real figure.
    expect(Math.max(...latencies)).toBeLessThan(1000);
    console.log(
      `long-poll wake latency (send → pull answered), ms: ${latencies.map((l) => l.toFixed(1)).join(' ')}`,
    );
  });

  it('answers PULL_NOT_FOUND when the hold expires', async () => {
    await createTopic('LongPollExpire', 1);
    const started = performance.now();
    const r = await raw.pull(broker, {
      group: 'LP',
      topic: 'LongPollExpire',
      queueId: 0,
      offset: 0,
      subscription: '*',
      suspendTimeoutMillis: 500,
    });
    expect(r.code).toBe(ResponseCode.PULL_NOT_FOUND);
    expect(r.extFields.nextBeginOffset).toBe('0');
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('keeps holding a pull when only non-matching tags arrive', async () => {
    await createTopic('LongPollTags', 1);
    const pulled = raw.pull(broker, {
      group: 'LP',
      topic: 'LongPollTags',
      queueId: 0,
      offset: 0,
      subscription: 'Wanted',
      suspendTimeoutMillis: 20_000,
    });
    await expect.poll(() => mq.roles!.broker!.heldPulls, { timeout: 5000, interval: 5 }).toBe(1);
    await raw.send(broker, 'LongPollTags', 'other', { queueId: 0, tag: 'Other' });
    await new Promise((r) => setTimeout(r, 200));
    expect(mq.roles!.broker!.heldPulls).toBe(1);
    await raw.send(broker, 'LongPollTags', 'wanted', { queueId: 0, tag: 'Wanted' });
    const r = await pulled;
    expect(r.code).toBe(ResponseCode.SUCCESS);
    expect(recordsOf(r).map((x) => x.body.toString())).toEqual(['wanted']);
  });

  it('drops held pulls of a closed connection', async () => {
    await createTopic('LongPollClose', 1);
    const other = new RawRocketMQ(new RemotingClient({ name: 'closer' }));
    const pending = other
      .pull(broker, {
        group: 'LP',
        topic: 'LongPollClose',
        queueId: 0,
        offset: 0,
        subscription: '*',
        suspendTimeoutMillis: 20_000,
      })
      .catch((e: Error) => e);
    await expect.poll(() => mq.roles!.broker!.heldPulls, { timeout: 5000, interval: 5 }).toBe(1);
    await other.close();
    expect(await pending).toBeInstanceOf(Error);
    await expect.poll(() => mq.roles!.broker!.heldPulls, { timeout: 5000, interval: 5 }).toBe(0);
  });
});

describe('tag filtering', () => {
  it('delivers only records whose tag hash is subscribed', async () => {
    await createTopic('Tags', 1);
    for (let i = 0; i < 12; i++)
      await raw.send(broker, 'Tags', `m${i}`, { queueId: 0, tag: ['TagA', 'TagB', 'TagC'][i % 3] });
    const onlyA = recordsOf(
      await raw.pull(broker, { group: 'GT', topic: 'Tags', queueId: 0, offset: 0, subscription: 'TagA' }),
    );
    expect(onlyA.map((x) => x.body.toString())).toEqual(['m0', 'm3', 'm6', 'm9']);
    const aOrC = recordsOf(
      await raw.pull(broker, {
        group: 'GT',
        topic: 'Tags',
        queueId: 0,
        offset: 0,
        subscription: 'TagA || TagC',
      }),
    );
    expect(aOrC.map((x) => x.properties.get('TAGS'))).toEqual([
      'TagA',
      'TagC',
      'TagA',
      'TagC',
      'TagA',
      'TagC',
      'TagA',
      'TagC',
    ]);
    const none = await raw.pull(broker, {
      group: 'GT',
      topic: 'Tags',
      queueId: 0,
      offset: 0,
      subscription: 'TagZ',
      suspend: false,
    });
    expect(none.code).toBe(ResponseCode.PULL_RETRY_IMMEDIATELY);
    expect(none.extFields.nextBeginOffset).toBe('12');
    expect(tagHashCode('TagA')).toBe(2598919);
  });

  it('uses the heartbeat subscription when the pull carries none, as Java push consumers do', async () => {
    await createTopic('HeartbeatSub', 1);
    await raw.send(broker, 'HeartbeatSub', 'a', { queueId: 0, tag: 'TagA' });
    await raw.send(broker, 'HeartbeatSub', 'b', { queueId: 0, tag: 'TagB' });
    const before = await raw.pull(broker, { group: 'GHB', topic: 'HeartbeatSub', queueId: 0, offset: 0 });
    expect(before.code).toBe(ResponseCode.SUBSCRIPTION_NOT_EXIST);
    const hb = await raw.heartbeat(broker, 'client-1', {
      group: 'GHB',
      subscriptions: [{ topic: 'HeartbeatSub', expression: 'TagB' }],
    });
    expect(hb.code).toBe(ResponseCode.SUCCESS);
    const after = await raw.pull(broker, { group: 'GHB', topic: 'HeartbeatSub', queueId: 0, offset: 0 });
    expect(recordsOf(after).map((x) => x.body.toString())).toEqual(['b']);
    const newer = await raw.pull(broker, {
      group: 'GHB',
      topic: 'HeartbeatSub',
      queueId: 0,
      offset: 0,
      subVersion: 99,
    });
    expect(newer.code).toBe(ResponseCode.SUBSCRIPTION_NOT_LATEST);
  });
});

describe('offsets', () => {
  it('stores, queries and piggy-backs consumer offsets', async () => {
    await createTopic('Offsets', 2);
    for (let i = 0; i < 5; i++) await raw.send(broker, 'Offsets', `m${i}`, { queueId: 0 });
    // A brand-new group on a young queue starts at 0 (Java's rule for a "hot" first record).
    const fresh = await raw.invoke(broker, 14, { consumerGroup: 'GO', topic: 'Offsets', queueId: '0' });
    expect(fresh.code).toBe(ResponseCode.SUCCESS);
    expect(fresh.extFields.offset).toBe('0');
    const upd = await raw.invoke(broker, 15, {
      consumerGroup: 'GO',
      topic: 'Offsets',
      queueId: '0',
      commitOffset: '3',
    });
    expect(upd.code).toBe(ResponseCode.SUCCESS);
    expect(
      (await raw.invoke(broker, 14, { consumerGroup: 'GO', topic: 'Offsets', queueId: '0' })).extFields
        .offset,
    ).toBe('3');
    await raw.pull(broker, {
      group: 'GO',
      topic: 'Offsets',
      queueId: 0,
      offset: 3,
      subscription: '*',
      commitOffset: 4,
    });
    expect(
      (await raw.invoke(broker, 14, { consumerGroup: 'GO', topic: 'Offsets', queueId: '0' })).extFields
        .offset,
    ).toBe('4');
    expect((await raw.invoke(broker, 30, { topic: 'Offsets', queueId: '0' })).extFields.offset).toBe('5');
    expect((await raw.invoke(broker, 31, { topic: 'Offsets', queueId: '0' })).extFields.offset).toBe('0');
    expect((await raw.invoke(broker, 30, { topic: 'Offsets', queueId: '1' })).extFields.offset).toBe('0');
    const earliest = await raw.invoke(broker, 32, { topic: 'Offsets', queueId: '0' });
    expect(Number(earliest.extFields.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect((await raw.invoke(broker, 32, { topic: 'Offsets', queueId: '1' })).extFields.timestamp).toBe('-1');
    const future = await raw.invoke(broker, 29, {
      topic: 'Offsets',
      queueId: '0',
      timestamp: String(Date.now() + 60_000),
    });
    expect(future.code).toBe(ResponseCode.SUCCESS);
    const past = await raw.invoke(broker, 29, { topic: 'Offsets', queueId: '0', timestamp: '0' });
    expect(past.extFields.offset).toBe('0');
  });
  it('keeps a commit that arrives behind a pull carrying an older one', async () => {
    // A consumer's final UPDATE_CONSUMER_OFFSET at shutdown may follow a pull that piggy-backs the
    // offset it had before; the pull's commit is applied after its store read and must not win.
    await createTopic('OffsetsOrder', 1);
    await raw.send(broker, 'OffsetsOrder', 'm0', { queueId: 0 });
    const query = async () =>
      (await raw.invoke(broker, 14, { consumerGroup: 'GOO', topic: 'OffsetsOrder', queueId: '0' })).extFields
        .offset;
    for (let round = 1; round <= 20; round++) {
      const pull = raw.pull(broker, {
        group: 'GOO',
        topic: 'OffsetsOrder',
        queueId: 0,
        offset: 0,
        subscription: '*',
        suspend: false,
        commitOffset: round * 10,
      });
      const update = raw.invoke(broker, 15, {
        consumerGroup: 'GOO',
        topic: 'OffsetsOrder',
        queueId: '0',
        commitOffset: String(round * 10 + 5),
      });
      expect((await Promise.all([pull, update])).map((r) => r.code)).toEqual([
        ResponseCode.SUCCESS,
        ResponseCode.SUCCESS,
      ]);
      expect(await query(), `round ${round}`).toBe(String(round * 10 + 5));
    }
  });
});

describe('consume and topic stats', () => {
  it('reports per-queue offsets and lag', async () => {
    await createTopic('Stats', 2);
    for (let i = 0; i < 6; i++) await raw.send(broker, 'Stats', `m${i}`, { queueId: i % 2 });
    await raw.invoke(broker, 15, { consumerGroup: 'GS', topic: 'Stats', queueId: '0', commitOffset: '1' });
    await raw.invoke(broker, 15, { consumerGroup: 'GS', topic: 'Stats', queueId: '1', commitOffset: '3' });
    const r = await raw.invoke(broker, 208, { consumerGroup: 'GS', topic: 'Stats' });
    expect(r.code).toBe(ResponseCode.SUCCESS);
    const text = r.body!.toString();
    // MessageQueue objects as keys (fastjson's form), as Java admin tools expect.
    expect(text).toContain(
      '{"brokerName":"broker-a","queueId":0,"topic":"Stats"}:{"brokerOffset":3,"consumerOffset":1,',
    );
    const stats = parseBodyJson(r.body!) as {
      offsetTable: Record<string, { brokerOffset: bigint; consumerOffset: bigint }>;
    };
    let lag = 0n;
    for (const row of Object.values(stats.offsetTable))
      lag += BigInt(row.brokerOffset) - BigInt(row.consumerOffset);
    expect(lag).toBe(2n);
    // Without a topic: every topic the group has offsets for.
    const all = parseBodyJson((await raw.invoke(broker, 208, { consumerGroup: 'GS' })).body!) as {
      offsetTable: object;
    };
    expect(Object.keys(all.offsetTable)).toHaveLength(2);

    const ts = await raw.invoke(broker, 202, { topic: 'Stats' });
    expect(ts.body!.toString()).toContain(
      '{"brokerName":"broker-a","queueId":1,"topic":"Stats"}:{"minOffset":0,"maxOffset":3,',
    );
    expect((await raw.invoke(broker, 202, { topic: 'NoSuch' })).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    const who = parseBodyJson((await raw.invoke(broker, 300, { topic: 'Stats' })).body!) as {
      groupList: string[];
    };
    expect(who.groupList).toContain('GS');
  });

  it('serves broker runtime info with the keys the dashboard parses', async () => {
    const r = await raw.invoke(broker, 28);
    const table = (parseBodyJson(r.body!) as { table: Record<string, string> }).table;
    expect(table.brokerVersionDesc).toBe('V4_9_8');
    for (const key of ['putTps', 'getTransferedTps', 'getTotalTps', 'getFoundTps', 'getMissTps']) {
      expect(table[key]).toMatch(/^\d+(\.\d+)? \d+(\.\d+)? \d+(\.\d+)?$/);
    }
    expect(Number(table.msgPutTotalTodayNow)).toBeGreaterThan(0);
    expect(Number.isFinite(Number(table.commitLogDiskRatio))).toBe(true);
    expect(Number(table.earliestMessageTimeStamp)).toBeGreaterThan(0);
  });

  it('exposes Prometheus metrics and health over HTTP', async () => {
    const metrics = await fetch(`http://127.0.0.1:${mq.httpPort}/metrics`).then((x) => x.text());
    expect(metrics).toMatch(/bolide_messages_in_total\{topic="RoundTrip"\} 10/);
    expect(metrics).toContain('bolide_put_latency_seconds_bucket');
    expect(metrics).toContain('bolide_commitlog_size_bytes');
    expect(metrics).toMatch(/bolide_consumer_lag\{group="GS",topic="Stats"\} 2/);
    expect(metrics).toContain('bolide_namesrv_brokers 1');
    const health = await fetch(`http://127.0.0.1:${mq.httpPort}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', role: 'standalone' });
  });
});

describe('clients and groups', () => {
  it('lists group members, creates the retry topic and notifies members of changes', async () => {
    await createTopic('Members', 2);
    const notified: string[] = [];
    const a = new RemotingClient({ name: 'member-a' });
    a.registerProcessor(40, async (req) => {
      notified.push(req.extFields.consumerGroup);
      return null;
    });
    const rawA = new RawRocketMQ(a);
    const rawB = new RawRocketMQ(new RemotingClient({ name: 'member-b' }));
    try {
      const sub = {
        group: 'GM',
        subscriptions: [
          { topic: 'Members', expression: '*' },
          { topic: '%RETRY%GM', expression: '*' },
        ],
      };
      expect((await rawA.heartbeat(broker, '10.0.0.1@a', sub, 'PGM')).code).toBe(ResponseCode.SUCCESS);
      await expect
        .poll(async () => (await route('%RETRY%GM')).code, { timeout: 5000, interval: 50 })
        .toBe(ResponseCode.SUCCESS);
      const countBefore = notified.length;
      expect((await rawB.heartbeat(broker, '10.0.0.2@b', sub)).code).toBe(ResponseCode.SUCCESS);
      await expect.poll(() => notified.length, { timeout: 5000 }).toBeGreaterThan(countBefore);
      const list = await raw.invoke(broker, 38, { consumerGroup: 'GM' });
      expect(JSON.parse(list.body!.toString()).consumerIdList.sort()).toEqual(['10.0.0.1@a', '10.0.0.2@b']);

      const conns = parseBodyJson((await raw.invoke(broker, 203, { consumerGroup: 'GM' })).body!) as {
        connectionSet: { clientId: string }[];
        messageModel: string;
      };
      expect(conns.connectionSet.map((c) => c.clientId).sort()).toEqual(['10.0.0.1@a', '10.0.0.2@b']);
      expect(conns.messageModel).toBe('CLUSTERING');
      const producers = parseBodyJson((await raw.invoke(broker, 204, { producerGroup: 'PGM' })).body!) as {
        connectionSet: unknown[];
      };
      expect(producers.connectionSet).toHaveLength(1);

      // B leaves by closing its connection: A is told, and the list shrinks.
      const countMid = notified.length;
      await rawB.close();
      await expect.poll(() => notified.length, { timeout: 5000 }).toBeGreaterThan(countMid);
      const after = await raw.invoke(broker, 38, { consumerGroup: 'GM' });
      expect(JSON.parse(after.body!.toString()).consumerIdList).toEqual(['10.0.0.1@a']);

      expect((await rawA.invoke(broker, 35, { clientID: '10.0.0.1@a', consumerGroup: 'GM' })).code).toBe(
        ResponseCode.SUCCESS,
      );
      const gone = await raw.invoke(broker, 38, { consumerGroup: 'GM' });
      expect(gone.code).toBe(ResponseCode.SYSTEM_ERROR);
      expect(gone.remark).toBe('no consumer for this group, GM');
      expect((await raw.invoke(broker, 203, { consumerGroup: 'GM' })).code).toBe(
        ResponseCode.CONSUMER_NOT_ONLINE,
      );
    } finally {
      await rawA.close();
      await rawB.close();
    }
  });

  it('relays GET_CONSUMER_RUNNING_INFO to the consumer and back', async () => {
    const c = new RemotingClient({ name: 'running-info' });
    c.registerProcessor(307, async (req) =>
      createResponse(req, ResponseCode.SUCCESS, { body: Buffer.from('{"properties":{}}') }),
    );
    const rc = new RawRocketMQ(c);
    try {
      await rc.heartbeat(broker, '10.0.0.3@ri', {
        group: 'GRI',
        subscriptions: [{ topic: 'Members', expression: '*' }],
      });
      const r = await raw.invoke(broker, 307, {
        consumerGroup: 'GRI',
        clientId: '10.0.0.3@ri',
        jstackEnable: 'false',
      });
      expect(r.code).toBe(ResponseCode.SUCCESS);
      expect(r.body!.toString()).toBe('{"properties":{}}');
      const missing = await raw.invoke(broker, 307, { consumerGroup: 'GRI', clientId: 'nobody' });
      expect(missing.code).toBe(ResponseCode.SYSTEM_ERROR);
    } finally {
      await rc.close();
    }
  });

  it('checks client configs: TAG accepted, SQL92 refused', async () => {
    const tag = await raw.invoke(
      broker,
      46,
      {},
      Buffer.from(
        '{"clientId":"c","group":"G","subscriptionData":{"topic":"T","subString":"a||b","expressionType":"TAG"}}',
      ),
    );
    expect(tag.code).toBe(ResponseCode.SUCCESS);
    const sql = await raw.invoke(
      broker,
      46,
      {},
      Buffer.from(
        '{"clientId":"c","group":"G","subscriptionData":{"topic":"T","subString":"a > 1","expressionType":"SQL92"}}',
      ),
    );
    expect(sql.code).toBe(ResponseCode.SYSTEM_ERROR);
  });
});

describe('topic and group admin', () => {
  it('creates, lists and deletes topics; refuses system topics and bad names', async () => {
    await createTopic('AdminTopic', 5);
    const all = parseBodyJson((await raw.invoke(broker, 21)).body!) as {
      topicConfigTable: Record<string, { writeQueueNums: number }>;
    };
    expect(all.topicConfigTable.AdminTopic.writeQueueNums).toBe(5);
    expect(all.topicConfigTable.TBW102).toBeDefined();
    const sys = await raw.invoke(broker, 17, {
      topic: 'TBW102',
      defaultTopic: 'TBW102',
      readQueueNums: '1',
      writeQueueNums: '1',
      perm: '6',
      topicFilterType: 'SINGLE_TAG',
      order: 'false',
    });
    expect(sys.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(sys.remark).toContain('conflict with system topic');
    const bad = await raw.invoke(broker, 17, {
      topic: 'bad/topic',
      defaultTopic: 'TBW102',
      readQueueNums: '1',
      writeQueueNums: '1',
      perm: '6',
      topicFilterType: 'SINGLE_TAG',
      order: 'false',
    });
    expect(bad.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect((await raw.invoke(broker, 215, { topic: 'AdminTopic' })).code).toBe(ResponseCode.SUCCESS);
    const after = parseBodyJson((await raw.invoke(broker, 21)).body!) as {
      topicConfigTable: Record<string, unknown>;
    };
    expect(after.topicConfigTable.AdminTopic).toBeUndefined();
    const sysList = parseBodyJson((await raw.invoke(broker, 305)).body!) as { topicList: string[] };
    expect(sysList.topicList).toEqual(
      expect.arrayContaining(['TBW102', 'SCHEDULE_TOPIC_XXXX', 'DefaultCluster', 'broker-a']),
    );
  });

  it('creates, lists and deletes subscription groups', async () => {
    const body = Buffer.from(
      JSON.stringify({ groupName: 'AdminGroup', retryMaxTimes: 5, consumeBroadcastEnable: false }),
    );
    expect((await raw.invoke(broker, 200, {}, body)).code).toBe(ResponseCode.SUCCESS);
    const all = parseBodyJson((await raw.invoke(broker, 201)).body!) as {
      subscriptionGroupTable: Record<
        string,
        { retryMaxTimes: number; consumeBroadcastEnable: boolean; retryQueueNums: number }
      >;
    };
    expect(all.subscriptionGroupTable.AdminGroup).toMatchObject({
      retryMaxTimes: 5,
      consumeBroadcastEnable: false,
      retryQueueNums: 1,
    });
    expect(all.subscriptionGroupTable.TOOLS_CONSUMER).toBeDefined();
    expect((await raw.invoke(broker, 207, { groupName: 'AdminGroup', removeOffset: 'true' })).code).toBe(
      ResponseCode.SUCCESS,
    );
    const after = parseBodyJson((await raw.invoke(broker, 201)).body!) as {
      subscriptionGroupTable: Record<string, unknown>;
    };
    expect(after.subscriptionGroupTable.AdminGroup).toBeUndefined();
    expect((await raw.invoke(broker, 200, {}, Buffer.from('{"retryMaxTimes":1}'))).code).toBe(
      ResponseCode.SYSTEM_ERROR,
    );
  });

  it('serves its config and applies live changes', async () => {
    const cfg = await raw.invoke(broker, 26);
    expect(cfg.body!.toString()).toContain('brokerName=broker-a');
    expect(JSON.parse(cfg.extFields.version)).toHaveProperty('counter');
    const upd = await raw.invoke(broker, 25, {}, Buffer.from('traceOn=false\n'));
    expect(upd.code).toBe(ResponseCode.SUCCESS);
    expect((await raw.send(broker, 'RoundTrip', 'x')).extFields.TRACE_ON).toBe('false');
    await raw.invoke(broker, 25, {}, Buffer.from('traceOn=true\n'));
    const restartOnly = await raw.invoke(broker, 25, {}, Buffer.from('listenPort=1\n'));
    expect(restartOnly.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(restartOnly.remark).toContain('listenPort');
  });
});

describe('bad input', () => {
  it('answers each bad request with the right code and keeps serving', async () => {
    const unknown = await raw.invoke(broker, 9999);
    expect(unknown.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    expect(unknown.remark).toContain('9999');

    const missing = await raw.invoke(broker, 310, { a: 'PG', b: 'RoundTrip' }, Buffer.from('x'));
    expect(missing.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(missing.remark).toMatch(/custom field <\w+> is null/);
    const missingPull = await raw.invoke(broker, 11, { consumerGroup: 'G' });
    expect(missingPull.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(missingPull.remark).toMatch(/custom field <topic> is null/);
    const notANumber = await raw.invoke(broker, 30, { topic: 'RoundTrip', queueId: 'zero' });
    expect(notANumber.code).toBe(ResponseCode.SYSTEM_ERROR);

    const badTopic = await raw.send(broker, 'bad topic!', 'x');
    expect(badTopic.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(badTopic.remark).toContain('illegal characters');
    const tooLong = await raw.send(broker, 'T'.repeat(128), 'x');
    expect(tooLong.code).toBe(ResponseCode.SYSTEM_ERROR);
    const forbidden = await raw.send(broker, 'SCHEDULE_TOPIC_XXXX', 'x');
    expect(forbidden.code).toBe(ResponseCode.NO_PERMISSION);

    const big = await raw.send(broker, 'RoundTrip', Buffer.alloc(65537, 1));
    expect(big.code).toBe(ResponseCode.MESSAGE_ILLEGAL);
    expect(big.remark).toContain('maxMessageSize');
    const bigProps = await raw.send(broker, 'RoundTrip', 'x', { properties: { big: 'v'.repeat(40_000) } });
    expect(bigProps.code).toBe(ResponseCode.MESSAGE_ILLEGAL);
    const atLimit = await raw.send(broker, 'RoundTrip', Buffer.alloc(65536, 1));
    expect(atLimit.code).toBe(ResponseCode.SUCCESS);

    const badBatch = await raw.invoke(
      broker,
      320,
      { a: 'PG', b: 'Batch', c: 'TBW102', d: '4', e: '0', f: '0', g: '1', h: '0' },
      Buffer.from([0, 0, 0, 99, 1, 2, 3]),
    );
    expect(badBatch.code).toBe(ResponseCode.MESSAGE_ILLEGAL);
    const badHeartbeat = await raw.invoke(broker, 34, {}, Buffer.from('{"clientID":'));
    expect(badHeartbeat.code).toBe(ResponseCode.SYSTEM_ERROR);
    const oddHeartbeat = await raw.invoke(
      broker,
      34,
      {},
      Buffer.from('{"clientID":"x","consumerDataSet":[null]}'),
    );
    expect(oddHeartbeat.code).toBe(ResponseCode.SYSTEM_ERROR);
    const badGroup = await raw.pull(broker, {
      group: 'bad group!',
      topic: 'RoundTrip',
      queueId: 0,
      offset: 0,
      subscription: '*',
    });
    expect(badGroup.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(badGroup.remark).toContain('illegal characters');
    const badSub = await raw.pull(broker, {
      group: 'G1',
      topic: 'RoundTrip',
      queueId: 0,
      offset: 0,
      subscription: '||',
    });
    expect(badSub.code).toBe(ResponseCode.SUBSCRIPTION_PARSE_FAILED);

    expect((await raw.send(broker, 'RoundTrip', 'still fine')).code).toBe(ResponseCode.SUCCESS);
  });

  it('closes a connection that sends garbage, and other clients are unaffected', async () => {
    const socket = connect(Number(broker.split(':')[1]), '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    // A frame whose header claims a serialization type that does not exist.
    socket.write(Buffer.from([0, 0, 0, 8, 0x07, 0, 0, 4, 1, 2, 3, 4]));
    await closed;
    const huge = connect(Number(broker.split(':')[1]), '127.0.0.1');
    const hugeClosed = new Promise<void>((resolve) => huge.on('close', () => resolve()));
    huge.on('error', () => {});
    huge.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
    await hugeClosed;
    expect((await raw.send(broker, 'RoundTrip', 'after garbage')).code).toBe(ResponseCode.SUCCESS);
  });

  it('refuses unknown topics when auto-creation is off', async () => {
    const strict = await startStandalone({ brokerConf: { autoCreateTopicEnable: false } });
    const r2 = new RawRocketMQ(new RemotingClient({ name: 'strict' }));
    try {
      expect((await r2.invoke(strict.namesrvAddr, 105, { topic: 'TBW102' })).code).toBe(
        ResponseCode.TOPIC_NOT_EXIST,
      );
      const r = await r2.send(strict.brokerAddr, 'NotThere', 'x');
      expect(r.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
      expect(r.remark).toContain('topic[NotThere] not exist');
    } finally {
      await r2.close();
      await strict.stop();
    }
  });
});

describe('retry topics', () => {
  it('redirects a retry message past its max reconsume times to the DLQ', async () => {
    const r = await raw.send(broker, '%RETRY%GR', 'again', { reconsumeTimes: 3, maxReconsumeTimes: 3 });
    expect(r.code, r.remark).toBe(ResponseCode.SUCCESS);
    const dlq = recordsOf(
      await raw.pull(broker, {
        group: 'tool',
        topic: '%DLQ%GR',
        queueId: 0,
        offset: 0,
        subscription: '*',
        suspend: false,
      }),
    );
    expect(dlq.map((x) => [x.topic, x.body.toString(), x.reconsumeTimes])).toEqual([['%DLQ%GR', 'again', 3]]);
    const below = await raw.send(broker, '%RETRY%GR', 'once', {
      reconsumeTimes: 1,
      maxReconsumeTimes: 3,
      queueId: 0,
    });
    expect(below.code).toBe(ResponseCode.SUCCESS);
    const retry = recordsOf(
      await raw.pull(broker, {
        group: 'GR',
        topic: '%RETRY%GR',
        queueId: 0,
        offset: 0,
        subscription: '*',
        suspend: false,
      }),
    );
    expect(retry.map((x) => x.body.toString())).toEqual(['once']);
  });
});
