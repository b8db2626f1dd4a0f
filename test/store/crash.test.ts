// Crash test: a writer child process appends under load and logs each acknowledged message; the
// test kills it with SIGKILL at a random moment, reopens the store (crash recovery) and checks that
// every acknowledged message is readable where the store said it was, that nothing corrupt is
// served, and that the consume queues agree with the CommitLog record for record.
//
// SIGKILL keeps the page cache, so even ASYNC_FLUSH loses nothing here. To cover the loss an OS
// crash would cause, some ASYNC rounds also drop every CommitLog byte past the last checkpoint's
// flushed position before reopening; acknowledged messages in that unflushed tail may then be
// missing, nothing else.

import { spawn } from 'node:child_process';
import { readdir, readFile, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CheckpointFile } from '../../broker-image/src/store/checkpoint.js';
import {
  checkRecordAt,
  decodeRecord,
  type FileMessageStore,
  openMessageStore,
} from '../../broker-image/src/store/index.js';
import { CRASH_STORE_CONFIG, TOPICS } from './crash-config.js';
import { memoryLogger, readQueue, tempDir } from './store-fixtures.js';

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 20);
const SEGMENT = Number(CRASH_STORE_CONFIG.mappedFileSizeCommitLog);

interface Ack {
  id: string;
  topic: string;
  queueId: number;
  queueOffset: bigint;
  physicalOffset: bigint;
}

/** Starts the writer, lets it run for a random time after it is ready, then SIGKILLs it. */
async function runAndKill(env: Record<string, string>): Promise<{ stderr: string; ranMs: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('READY')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`writer exited early (${code}): ${stderr}`)));
  });
  const ranMs = 40 + Math.floor(Math.random() * 500);
  await new Promise((r) => setTimeout(r, ranMs));
  child.kill('SIGKILL');
  await exited;
  return { stderr, ranMs };
}

async function readAcks(path: string): Promise<Ack[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  // A line cut by the kill is not an acknowledgement the test may rely on.
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [id, topic, queueId, queueOffset, physicalOffset] = l.split(' ');
      return {
        id,
        topic,
        queueId: Number(queueId),
        queueOffset: BigInt(queueOffset),
        physicalOffset: BigInt(physicalOffset),
      };
    });
}

/** Simulates losing the page cache: drops CommitLog bytes past the checkpoint's flushed position. */
async function dropUnflushedTail(root: string): Promise<number> {
  const cp = await new CheckpointFile(join(root, 'checkpoint')).read();
  const keep = cp?.logFlushed ?? 0;
  const dir = join(root, 'commitlog');
  for (const name of (await readdir(dir)).sort()) {
    const base = Number(name);
    const path = join(dir, name);
    if (base >= keep && !(base === keep && base === 0)) await unlink(path);
    else if (base + SEGMENT > keep && (await stat(path)).size > keep - base)
      await truncate(path, keep - base);
  }
  return keep;
}

/** Every valid record in the CommitLog files, found without the store. */
async function scanFiles(root: string): Promise<Map<bigint, string>> {
  const dir = join(root, 'commitlog');
  const found = new Map<bigint, string>();
  for (const name of (await readdir(dir)).sort()) {
    const buf = await readFile(join(dir, name));
    const base = Number(name);
    let pos = 0;
    while (pos + 8 <= buf.length) {
      const check = checkRecordAt(buf, pos, buf.length, base + pos);
      if (check.kind !== 'message') break;
      const r = decodeRecord(buf, pos);
      found.set(r.physicalOffset, `${r.topic}/${r.queueId}/${r.queueOffset}/${r.properties.get('UNIQ_KEY')}`);
      pos += check.size;
    }
  }
  return found;
}

async function verify(
  store: FileMessageStore,
  root: string,
  acks: Ack[],
  forgiven: Set<string>,
): Promise<number> {
  // Problems are collected and asserted once: per-record expect() calls would dominate the run time.
  const problems: string[] = [];
  const byId = new Map<string, string>();
  const inQueues = new Map<bigint, string>();
  for (const topic of TOPICS) {
    for (let q = 0; q < 4; q++) {
      const records = await readQueue(store, topic, q);
      const min = Number(store.getMinOffsetInQueue(topic, q));
      records.forEach((r, i) => {
        const id = r.properties.get('UNIQ_KEY')!;
        const where = `${topic}/${q}/${r.queueOffset}/${r.physicalOffset}`;
        if (r.topic !== topic || r.queueId !== q || r.queueOffset !== BigInt(min + i)) {
          problems.push(
            `queue ${topic}/${q} entry ${min + i} holds ${r.topic}/${r.queueId}/${r.queueOffset}`,
          );
        }
        if (!r.body.toString().startsWith(`${id}|`)) problems.push(`body of ${id} does not match`);
        byId.set(id, where);
        inQueues.set(r.physicalOffset, `${where}/${id}`);
      });
    }
  }
  // The consume queues and the log agree record for record.
  const inLog = await scanFiles(root);
  if (inQueues.size !== inLog.size)
    problems.push(`${inQueues.size} records in queues, ${inLog.size} in the log`);
  for (const [phy, what] of inLog) {
    const [topic, queueId, queueOffset, id] = what.split('/');
    if (inQueues.get(phy) !== `${topic}/${queueId}/${queueOffset}/${phy}/${id}`) {
      problems.push(`log record at ${phy} (${what}) is not in its consume queue`);
    }
  }
  let missing = 0;
  for (const ack of acks) {
    const found = byId.get(ack.id);
    if (!found && forgiven.has(ack.id)) {
      missing++;
      continue;
    }
    const expected = `${ack.topic}/${ack.queueId}/${ack.queueOffset}/${ack.physicalOffset}`;
    if (found !== expected)
      problems.push(`acknowledged ${ack.id} at ${expected} is ${found ? `at ${found}` : 'missing'}`);
  }
  expect(problems.slice(0, 20)).toEqual([]);
  return missing;
}

async function crashRounds(flush: 'SYNC_FLUSH' | 'ASYNC_FLUSH'): Promise<void> {
  const dir = await tempDir(`bolide-crash-${flush}-`);
  const ackLog = join(dir.path, 'acks.log');
  const root = join(dir.path, 'store');
  const forgiven = new Set<string>();
  let lostTotal = 0;
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const run = await runAndKill({
        STORE_DIR: root,
        ACK_LOG: ackLog,
        FLUSH: flush,
        ROUND: String(round),
        MAX_MESSAGES: '4000',
      });
      const acks = await readAcks(ackLog);
      if (flush === 'ASYNC_FLUSH' && round % 3 === 0) {
        const keep = await dropUnflushedTail(root);
        for (const a of acks) if (a.physicalOffset >= BigInt(keep)) forgiven.add(a.id);
      }
      const logger = memoryLogger();
      const store = await openMessageStore(
        // Large pulls only make the verification quicker; recovery does not depend on them.
        {
          ...CRASH_STORE_CONFIG,
          storePathRootDir: root,
          flushDiskType: flush,
          maxTransferCountOnMessageInMemory: 800,
        },
        { logger },
      );
      try {
        const report = store.recovery!;
        expect(report.mode, `round ${round}: ${run.stderr}`).not.toBe('clean');
        expect(report.corruptRegions).toEqual([]);
        lostTotal += await verify(store, root, acks, forgiven);
      } finally {
        // Alternate: half the writers start after a clean shutdown, half after an unclean stop.
        if (round % 2 === 0) await store.shutdown();
        else await store.halt();
      }
    }
    const acks = await readAcks(ackLog);
    expect(acks.length).toBeGreaterThan(ROUNDS * 20);
    if (flush === 'SYNC_FLUSH') expect(lostTotal).toBe(0);
  } finally {
    await dir.remove();
  }
}

describe('crash safety (SIGKILL)', () => {
  // Generous timeouts: each round starts a TypeScript child process, slow on a loaded machine.
  it(`SYNC_FLUSH: every acknowledged message survives ${ROUNDS} kills`, async () => {
    await crashRounds('SYNC_FLUSH');
  }, 400_000);

  it(`ASYNC_FLUSH: nothing corrupt survives ${ROUNDS} kills; only an unflushed tail may be lost`, async () => {
    await crashRounds('ASYNC_FLUSH');
  }, 400_000);
});
