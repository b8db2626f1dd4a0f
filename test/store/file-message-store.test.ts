import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeRecord,
  encodeProperties,
  type FileMessageStore,
  MessageSysFlag,
  parseOffsetMessageId,
  tagsCodeOf,
} from '../../broker-image/src/store/index.js';
import { message, openStore, readQueue, tempDir } from './store-fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fresh(config = {}, options = {}): Promise<{ store: FileMessageStore; root: string }> {
  const dir = await tempDir();
  const store = await openStore(dir.path, config, options);
  cleanups.push(dir.remove, () => store.shutdown());
  return { store, root: dir.path };
}

describe('FileMessageStore', () => {
  it('appends and reads back with dense queue offsets, offset ids and verified records', async () => {
    const { store } = await fresh();
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => store.putMessage(message(i))));
    expect(results.map((r) => r.status)).toEqual(Array(100).fill('PUT_OK'));
    expect(results.map((r) => r.queueOffset)).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i)));
    const id = parseOffsetMessageId(results[7].msgIds[0]);
    expect(id.storeHost).toEqual({ address: '10.0.0.1', port: 10911 });
    expect(id.physicalOffset).toBe(results[7].physicalOffset);

    const records = await readQueue(store, 'TopicTest', 0);
    expect(records).toHaveLength(100);
    records.forEach((r, i) => {
      expect(r.queueOffset).toBe(BigInt(i));
      expect(r.physicalOffset).toBe(results[i].physicalOffset);
      expect(r.body.toString()).toBe(message(i).body.toString());
      expect(r.storeTimestamp).toBe(results[i].storeTimestamp);
      expect(r.properties.get('UNIQ_KEY')).toBe(`UNIQ${String(i).padStart(12, '0')}`);
    });

    const viewed = await store.lookMessageByOffset(results[42].physicalOffset);
    expect(decodeRecord(viewed!).queueOffset).toBe(42n);
    expect(await store.lookMessageByOffset(results[42].physicalOffset + 1n)).toBeNull();
    expect(await store.lookMessageByOffset(-5n)).toBeNull();
  });

  it('rolls over to new segments without splitting records and fills the end of each segment', async () => {
    const { store, root } = await fresh();
    const results: bigint[] = [];
    for (let i = 0; i < 40; i++) {
      const batch = await Promise.all(
        Array.from({ length: 25 }, (_, k) => store.putMessage(message(i * 25 + k))),
      );
      results.push(...batch.map((r) => r.physicalOffset));
    }
    const files = (await readdir(join(root, 'commitlog'))).sort();
    expect(files.length).toBeGreaterThan(3);
    expect(files).toEqual(files.map((_, i) => String(i * 65536).padStart(20, '0')));
    for (const f of files.slice(0, -1)) expect((await stat(join(root, 'commitlog', f))).size).toBe(65536);
    const records = await readQueue(store, 'TopicTest', 0);
    expect(records).toHaveLength(1000);
    for (const r of records) {
      const start = Number(r.physicalOffset);
      expect(Math.floor(start / 65536)).toBe(Math.floor((start + r.totalSize - 1) / 65536));
    }
    expect(records.map((r) => r.physicalOffset)).toEqual(results);
  });

  it('stores a batch contiguously in one queue and returns an id per record', async () => {
    const { store } = await fresh();
    await store.putMessage(message(0, { queueId: 3 }));
    const r = await store.putMessages([1, 2, 3].map((i) => message(i, { queueId: 3 })));
    expect(r.status).toBe('PUT_OK');
    expect(r.count).toBe(3);
    expect(r.queueOffset).toBe(1n);
    expect(r.msgIds).toHaveLength(3);
    const offsets = r.msgIds.map((id) => parseOffsetMessageId(id).physicalOffset);
    const records = await readQueue(store, 'TopicTest', 3);
    expect(records.slice(1).map((x) => x.physicalOffset)).toEqual(offsets);
    expect(records.map((x) => x.queueOffset)).toEqual([0n, 1n, 2n, 3n]);
    expect(Number(offsets[1] - offsets[0])).toBe(records[1].totalSize);
  });

  it('answers the pull statuses of protocol.md §3.3.3 and honours tag filters and limits', async () => {
    const { store } = await fresh();
    expect((await store.getMessage('TopicTest', 0, 0n, 32)).status).toBe('NO_MESSAGE_IN_QUEUE');
    for (let i = 0; i < 50; i++) await store.putMessage(message(i));
    const at = (o: bigint) => store.getMessage('TopicTest', 0, o, 32);
    expect((await at(50n)).status).toBe('OFFSET_OVERFLOW_ONE');
    expect((await at(50n)).nextBeginOffset).toBe(50n);
    expect((await at(70n)).status).toBe('OFFSET_OVERFLOW_BADLY');
    expect((await at(70n)).nextBeginOffset).toBe(50n);
    const all = await store.getMessage('TopicTest', 0, 0n, 100);
    expect(all.records).toHaveLength(32); // maxTransferCountOnMessageInMemory
    expect(all.nextBeginOffset).toBe(32n);
    const tagB = tagsCodeOf('TagB');
    const onlyB = await store.getMessage('TopicTest', 0, 0n, 10, (code) => code === BigInt(tagB));
    expect(onlyB.status).toBe('FOUND');
    expect(onlyB.records.map((r) => decodeRecord(r).queueOffset)).toEqual([
      1n,
      3n,
      5n,
      7n,
      9n,
      11n,
      13n,
      15n,
      17n,
      19n,
    ]);
    expect(onlyB.nextBeginOffset).toBe(20n);
    const none = await store.getMessage('TopicTest', 0, 0n, 10, () => false);
    expect(none.status).toBe('NO_MATCHED_MESSAGE');
    expect(none.nextBeginOffset).toBe(50n);
  });

  it('caps a pull at maxTransferBytesOnMessageInMemory but always returns one record', async () => {
    const { store } = await fresh({ maxTransferBytesOnMessageInMemory: 1000 });
    for (let i = 0; i < 10; i++) await store.putMessage(message(i, { body: Buffer.alloc(600, i) }));
    const r = await store.getMessage('TopicTest', 0, 0n, 32);
    expect(r.records).toHaveLength(1);
    expect(r.nextBeginOffset).toBe(1n);
  });

  it('finds messages by key and unique key within a time range', async () => {
    const { store } = await fresh();
    const results = [];
    for (let i = 0; i < 30; i++)
      results.push(await store.putMessage(message(i, { keys: `order-${i % 10}` })));
    const t0 = results[0].storeTimestamp;
    const tN = results[29].storeTimestamp;
    const byKey = await store.queryMessage('TopicTest', 'order-3', 32, t0, tN);
    expect(byKey.map((b) => decodeRecord(b).queueOffset).sort((a, b) => Number(a - b))).toEqual([
      3n,
      13n,
      23n,
    ]);
    const byUniq = await store.queryMessage('TopicTest', 'UNIQ000000000017', 32, t0, tN);
    expect(byUniq.map((b) => decodeRecord(b).queueOffset)).toEqual([17n]);
    expect(await store.queryMessage('OtherTopic', 'order-3', 32, t0, tN)).toEqual([]);
    expect(await store.queryMessage('TopicTest', 'order-3', 32, tN + 1, tN + 1000)).toEqual([]);
    expect(await store.queryMessage('TopicTest', 'order-3', 2, t0, tN)).toHaveLength(2);
    expect(store.indexLastUpdate().physicalOffset).toBe(results[29].physicalOffset);
  });

  it('searches queue offsets by store time and reports store timestamps', async () => {
    let now = 1_800_000_000_000;
    const { store } = await fresh({}, { clock: () => now });
    for (let i = 0; i < 20; i++) {
      now = 1_800_000_000_000 + i * 1000;
      await store.putMessage(message(i));
    }
    expect(await store.getOffsetInQueueByTime('TopicTest', 0, 1_800_000_005_000)).toBe(5n);
    expect(await store.getOffsetInQueueByTime('TopicTest', 0, 1_800_000_005_001)).toBe(6n);
    expect(await store.getOffsetInQueueByTime('TopicTest', 0, 0)).toBe(0n);
    expect(await store.getOffsetInQueueByTime('TopicTest', 0, 1_900_000_000_000)).toBe(20n);
    expect(await store.getOffsetInQueueByTime('Nope', 0, 0)).toBe(0n);
    expect(await store.getMessageStoreTimestamp('TopicTest', 0, 7n)).toBe(1_800_000_007_000);
    expect(await store.getMessageStoreTimestamp('TopicTest', 0, 99n)).toBe(-1);
  });

  it('fires arrival listeners on dispatch, before the append is answered', async () => {
    const { store } = await fresh();
    const seen: string[] = [];
    const off = store.onArrival((topic, queueId, maxOffset, tagsCode) =>
      seen.push(`${topic}/${queueId}/${maxOffset}/${tagsCode}`),
    );
    const done = store.putMessage(message(0, { queueId: 2, tags: 'TagA' }));
    await done;
    expect(seen).toEqual([`TopicTest/2/1/${tagsCodeOf('TagA')}`]);
    off();
    await store.putMessage(message(1, { queueId: 2 }));
    expect(seen).toHaveLength(1);
  });

  it('waits for fdatasync in SYNC_FLUSH and answers FLUSH_DISK_TIMEOUT (never OK) when it is late', async () => {
    let gate: (() => void) | undefined;
    let slow = false;
    const { store } = await fresh(
      { flushDiskType: 'SYNC_FLUSH', syncFlushTimeout: 200 },
      {
        syncCommitLogFile: async () => {
          if (slow) await new Promise<void>((r) => (gate = r));
        },
      },
    );
    const ok = await Promise.all(Array.from({ length: 20 }, (_, i) => store.putMessage(message(i))));
    expect(ok.every((r) => r.status === 'PUT_OK')).toBe(true);
    expect(store.stats().commitLogFlushedOffset).toBeGreaterThanOrEqual(Number(ok[19].physicalOffset));
    slow = true;
    const late = await Promise.all(Array.from({ length: 5 }, (_, i) => store.putMessage(message(100 + i))));
    expect(late.map((r) => r.status)).toEqual(Array(5).fill('FLUSH_DISK_TIMEOUT'));
    // The message is stored even though durability was not confirmed in time.
    expect(late[0].queueOffset).toBe(20n);
    const noWait = await store.putMessage({ ...message(200), waitStoreMsgOK: false });
    expect(noWait.status).toBe('PUT_OK');
    slow = false;
    gate?.();
    const after = await store.putMessage(message(300));
    expect(after.status).toBe('PUT_OK');
    expect(store.stats().syncFlushTimeouts).toBe(5);
  });

  it('stores properties exactly as the Java encoding (unicode, long values, nulls skipped, batches)', async () => {
    const { store } = await fresh();
    const props = (i: number) =>
      new Map<string, string>([
        ['UNIQ_KEY', `UNIQ${i}`],
        ['KEYS', i === 1 ? 'clé ключ 键' : `plain-${i} other`],
        ['TAGS', i === 2 ? 'x'.repeat(200) : 'TagA'],
        ['SKIPPED', null as unknown as string],
        ['名前', `값-${'v'.repeat(i * 40)}`],
      ]);
    const single = await store.putMessage(message(0, { properties: props(1) }));
    const batch = await store.putMessages([0, 2, 3].map((i) => message(i, { properties: props(i) })));
    expect([single.status, batch.status]).toEqual(['PUT_OK', 'PUT_OK']);
    const records = await readQueue(store, 'TopicTest', 0);
    const expected = [1, 0, 2, 3].map((i) => encodeProperties(props(i)));
    expect(records.map((r) => r.propertiesString)).toEqual(expected);
    expect(await store.queryMessage('TopicTest', 'ключ', 4, 0, Date.now() + 1000)).toHaveLength(1);
  });

  it('lets timers and I/O run while appenders that were just answered keep appending', async () => {
    // One segment for the whole test: a segment roll waits for the file system, which hides the bug.
    const { store } = await fresh({
      flushDiskType: 'ASYNC_FLUSH',
      mappedFileSizeCommitLog: 256 * 1024 * 1024,
    });
    // Each appender appends again as soon as it is answered (in a microtask). Once appends are
    // flowing, a timer asks them to stop. If the writer kept writing what arrives meanwhile
    // without yielding to the event loop, the timer would never fire: the cap fails the test.
    const cap = 200_000;
    let stop = false;
    let armed = false;
    let appended = 0;
    const appender = async () => {
      while (!stop && appended < cap) {
        const r = await store.putMessage(message(appended++));
        expect(r.status).toBe('PUT_OK');
        if (appended >= 2000 && !armed) {
          armed = true;
          setTimeout(() => {
            stop = true;
          }, 0);
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, appender));
    expect(stop).toBe(true);
    expect(appended).toBeLessThan(cap);
  });

  it('completes a checkpoint while appenders keep appending', async () => {
    const { store } = await fresh({
      flushDiskType: 'ASYNC_FLUSH',
      mappedFileSizeCommitLog: 256 * 1024 * 1024,
      mappedFileSizeConsumeQueue: 20 * 300_000,
    });
    // The checkpoint makes consume queues durable up to where they are when it starts; with
    // appends never pausing, it must not wait for the queues to have nothing left to write.
    const cap = 300_000;
    let stop = false;
    let checkpoint: Promise<void> | undefined;
    let appended = 0;
    const appender = async () => {
      while (!stop && appended < cap) {
        await store.putMessage(message(appended++));
        if (appended >= 2000 && !checkpoint) {
          checkpoint = store.runCheckpoint().then(() => {
            stop = true;
          });
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, appender));
    expect(stop).toBe(true);
    expect(appended).toBeLessThan(cap);
  });

  it('refuses bad messages with a status and a reason', async () => {
    const { store } = await fresh();
    expect((await store.putMessage(message(0, { topic: '' }))).status).toBe('MESSAGE_ILLEGAL');
    expect((await store.putMessage(message(0, { topic: '../etc' }))).remark).toMatch(/not a valid name/);
    expect((await store.putMessage(message(0, { topic: 'x'.repeat(128) }))).remark).toMatch(/127/);
    const big = await store.putMessage(message(0, { body: Buffer.alloc(16 * 1024 + 1) }));
    expect(big.status).toBe('MESSAGE_ILLEGAL');
    expect(big.remark).toMatch(/maxMessageSize/);
    const props = message(0);
    props.properties.set('BIG', 'v'.repeat(33000));
    expect((await store.putMessage(props)).status).toBe('PROPERTIES_SIZE_EXCEEDED');
    const sep = message(0);
    sep.properties.set('K', 'a\u0001b');
    expect((await store.putMessage(sep)).status).toBe('MESSAGE_ILLEGAL');
    const mixed = await store.putMessages([message(1), message(2, { queueId: 1 })]);
    expect(mixed.remark).toMatch(/same topic and queue/);
    expect((await store.putMessage(message(0, { queueId: -1 }))).status).toBe('MESSAGE_ILLEGAL');
    expect((await store.putMessage(message(0, { bornHost: { address: 'nope', port: 1 } }))).status).toBe(
      'MESSAGE_ILLEGAL',
    );
    expect(store.getMaxOffsetInQueue('TopicTest', 0)).toBe(0n);
    expect(store.stats().putFailures.MESSAGE_ILLEGAL).toBeGreaterThan(5);
  });

  it('keeps half and rolled-back transaction records out of consume queues, indexes commits', async () => {
    const { store } = await fresh();
    const half = await store.putMessage(message(1, { sysFlag: MessageSysFlag.TRANSACTION_PREPARED_TYPE }));
    expect(half.queueOffset).toBe(0n);
    expect(store.getMaxOffsetInQueue('TopicTest', 0)).toBe(0n);
    expect(await store.lookMessageByOffset(half.physicalOffset)).not.toBeNull();
    const commit = await store.putMessage(
      message(1, {
        sysFlag: MessageSysFlag.TRANSACTION_COMMIT_TYPE,
        preparedTransactionOffset: half.physicalOffset,
      }),
    );
    expect(commit.queueOffset).toBe(0n);
    expect(store.getMaxOffsetInQueue('TopicTest', 0)).toBe(1n);
    const [rec] = await readQueue(store, 'TopicTest', 0);
    expect(rec.preparedTransactionOffset).toBe(half.physicalOffset);
  });

  it('stores IPv6 hosts and puts the delivery time in the tag slot of SCHEDULE_TOPIC_XXXX', async () => {
    const { store } = await fresh({ storeHost: '[2001:db8::1]:10911' });
    const r = await store.putMessage(message(0, { bornHost: { address: '2001:db8::9', port: 4000 } }));
    expect(r.msgIds[0]).toHaveLength(56);
    const [rec] = await readQueue(store, 'TopicTest', 0);
    expect(rec.bornHost).toEqual({ address: '2001:db8::9', port: 4000 });
    expect(rec.storeHost).toEqual({ address: '2001:db8::1', port: 10911 });

    const scheduled = message(1, { topic: 'SCHEDULE_TOPIC_XXXX', queueId: 2 });
    scheduled.properties.set('DELAY', '3');
    const s = await store.putMessage(scheduled);
    const codes: bigint[] = [];
    await store.getMessage('SCHEDULE_TOPIC_XXXX', 2, 0n, 1, (code) => {
      codes.push(code);
      return true;
    });
    expect(codes).toEqual([BigInt(s.storeTimestamp + 10_000)]);
  });

  it('deletes a topic’s consume queues', async () => {
    const { store, root } = await fresh();
    await store.putMessage(message(0, { topic: 'Gone' }));
    await store.putMessage(message(1));
    await store.flush();
    await store.runCheckpoint();
    await store.deleteTopics(['Gone']);
    expect(store.getMaxOffsetInQueue('Gone', 0)).toBe(0n);
    expect(store.topics()).toEqual(['TopicTest']);
    expect(await readdir(join(root, 'consumequeue'))).toEqual(['TopicTest']);
    expect((await store.putMessage(message(2, { topic: 'Gone' }))).queueOffset).toBe(0n);
  });

  it('refuses appends after shutdown and reads them back after a clean restart without scanning', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const a = await openStore(dir.path);
    for (let i = 0; i < 300; i++) await a.putMessage(message(i, { queueId: i % 3 }));
    await a.shutdown();
    expect((await a.putMessage(message(1))).status).toBe('SERVICE_NOT_AVAILABLE');
    const b = await openStore(dir.path);
    cleanups.push(() => b.shutdown());
    expect(b.recovery?.mode).toBe('clean');
    expect(b.recovery?.scannedBytes).toBe(0);
    for (let q = 0; q < 3; q++) expect((await readQueue(b, 'TopicTest', q)).length).toBe(100);
    const next = await b.putMessage(message(1000, { queueId: 1 }));
    expect(next.queueOffset).toBe(100n);
    expect((await b.queryMessage('TopicTest', 'order-299', 4, 0, Date.now() + 1000)).length).toBe(1);
  });

  it('refuses a second store on the same directory', async () => {
    const { root } = await fresh();
    await expect(openStore(root)).rejects.toThrow(/already open in this process/);
  });
});
