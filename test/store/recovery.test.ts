import { appendFile, open, readdir, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeRecord,
  encodeRecord,
  type FileMessageStore,
  type PutResult,
  resolveStoreConfig,
  FileMessageStore as Store,
  tagsCodeOf,
} from '../../broker-image/src/store/index.js';
import { memoryLogger, message, openStore, readQueue, SMALL_STORE, tempDir } from './store-fixtures.js';

const SEGMENT = 64 * 1024;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Writes `n` messages round-robin over `queues` queues, shuts down cleanly, returns the results. */
async function populate(
  n: number,
  queues = 1,
  topic = 'TopicTest',
): Promise<{ root: string; results: PutResult[] }> {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  const store = await openStore(dir.path);
  const results: PutResult[] = [];
  for (let i = 0; i < n; i++)
    results.push(await store.putMessage(message(i, { topic, queueId: i % queues })));
  await store.shutdown();
  return { root: dir.path, results };
}

// Every case runs twice: CRCs checked on the main thread, and on the worker thread that large
// scans use (a threshold of 0 forces it for these small stores).
let parallelScanBytes: number | undefined;

async function reopen(root: string): Promise<FileMessageStore & { log: string[] }> {
  const logger = memoryLogger();
  const store = await openStore(root, {}, { logger, parallelScanBytes });
  cleanups.push(() => store.shutdown());
  if (store.recovery && store.recovery.scannedBytes > 0) {
    expect(store.recovery.parallelCrc).toBe(parallelScanBytes === 0);
  }
  return Object.assign(store, { log: logger.lines });
}

function segmentPath(root: string, base: number): string {
  return join(root, 'commitlog', String(base).padStart(20, '0'));
}

async function lastSegment(root: string): Promise<string> {
  const files = (await readdir(join(root, 'commitlog'))).sort();
  return join(root, 'commitlog', files[files.length - 1]);
}

async function patchByte(path: string, pos: number, xor: number): Promise<void> {
  const fh = await open(path, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, pos);
  b[0] ^= xor;
  await fh.write(b, 0, 1, pos);
  await fh.close();
}

const markCrashed = (root: string) => writeFile(join(root, 'abort'), '');

describe.each([
  ['main thread', undefined],
  ['worker thread', 0],
])('recovery (CRCs checked on the %s)', (_name, threshold) => {
  beforeEach(() => {
    parallelScanBytes = threshold;
  });

  it('cuts a torn record written after the last checkpoint and reports it', async () => {
    const { root, results } = await populate(50);
    const end = Number(results[49].physicalOffset) + results[49].wroteBytes;
    const torn = encodeRecord({
      ...message(50),
      queueOffset: 50n,
      physicalOffset: BigInt(end),
      storeTimestamp: Date.now(),
      storeHost: { address: '10.0.0.1', port: 10911 },
    }).subarray(0, 150);
    await appendFile(await lastSegment(root), torn);
    await markCrashed(root);

    const store = await reopen(root);
    expect(store.recovery).toMatchObject({ mode: 'crash', cutBytes: 150, endOffset: end });
    expect(store.recovery?.cutAt?.offset).toBe(end);
    expect(store.log.some((l) => l.includes('recovery cut or skipped damaged commit log data'))).toBe(true);
    expect((await stat(await lastSegment(root))).size).toBe(end % SEGMENT);
    expect(await readQueue(store, 'TopicTest', 0)).toHaveLength(50);
    const next = await store.putMessage(message(51));
    expect(next.queueOffset).toBe(50n);
    expect(next.physicalOffset).toBe(BigInt(end));
  });

  it('cuts a record torn below the checkpoint position and removes its queue entry', async () => {
    const { root, results } = await populate(50);
    const seg = await lastSegment(root);
    await truncate(seg, (await stat(seg)).size - 30);
    await markCrashed(root);

    const store = await reopen(root);
    expect(store.recovery?.mode).toBe('full');
    expect(store.recovery?.endOffset).toBe(Number(results[49].physicalOffset));
    expect(store.recovery?.cutBytes).toBe(results[49].wroteBytes - 30);
    expect(store.recovery?.truncatedQueueEntries).toBe(1);
    expect(store.getMaxOffsetInQueue('TopicTest', 0)).toBe(49n);
    expect((await readQueue(store, 'TopicTest', 0)).map((r) => r.queueOffset)).toEqual(
      Array.from({ length: 49 }, (_, i) => BigInt(i)),
    );
    expect((await store.putMessage(message(99))).queueOffset).toBe(49n);
  });

  it('never serves a record with a flipped byte and keeps every record after it', async () => {
    const { root, results } = await populate(300);
    const victim = results[150];
    const phy = Number(victim.physicalOffset);
    await patchByte(segmentPath(root, Math.floor(phy / SEGMENT) * SEGMENT), (phy % SEGMENT) + 100, 0x40);

    // Clean restart: nothing is scanned, but reads verify every record.
    const a = await reopen(root);
    expect(a.recovery?.mode).toBe('clean');
    const served = await readQueue(a, 'TopicTest', 0);
    expect(served.map((r) => Number(r.queueOffset))).toEqual(
      Array.from({ length: 300 }, (_, i) => i).filter((i) => i !== 150),
    );
    expect(await a.lookMessageByOffset(victim.physicalOffset)).toBeNull();
    expect(await a.queryMessage('TopicTest', 'UNIQ000000000150', 8, 0, Date.now() + 1000)).toEqual([]);
    expect(a.stats().corruptRecordsSkipped).toBeGreaterThanOrEqual(2);
    expect(a.log.some((l) => l.includes('record failed verification'))).toBe(true);
    await a.shutdown();

    // Full verification (no checkpoint): the region is reported, nothing after it is cut.
    await unlink(join(root, 'checkpoint'));
    const b = await reopen(root);
    expect(b.recovery?.mode).toBe('full');
    expect(b.recovery?.cutBytes).toBe(0);
    expect(b.recovery?.corruptRegions).toEqual([
      { offset: phy, length: victim.wroteBytes, reason: 'body CRC mismatch' },
    ]);
    expect(await readQueue(b, 'TopicTest', 0)).toHaveLength(299);
    expect((await b.putMessage(message(300))).queueOffset).toBe(300n);
  });

  it('resynchronises after a corrupt length field in the middle of the log', async () => {
    const { root, results } = await populate(50);
    const phy = Number(results[10].physicalOffset);
    await patchByte(segmentPath(root, Math.floor(phy / SEGMENT) * SEGMENT), phy % SEGMENT, 0x7f);
    await unlink(join(root, 'checkpoint'));
    const store = await reopen(root);
    expect(store.recovery?.corruptRegions).toHaveLength(1);
    expect(store.recovery?.corruptRegions[0]).toMatchObject({ offset: phy, length: results[10].wroteBytes });
    expect(store.recovery?.cutBytes).toBe(0);
    expect(store.recovery?.endOffset).toBe(Number(results[49].physicalOffset) + results[49].wroteBytes);
    expect(await readQueue(store, 'TopicTest', 0)).toHaveLength(49);
  });

  it('closes off an earlier segment that lost its end and keeps the later segments', async () => {
    const { root, results } = await populate(600);
    const lastInFirst = results.filter((r) => Number(r.physicalOffset) < SEGMENT).pop()!;
    const from = Number(lastInFirst.physicalOffset);
    // Zero the last record of segment 0 and its filler, as a lost page would leave them.
    const fh = await open(segmentPath(root, 0), 'r+');
    await fh.write(Buffer.alloc(SEGMENT - from), 0, SEGMENT - from, from);
    await fh.close();
    await unlink(join(root, 'checkpoint'));

    const store = await reopen(root);
    expect(store.recovery?.cutAt?.offset).toBe(from);
    expect(store.recovery?.cutBytes).toBe(SEGMENT - from);
    const records = await readQueue(store, 'TopicTest', 0);
    expect(records).toHaveLength(599);
    expect(records.at(-1)?.queueOffset).toBe(599n);
    // The segment now ends with a filler, so a second full scan finds nothing to cut.
    await store.shutdown();
    await unlink(join(root, 'checkpoint'));
    const again = await reopen(root);
    expect(again.recovery?.cutBytes).toBe(0);
  });

  it('rebuilds everything derived from a full scan when the checkpoint is missing', async () => {
    const { root, results } = await populate(400, 4);
    await unlink(join(root, 'checkpoint'));
    const store = await reopen(root);
    const logEnd = Number(results[399].physicalOffset) + results[399].wroteBytes;
    expect(store.recovery).toMatchObject({ mode: 'full', reason: 'checkpoint missing or unreadable' });
    expect(store.recovery?.scannedBytes).toBeGreaterThanOrEqual(logEnd - SEGMENT);
    expect(store.recovery?.records).toBe(400);
    for (let q = 0; q < 4; q++) expect(await readQueue(store, 'TopicTest', q)).toHaveLength(100);
  });

  it('rebuilds a deleted consume-queue folder from the log, entry for entry', async () => {
    const { root } = await populate(300, 3);
    const before = await reopen(root);
    const codes = async (s: FileMessageStore, q: number) => {
      const seen: string[] = [];
      let o = 0n;
      while (o < s.getMaxOffsetInQueue('TopicTest', q)) {
        const r = await s.getMessage('TopicTest', q, o, 32, (code) => {
          seen.push(String(code));
          return true;
        });
        o = r.nextBeginOffset;
        seen.push(...r.records.map((x) => String(decodeRecord(x).physicalOffset)));
      }
      return seen;
    };
    const expected = [await codes(before, 0), await codes(before, 1), await codes(before, 2)];
    await before.shutdown();
    cleanups.pop();

    await rm(join(root, 'consumequeue', 'TopicTest', '1'), { recursive: true });
    const after = await reopen(root);
    expect(after.recovery?.mode).toBe('full');
    expect(after.recovery?.damagedQueues).toEqual(['TopicTest/1']);
    expect([await codes(after, 0), await codes(after, 1), await codes(after, 2)]).toEqual(expected);
    expect(expected[1].includes(String(tagsCodeOf('TagA')))).toBe(true);
    await after.shutdown();
    cleanups.pop();

    await rm(join(root, 'consumequeue'), { recursive: true });
    const again = await reopen(root);
    expect(again.recovery?.damagedQueues).toHaveLength(3);
    for (let q = 0; q < 3; q++) expect(await readQueue(again, 'TopicTest', q)).toHaveLength(100);
  });

  it('re-indexes when the index directory is deleted, without touching the queues', async () => {
    const { root } = await populate(100);
    await rm(join(root, 'index'), { recursive: true });
    const store = await reopen(root);
    expect(store.recovery?.mode).toBe('clean');
    expect(store.recovery?.records).toBe(100);
    expect(store.recovery?.truncatedQueueEntries).toBe(0);
    const hits = await store.queryMessage('TopicTest', 'order-42', 4, 0, Date.now() + 1000);
    expect(hits.map((h) => decodeRecord(h).queueOffset)).toEqual([42n]);
  });

  it('fails to start with a clear message when the segment size differs from the files', async () => {
    const { root } = await populate(10);
    const store = new Store(
      resolveStoreConfig({ ...SMALL_STORE, storePathRootDir: root, mappedFileSizeCommitLog: 128 * 1024 }),
      { logger: memoryLogger() },
    );
    await expect(store.start()).rejects.toThrow(
      /mappedFileSizeCommitLog is 131072 but the store was written with 65536/,
    );
    // The failed start released the directory.
    const ok = await reopen(root);
    expect(ok.getMaxOffsetInQueue('TopicTest', 0)).toBe(10n);
  });
});
