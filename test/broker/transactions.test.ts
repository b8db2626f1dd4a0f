// Transactional messages over real sockets (protocol.md §3.10): half messages stay invisible until
// END_TRANSACTION commits them; a rollback discards; a half message left open is checked back with
// CHECK_TRANSACTION_STATE on a producer connection of its group, whose answer is applied; after
// transactionCheckMax unanswered checks it is discarded; all of it survives a broker restart.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOffsetMessageId } from '../../broker-image/src/message/index.js';
import {
  createRequest,
  markOneway,
  type RemotingCommand,
  ResponseCode,
} from '../../broker-image/src/protocol/index.js';
import { RemotingClient } from '../../broker-image/src/remoting/index.js';
import { decodeRecord, type StoredRecord } from '../../broker-image/src/store/record-codec.js';
import { type LocalRocketMQ, startStandalone } from '../harness/local-rocketmq.js';
import { RawRocketMQ, recordsOf } from '../harness/raw-rocketmq.js';
import { createTopic, pullNext, uniqueName, waitFor } from './support.js';

const TX_CONF = { transactionTimeOut: 1000, transactionCheckInterval: 200, transactionCheckMax: 3 };

interface CheckSeen {
  header: Record<string, string>;
  record: StoredRecord;
  at: number;
}

/** A producer connection of one group that records check-backs and may answer them. */
class TxProducer {
  readonly client = new RemotingClient({ name: 'tx-producer' });
  readonly raw = new RawRocketMQ(this.client);
  readonly checks: CheckSeen[] = [];
  answer: ((record: StoredRecord) => 0 | 8 | 12) | undefined;

  constructor(
    readonly group: string,
    private broker: string,
  ) {
    this.client.registerProcessor(39, async (req: RemotingCommand) => {
      const record = decodeRecord(req.body!);
      this.checks.push({ header: { ...req.extFields }, record, at: Date.now() });
      const outcome = this.answer?.(record);
      if (outcome !== undefined) {
        const end = markOneway(
          createRequest(37, {
            extFields: {
              producerGroup: this.group,
              tranStateTableOffset: req.extFields.tranStateTableOffset,
              commitLogOffset: req.extFields.commitLogOffset,
              commitOrRollback: String(outcome),
              fromTransactionCheck: 'true',
              msgId: req.extFields.msgId,
              transactionId: req.extFields.transactionId,
            },
          }),
        );
        (await this.client.getChannel(this.broker)).invokeOneway(end);
      }
      return null;
    });
  }

  async register(broker = this.broker) {
    this.broker = broker;
    const r = await this.raw.heartbeat(broker, `127.0.0.1@${this.group}`, undefined, this.group);
    expect(r.code).toBe(ResponseCode.SUCCESS);
  }

  /** Sends a half message (sysFlag 4, TRAN_MSG, PGROUP) the way the Java producer does. */
  async sendHalf(topic: string, body: string, uniqKey = uniqueName('UK').toUpperCase()) {
    const r = await this.raw.send(this.broker, topic, body, {
      queueId: 0,
      sysFlag: 4,
      producerGroup: this.group,
      properties: { TRAN_MSG: 'true', PGROUP: this.group, UNIQ_KEY: uniqKey },
    });
    expect(r.code, r.remark).toBe(ResponseCode.SUCCESS);
    return { msgId: r.extFields.msgId, queueOffset: r.extFields.queueOffset, uniqKey };
  }

  end(
    half: { msgId: string; queueOffset: string; uniqKey: string },
    outcome: 0 | 8 | 12,
    broker = this.broker,
  ) {
    return this.raw.invoke(broker, 37, {
      producerGroup: this.group,
      tranStateTableOffset: half.queueOffset,
      commitLogOffset: String(parseOffsetMessageId(half.msgId).physicalOffset),
      commitOrRollback: String(outcome),
      fromTransactionCheck: 'false',
      msgId: half.uniqKey,
    });
  }

  close() {
    return this.client.close();
  }
}

const raw = new RawRocketMQ();

async function visible(broker: string, topic: string, waitMs = 0): Promise<StoredRecord[]> {
  const r = await raw.pull(broker, {
    group: 'TxReader',
    topic,
    queueId: 0,
    offset: 0,
    subscription: '*',
    suspend: waitMs > 0,
    suspendTimeoutMillis: Math.max(waitMs, 100),
  });
  return recordsOf(r);
}

afterAll(async () => {
  await raw.close();
});

describe('transactions', () => {
  let mq: LocalRocketMQ;
  let broker: string;

  beforeAll(async () => {
    mq = await startStandalone({ brokerConf: TX_CONF });
    broker = mq.brokerAddr;
  });

  afterAll(async () => {
    await mq?.stop();
  });

  it('keeps a half message invisible until commit, then delivers it once', async () => {
    const topic = uniqueName('TxCommitT');
    await createTopic(raw, broker, topic, 1);
    const producer = new TxProducer(uniqueName('TxPG'), broker);
    try {
      await producer.register();
      const half = await producer.sendHalf(topic, 'paid');
      const view = await raw.invoke(broker, 33, {
        offset: String(parseOffsetMessageId(half.msgId).physicalOffset),
      });
      const halfRecord = decodeRecord(view.body!);
      expect(halfRecord.topic).toBe('RMQ_SYS_TRANS_HALF_TOPIC');
      expect(halfRecord.properties.get('REAL_TOPIC')).toBe(topic);
      expect(await visible(broker, topic)).toEqual([]);
      // A query by key does not find it in the real topic either.
      const q = await raw.invoke(broker, 12, {
        topic,
        key: half.uniqKey,
        maxNum: '32',
        beginTimestamp: '0',
        endTimestamp: String(Date.now() + 60_000),
      });
      expect(q.code).toBe(ResponseCode.QUERY_NOT_FOUND);

      expect((await producer.end(half, 0)).code).toBe(ResponseCode.SUCCESS);
      expect(await visible(broker, topic)).toEqual([]);
      const commit = await producer.end(half, 8);
      expect(commit.code, commit.remark).toBe(ResponseCode.SUCCESS);
      const got = await pullNext(raw, broker, 'TxReader', topic, 0, 0n);
      expect(got.records).toHaveLength(1);
      const r = got.records[0];
      expect(r.body.toString()).toBe('paid');
      expect(r.sysFlag & 0xc).toBe(8);
      expect(r.preparedTransactionOffset).toBe(halfRecord.physicalOffset);
      expect(r.properties.get('UNIQ_KEY')).toBe(half.uniqKey);
      // A second answer for the same transaction changes nothing.
      expect((await producer.end(half, 8)).code).toBe(ResponseCode.SUCCESS);
      expect((await producer.end(half, 12)).code).toBe(ResponseCode.SUCCESS);
      expect(await visible(broker, topic, 1500)).toHaveLength(1);
      expect(producer.checks).toEqual([]);
    } finally {
      await producer.close();
    }
  });

  it('discards a rolled-back half message and never checks it', async () => {
    const topic = uniqueName('TxRollbackT');
    await createTopic(raw, broker, topic, 1);
    const producer = new TxProducer(uniqueName('TxPG'), broker);
    try {
      await producer.register();
      const half = await producer.sendHalf(topic, 'cancelled');
      expect((await producer.end(half, 12)).code).toBe(ResponseCode.SUCCESS);
      expect(await visible(broker, topic, 2500)).toEqual([]);
      expect(producer.checks).toEqual([]);
    } finally {
      await producer.close();
    }
  });

  it('checks an open transaction back with its producer and applies the answer', async () => {
    const topic = uniqueName('TxCheckT');
    await createTopic(raw, broker, topic, 1);
    const producer = new TxProducer(uniqueName('TxPG'), broker);
    producer.answer = () => 8;
    try {
      await producer.register();
      const sentAt = Date.now();
      const half = await producer.sendHalf(topic, 'decided-later');
      const got = await pullNext(raw, broker, 'TxReader', topic, 0, 0n, 15_000);
      expect(got.records.map((r) => r.body.toString())).toEqual(['decided-later']);
      expect(producer.checks).toHaveLength(1);
      const check = producer.checks[0];
      expect(check.at - sentAt).toBeGreaterThanOrEqual(TX_CONF.transactionTimeOut - 20);
      expect(check.header).toMatchObject({
        tranStateTableOffset: half.queueOffset,
        commitLogOffset: String(parseOffsetMessageId(half.msgId).physicalOffset),
        msgId: half.uniqKey,
        transactionId: half.uniqKey,
        offsetMsgId: half.msgId,
      });
      expect(check.record.topic).toBe(topic);
      expect(check.record.body.toString()).toBe('decided-later');
      // Answered: no further checks.
      await new Promise((r) => setTimeout(r, 1500));
      expect(producer.checks).toHaveLength(1);
    } finally {
      await producer.close();
    }
  });

  it('gives up after transactionCheckMax unanswered checks', async () => {
    const topic = uniqueName('TxGiveUpT');
    await createTopic(raw, broker, topic, 1);
    const producer = new TxProducer(uniqueName('TxPG'), broker);
    try {
      await producer.register();
      await producer.sendHalf(topic, 'nobody-knows');
      await waitFor(
        () => producer.checks.length >= 3,
        15_000,
        () => `3 checks, have ${producer.checks.length}`,
      );
      const gaps = producer.checks.slice(1).map((c, i) => c.at - producer.checks[i].at);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(TX_CONF.transactionTimeOut - 20);
      await new Promise((r) => setTimeout(r, 2500));
      expect(producer.checks).toHaveLength(3);
      expect(await visible(broker, topic)).toEqual([]);
    } finally {
      await producer.close();
    }
  });

  it('answers bad END_TRANSACTION requests clearly', async () => {
    const topic = uniqueName('TxBadT');
    await createTopic(raw, broker, topic, 1);
    const producer = new TxProducer(uniqueName('TxPG'), broker);
    try {
      await producer.register();
      const half = await producer.sendHalf(topic, 'x');
      const wrongGroup = await raw.invoke(broker, 37, {
        producerGroup: 'SomeoneElse',
        tranStateTableOffset: half.queueOffset,
        commitLogOffset: String(parseOffsetMessageId(half.msgId).physicalOffset),
        commitOrRollback: '8',
        msgId: half.uniqKey,
      });
      expect(wrongGroup.code).toBe(ResponseCode.SYSTEM_ERROR);
      expect(wrongGroup.remark).toMatch(/producer group wrong/);
      const wrongOffset = await producer.end({ ...half, queueOffset: '999' }, 8);
      expect(wrongOffset.code).toBe(ResponseCode.SYSTEM_ERROR);
      const plain = await raw.send(broker, topic, 'plain', { queueId: 0 });
      const notHalf = await producer.end({ ...half, msgId: plain.extFields.msgId }, 8);
      expect(notHalf.code).toBe(ResponseCode.SYSTEM_ERROR);
      expect(notHalf.remark).toMatch(/not a half/);
      const nowhere = await producer.end({ ...half, msgId: '7F00000100002A9F000000E8D4A51000' }, 8);
      expect(nowhere.code).toBe(ResponseCode.SYSTEM_ERROR);
      const badOutcome = await producer.end(half, 3 as 8);
      expect(badOutcome.code).toBe(ResponseCode.SYSTEM_ERROR);
      // Still pending and still committable.
      expect((await producer.end(half, 8)).code).toBe(ResponseCode.SUCCESS);
      const bodies = (await visible(broker, topic, 1000)).map((r) => r.body.toString());
      expect(bodies).toEqual(['plain', 'x']);
    } finally {
      await producer.close();
    }
  });
});

describe('transactions across a restart', () => {
  let dataDir: string;
  let mq: LocalRocketMQ | undefined;

  afterAll(async () => {
    await mq?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps outcomes and open transactions through a broker restart', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bolide-tx-restart-'));
    const conf = { ...TX_CONF, transactionCheckMax: 15 };
    mq = await startStandalone({ dataDir, keepData: true, brokerConf: conf });
    const topic = uniqueName('TxRestartT');
    await createTopic(raw, mq.brokerAddr, topic, 1);
    const group = uniqueName('TxPG');
    const before = new TxProducer(group, mq.brokerAddr);
    let committed: Awaited<ReturnType<TxProducer['sendHalf']>>;
    let open: Awaited<ReturnType<TxProducer['sendHalf']>>;
    try {
      await before.register();
      committed = await before.sendHalf(topic, 'committed');
      const rolledBack = await before.sendHalf(topic, 'rolled-back');
      open = await before.sendHalf(topic, 'open');
      expect((await before.end(committed, 8)).code).toBe(ResponseCode.SUCCESS);
      expect((await before.end(rolledBack, 12)).code).toBe(ResponseCode.SUCCESS);
    } finally {
      await before.close();
    }
    await mq.stop();
    expect(await readFile(join(dataDir, 'config', 'transaction.json'), 'utf8')).toMatch(/"halfOffset":\d+/);

    mq = await startStandalone({ dataDir, keepData: true, brokerConf: conf });
    const after = new TxProducer(group, mq.brokerAddr);
    after.answer = () => 8;
    try {
      await after.register();
      await waitFor(
        async () => (await visible(mq!.brokerAddr, topic)).length >= 2,
        15_000,
        () => 'the open transaction committed through a check-back',
      );
      await new Promise((r) => setTimeout(r, 1500));
      const bodies = (await visible(mq.brokerAddr, topic)).map((r) => r.body.toString());
      expect(bodies).toEqual(['committed', 'open']);
      // Only the open one was checked; the finished ones were remembered.
      expect(after.checks.map((c) => c.header.tranStateTableOffset)).toEqual([open.queueOffset]);
      // An answer for an already finished transaction is still a no-op after the restart.
      expect((await after.end(committed, 8)).code).toBe(ResponseCode.SUCCESS);
      expect(await visible(mq.brokerAddr, topic, 1000)).toHaveLength(2);
    } finally {
      await after.close();
    }
  });
});
