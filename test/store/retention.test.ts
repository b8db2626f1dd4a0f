import { readdir, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writevAt } from '../../broker-image/src/store/file-io.js';
import { decodeRecord, type FileMessageStore, type PutResult } from '../../broker-image/src/store/index.js';
import { memoryLogger, message, openStore, readQueue, tempDir } from './store-fixtures.js';

const SEGMENT = 64 * 1024;
const HOUR = 3_600_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function atLocalHour(hour: number): number {
  const d = new Date();
  d.setHours(hour, 30, 0, 0);
  return d.getTime();
}

interface Harness {
  store: FileMessageStore;
  root: string;
  results: PutResult[];
  setClock(ms: number): void;
  setUsage(ratio: number): void;
  /** Sets the modification time of commit-log segment `i` to `ageHours` before the clock. */
  age(i: number, ageHours: number): Promise<void>;
  segments(): Promise<string[]>;
}

async function harness(n = 600): Promise<Harness> {
  const dir = await tempDir();
  let now = atLocalHour(10);
  let usage = 0.1;
  const store = await openStore(
    dir.path,
    { fileReservedTime: 72, deleteWhen: '04', indexFlushInterval: 100 },
    { clock: () => now, diskUsage: async () => usage, indexRunEntries: 256 },
  );
  cleanups.push(dir.remove, () => store.shutdown());
  const results: PutResult[] = [];
  for (let i = 0; i < n; i++) {
    results.push(await store.putMessage(message(i, { keys: `k${i}` })));
    if (i % 100 === 99) {
      now += 200;
      await store.runCheckpoint();
    }
  }
  const segments = async () => (await readdir(join(dir.path, 'commitlog'))).sort();
  return {
    store,
    root: dir.path,
    results,
    setClock: (ms) => {
      now = ms;
    },
    setUsage: (r) => {
      usage = r;
    },
    age: async (i, ageHours) => {
      const t = (now - ageHours * HOUR) / 1000;
      await utimes(join(dir.path, 'commitlog', (await segments())[i]), t, t);
    },
    segments,
  };
}

describe('retention', () => {
  it('deletes expired segments at a deleteWhen hour; queues, index and min offsets follow', async () => {
    const h = await harness(1100);
    const all = await h.segments();
    expect(all.length).toBeGreaterThanOrEqual(5);
    for (let i = 0; i < all.length; i++) await h.age(i, i < 3 ? 100 : 1);
    const cqFilesBefore = (await readdir(join(h.root, 'consumequeue', 'TopicTest', '0'))).length;
    const indexRunsBefore = h.store.stats().indexRuns;

    expect((await h.store.runRetention()).deletedSegments).toBe(0); // 10:30 is not a deleteWhen hour

    h.setClock(atLocalHour(4));
    for (let i = 0; i < all.length; i++) await h.age(i, i < 3 ? 100 : 1);
    const report = await h.store.runRetention();
    expect(report).toMatchObject({ trigger: 'time', deletedSegments: 3 });
    expect(await h.segments()).toEqual(all.slice(3));
    expect(h.store.getMinPhyOffset()).toBe(BigInt(3 * SEGMENT));

    const firstKept = h.results.findIndex((r) => r.physicalOffset >= BigInt(3 * SEGMENT));
    expect(h.store.getMinOffsetInQueue('TopicTest', 0)).toBe(BigInt(firstKept));
    const tooSmall = await h.store.getMessage('TopicTest', 0, 0n, 32);
    expect(tooSmall).toMatchObject({ status: 'OFFSET_TOO_SMALL', nextBeginOffset: BigInt(firstKept) });
    const kept = await readQueue(h.store, 'TopicTest', 0);
    expect(kept.map((r) => Number(r.queueOffset))).toEqual(
      Array.from({ length: 1100 - firstKept }, (_, i) => firstKept + i),
    );
    expect((await readdir(join(h.root, 'consumequeue', 'TopicTest', '0'))).length).toBeLessThan(
      cqFilesBefore,
    );
    expect(report.deletedQueueFiles).toBeGreaterThan(0);
    expect(report.deletedIndexRuns).toBeGreaterThan(0);
    expect(h.store.stats().indexRuns).toBeLessThan(indexRunsBefore);
    expect(await h.store.queryMessage('TopicTest', 'k5', 4, 0, Date.now() * 2)).toEqual([]);
    const recent = await h.store.queryMessage('TopicTest', 'k1090', 4, 0, Date.now() * 2);
    expect(recent.map((b) => decodeRecord(b).queueOffset)).toEqual([1090n]);
    expect(await h.store.lookMessageByOffset(h.results[0].physicalOffset)).toBeNull();
  });

  it('never deletes the segment being written, however old', async () => {
    const h = await harness(300);
    h.setClock(atLocalHour(4));
    const all = await h.segments();
    for (let i = 0; i < all.length; i++) await h.age(i, 1000);
    await h.store.runRetention();
    expect(await h.segments()).toEqual(all.slice(-1));
    const r = await h.store.putMessage(message(1000));
    expect(r.status).toBe('PUT_OK');
    expect(await h.store.lookMessageByOffset(r.physicalOffset)).not.toBeNull();
  });

  it('deletes early above the high-water mark, even unexpired files when critical, and refuses appends when full', async () => {
    const h = await harness();
    const all = await h.segments();
    for (let i = 0; i < all.length; i++) await h.age(i, i < 2 ? 100 : 1);

    h.setUsage(0.8); // above diskMaxUsedSpaceRatio (75 %), not a deleteWhen hour
    expect(await h.store.runRetention()).toMatchObject({ trigger: 'disk-high-water', deletedSegments: 2 });
    expect(await h.segments()).toEqual(all.slice(2));

    h.setUsage(0.87); // above diskSpaceCleanForciblyRatio: oldest go even though not expired
    expect(await h.store.runRetention()).toMatchObject({ trigger: 'disk-critical' });
    expect(await h.segments()).toEqual(all.slice(-1));

    h.setUsage(0.95); // above diskSpaceWarningLevelRatio: appends refused, reads still work
    await h.store.runRetention();
    const refused = await h.store.putMessage(message(9999));
    expect(refused.status).toBe('SERVICE_NOT_AVAILABLE');
    expect(refused.remark).toMatch(/disk full: 95\.0% used/);
    expect(h.store.stats().diskFull).toBe(true);
    expect(await h.store.lookMessageByOffset(h.results[599].physicalOffset)).not.toBeNull();

    h.setUsage(0.5);
    await h.store.runRetention();
    expect((await h.store.putMessage(message(10000))).status).toBe('PUT_OK');
  });

  it('refuses appends when a write hits a full disk, rolls the partial write back and loses nothing acknowledged', async () => {
    const dir = await tempDir();
    let full = false;
    let usage = 0.5;
    const options = {
      diskUsage: async () => usage,
      // Half of the batch reaches the file, then the device is full.
      writeCommitLogFile: async (fd: number, bufs: Buffer[], pos: number) => {
        if (!full) return writevAt(fd, bufs, pos);
        const data = Buffer.concat(bufs);
        await writevAt(fd, [data.subarray(0, data.length >> 1)], pos);
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
    };
    const store = await openStore(dir.path, {}, options);
    cleanups.push(dir.remove);
    const acked = [];
    for (let i = 0; i < 20; i++) acked.push(await store.putMessage(message(i)));
    full = true;
    usage = 0.99;
    const failed = await Promise.all([20, 21, 22].map((i) => store.putMessage(message(i))));
    expect(failed.map((r) => r.status)).toEqual(Array(3).fill('SERVICE_NOT_AVAILABLE'));
    expect(failed[0].remark).toMatch(/ENOSPC/);
    const refused = await store.putMessage(message(23));
    expect(refused.status).toBe('SERVICE_NOT_AVAILABLE');
    expect(refused.remark).toMatch(/disk full/);

    full = false;
    usage = 0.5;
    await store.runRetention();
    const next = await store.putMessage(message(24));
    expect(next.status).toBe('PUT_OK');
    expect(next.queueOffset).toBe(20n); // the failed batch consumed no queue offsets
    expect(next.physicalOffset).toBe(acked[19].physicalOffset + BigInt(acked[19].wroteBytes));
    const records = await readQueue(store, 'TopicTest', 0);
    expect(records.map((r) => r.properties.get('UNIQ_KEY'))).toEqual([
      ...acked.map((_, i) => `UNIQ${String(i).padStart(12, '0')}`),
      'UNIQ000000000024',
    ]);
    await store.shutdown();

    // A full verification finds no trace of the half-written batch.
    await unlink(join(dir.path, 'checkpoint'));
    const again = await openStore(dir.path, {}, { logger: memoryLogger() });
    cleanups.push(() => again.shutdown());
    expect(again.recovery).toMatchObject({ mode: 'full', cutBytes: 0, corruptRegions: [] });
    expect(await readQueue(again, 'TopicTest', 0)).toHaveLength(21);
  });
});
