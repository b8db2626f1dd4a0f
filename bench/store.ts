// Store benchmark (`npm run bench:store`): raw disk speed, ASYNC_FLUSH append throughput and peak
// RSS while appending 2 GiB, recovery after SIGKILL (from the checkpoint, and a full verification
// of the whole log), and SYNC_FLUSH group commit with 1 and 64 concurrent appenders. 1 KiB bodies
// with realistic topic, tags and keys. Prints a table, then one JSON object as the last line.
//
// Environment: BENCH_DIR (parent directory for the fresh bench directory, default the OS temp
// dir), BENCH_LOG_GIB (GiB appended in the ASYNC/RSS/recovery phase, default 2), BENCH_KEEP=1
// keeps the files, BENCH_CPU_PROF=<dir> profiles the writer and recovery children (node
// --cpu-prof; one folder per child, one profile per thread), BENCH_SKIP_SYNC=1 skips the SYNC_FLUSH phase (quick iterations). MB = 10^6 bytes
// throughout. The machine's load average and CPU pressure are printed before and after: other work
// on the machine skews every figure.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../broker-image/src/common/index.js';
import {
  type FileMessageStore,
  type FlushDiskType,
  type MessageToStore,
  openMessageStore,
} from '../broker-image/src/store/index.js';

const SELF = fileURLToPath(import.meta.url);
const MB = 1e6;
const GIB = 1024 ** 3;
const TOPIC = 'OrderEvents';
const TAGS = ['OrderCreated', 'OrderPaid', 'OrderShipped', 'OrderCancelled'];
const QUEUES = 8;
const BODY_SIZE = 1024;

function storeConfig(root: string, flushDiskType: FlushDiskType) {
  return { storePathRootDir: root, storeHost: '10.0.0.1:10911', flushDiskType };
}

/** Message n: 1 KiB JSON-ish body, Java-style UNIQ_KEY, business keys and a tag. */
function makeMessages(bodies: Buffer[]): (n: number) => MessageToStore {
  const uniqPrefix = `0A000001${randomBytes(6).toString('hex').toUpperCase()}`;
  return (n) => ({
    topic: TOPIC,
    queueId: n % QUEUES,
    flag: 0,
    body: bodies[n % bodies.length],
    properties: new Map([
      ['UNIQ_KEY', uniqPrefix + (n >>> 0).toString(16).toUpperCase().padStart(12, '0')],
      ['KEYS', `order-${n} customer-${n % 9973}`],
      ['TAGS', TAGS[n % TAGS.length]],
      ['CLUSTER', 'DefaultCluster'],
    ]),
    sysFlag: 0,
    bornTimestamp: Date.now(),
    bornHost: { address: '10.0.0.42', port: 51234 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
  });
}

function bodies(): Buffer[] {
  return Array.from({ length: 16 }, (_, i) => {
    const text = JSON.stringify({ orderId: i, items: randomBytes(300).toString('base64') });
    return Buffer.from(text.padEnd(BODY_SIZE, ' ').slice(0, BODY_SIZE));
  });
}

const quiet = () => createLogger('bench', { level: 'warn' });

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

// ---- child roles -------------------------------------------------------------------------------

/** Appends `bytes` in ASYNC_FLUSH, reports throughput and peak RSS, then waits to be killed. */
async function roleAsyncWriter(root: string, bytes: number): Promise<void> {
  const store = await openMessageStore(storeConfig(root, 'ASYNC_FLUSH'), { logger: quiet() });
  const next = makeMessages(bodies());
  let n = 0;
  let appended = 0;
  let rssPeak = process.memoryUsage().rss;
  const window = 1024;
  const t0 = performance.now();
  const worker = async () => {
    while (appended < bytes) {
      const r = await store.putMessage(next(n++));
      if (r.status !== 'PUT_OK') throw new Error(`append failed: ${r.status} ${r.remark ?? ''}`);
      appended += r.wroteBytes;
      if ((n & 0x3fff) === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const seconds = (performance.now() - t0) / 1000;
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  process.stdout.write(
    `${JSON.stringify({ messages: n, bytes: appended, seconds, rssPeakMb: rssPeak / MB, maxOffset: Number(store.getMaxPhyOffset()) })}\n`,
  );
  // Killed by the parent: a crash, not a clean shutdown. When profiling, exit without closing the
  // store instead (the same crash for recovery: abort marker left, no clean checkpoint), so that
  // the profile gets written.
  if (CPU_PROF_DIR) process.exit(0);
  setInterval(() => undefined, 1000);
}

/** Opens (recovers) the store, reports how long it took, and stops without a clean shutdown. */
async function roleRecover(root: string): Promise<void> {
  const t0 = performance.now();
  const store = await openMessageStore(storeConfig(root, 'ASYNC_FLUSH'), { logger: quiet() });
  const seconds = (performance.now() - t0) / 1000;
  const r = store.recovery!;
  process.stdout.write(
    `${JSON.stringify({ seconds, mode: r.mode, scannedBytes: r.scannedBytes, records: r.records, cutBytes: r.cutBytes })}\n`,
  );
  await store.shutdown();
}

// ---- parent ------------------------------------------------------------------------------------

/** Machine load: 1-minute load average and CPU pressure (PSI "some" avg10, %), when available. */
async function machineLoad(): Promise<{ load1: number; psiSome10: number | undefined }> {
  let psiSome10: number | undefined;
  try {
    const m = /^some .*avg10=([\d.]+)/m.exec(await readFile('/proc/pressure/cpu', 'utf8'));
    if (m) psiSome10 = Number(m[1]);
  } catch {
    // No PSI on this kernel.
  }
  return { load1: +loadavg()[0].toFixed(2), psiSome10 };
}

const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((r) => proc.once('exit', () => r()));
}

function child(
  role: string,
  args: string[],
): { proc: ChildProcess; line: Promise<Record<string, number | string>> } {
  const prof = CPU_PROF_DIR
    ? ['--cpu-prof', '--cpu-prof-dir', join(CPU_PROF_DIR, `${role}-${Date.now()}`)]
    : [];
  const proc = spawn(process.execPath, [...prof, '--import', 'tsx', SELF, role, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = new Promise<Record<string, number | string>>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
    });
    proc.on('exit', (code) => reject(new Error(`${role} exited with ${code} before reporting`)));
  });
  return { proc, line };
}

function diskSequential(dir: string): { mbPerS: number; fdatasyncP50: number } {
  const path = join(dir, 'disk-seq.bin');
  const chunk = randomBytes(4 * 1024 * 1024);
  const total = 512 * 1024 * 1024;
  const fd = openSync(path, 'w');
  const t0 = performance.now();
  for (let at = 0; at < total; at += chunk.length) writeSync(fd, chunk, 0, chunk.length, at);
  fdatasyncSync(fd);
  const seconds = (performance.now() - t0) / 1000;
  closeSync(fd);
  const small = Buffer.alloc(4096, 7);
  const syncPath = join(dir, 'fdatasync.bin');
  const sfd = openSync(syncPath, 'w');
  const lat: number[] = [];
  for (let i = 0; i < 200; i++) {
    writeSync(sfd, small, 0, small.length, i * small.length);
    const s = performance.now();
    fdatasyncSync(sfd);
    lat.push(performance.now() - s);
  }
  closeSync(sfd);
  lat.sort((a, b) => a - b);
  return { mbPerS: total / MB / seconds, fdatasyncP50: percentile(lat, 0.5) };
}

async function syncAppenders(
  store: FileMessageStore,
  concurrency: number,
  seconds: number,
): Promise<{ msgsPerS: number; p99: number; p50: number }> {
  const next = makeMessages(bodies());
  let n = 0;
  const lat: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const s = performance.now();
      const r = await store.putMessage(next(n++));
      if (r.status !== 'PUT_OK') throw new Error(`sync append: ${r.status} ${r.remark ?? ''}`);
      lat.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { msgsPerS: lat.length / elapsed, p99: percentile(lat, 0.99), p50: percentile(lat, 0.5) };
}

async function main(): Promise<void> {
  const logBytes = Number(process.env.BENCH_LOG_GIB ?? 2) * GIB;
  const dir = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'bolide-bench-'));
  const rows: [string, string, string][] = [];
  const row = (name: string, value: string, note = '') => {
    rows.push([name, value, note]);
    process.stderr.write(`  ${name}: ${value} ${note}\n`);
  };
  process.stderr.write(`bench:store in ${dir} (files: new)\n`);
  if (CPU_PROF_DIR) await mkdir(CPU_PROF_DIR, { recursive: true });
  const loadBefore = await machineLoad();
  process.stderr.write(`  machine load before: ${JSON.stringify(loadBefore)}\n`);
  try {
    const disk = diskSequential(dir);
    await unlink(join(dir, 'disk-seq.bin'));
    row('disk sequential write + fdatasync', `${disk.mbPerS.toFixed(0)} MB/s`, '512 MiB in 4 MiB writes');
    row('fdatasync p50 (4 KiB append)', `${disk.fdatasyncP50.toFixed(2)} ms`);

    // ASYNC_FLUSH: 2 GiB appended by a child (its RSS is the figure), then SIGKILL.
    const asyncRoot = join(dir, 'async');
    const writer = child('async-writer', [asyncRoot, String(logBytes)]);
    const w = (await writer.line) as Record<string, number>;
    if (!CPU_PROF_DIR) writer.proc.kill('SIGKILL'); // (when profiling it exits by itself)
    await exited(writer.proc);
    const asyncMsgs = w.messages / w.seconds;
    const asyncMb = w.bytes / MB / w.seconds;
    row(
      'ASYNC_FLUSH append',
      `${asyncMsgs.toFixed(0)} msgs/s`,
      `${asyncMb.toFixed(0)} MB/s, ${(w.bytes / GIB).toFixed(2)} GiB`,
    );
    row('peak RSS while appending', `${w.rssPeakMb.toFixed(0)} MB`);

    // Recovery after the kill (verifies from the checkpoint) …
    const afterKill = child('recover', [asyncRoot]);
    const rk = (await afterKill.line) as Record<string, number>;
    await exited(afterKill.proc);
    row(
      'recovery after SIGKILL',
      `${rk.seconds.toFixed(2)} s`,
      `mode ${rk.mode}, ${(rk.scannedBytes / MB).toFixed(0)} MB verified`,
    );
    // … and a full verification: no checkpoint, no consume queues, no index.
    await rm(join(asyncRoot, 'checkpoint'));
    await rm(join(asyncRoot, 'consumequeue'), { recursive: true });
    await rm(join(asyncRoot, 'consumequeue.json'));
    await rm(join(asyncRoot, 'index'), { recursive: true });
    const full = child('recover', [asyncRoot]);
    const rf = (await full.line) as Record<string, number>;
    await exited(full.proc);
    const sPerGib = rf.seconds / (rf.scannedBytes / GIB);
    row(
      'full verification + rebuild',
      `${sPerGib.toFixed(2)} s/GiB`,
      `${rf.seconds.toFixed(2)} s for ${(rf.scannedBytes / GIB).toFixed(2)} GiB, ${rf.records} records, page cache warm`,
    );
    await rm(asyncRoot, { recursive: true, force: true });

    // SYNC_FLUSH group commit.
    let c1 = { msgsPerS: Number.NaN, p99: Number.NaN, p50: Number.NaN };
    let c64 = c1;
    if (process.env.BENCH_SKIP_SYNC !== '1') {
      const syncStore = await openMessageStore(storeConfig(join(dir, 'sync'), 'SYNC_FLUSH'), {
        logger: quiet(),
      });
      c1 = await syncAppenders(syncStore, 1, 4);
      row('SYNC_FLUSH, 1 appender', `${c1.msgsPerS.toFixed(0)} msgs/s`, `p50 ${c1.p50.toFixed(2)} ms`);
      c64 = await syncAppenders(syncStore, 64, 6);
      row(
        'SYNC_FLUSH, 64 appenders',
        `${c64.msgsPerS.toFixed(0)} msgs/s`,
        `p50 ${c64.p50.toFixed(2)} ms, p99 ${c64.p99.toFixed(2)} ms`,
      );
      const stats = syncStore.stats();
      row(
        '  fdatasyncs / messages',
        `${stats.flushes} / ${stats.putMessages}`,
        `${(stats.putMessages / stats.flushes).toFixed(1)} per fdatasync`,
      );
      await syncStore.shutdown();
    }
    const loadAfter = await machineLoad();
    row(
      'machine load (before / after)',
      `${loadBefore.load1} / ${loadAfter.load1}`,
      `1-min load average; CPU pressure ${loadBefore.psiSome10 ?? '?'}% / ${loadAfter.psiSome10 ?? '?'}% (PSI some avg10)`,
    );

    const result = {
      files: 'new',
      page_cache: 'warm',
      log_gib: +(w.bytes / GIB).toFixed(3),
      async_msgs_per_s: Math.round(asyncMsgs),
      async_mb_per_s: +asyncMb.toFixed(1),
      sync_msgs_per_s_c1: Math.round(c1.msgsPerS),
      sync_msgs_per_s_c64: Math.round(c64.msgsPerS),
      sync_p99_ms_c64: +c64.p99.toFixed(2),
      disk_seq_mb_per_s: +disk.mbPerS.toFixed(1),
      fdatasync_p50_ms: +disk.fdatasyncP50.toFixed(3),
      recovery_s_per_gib: +sPerGib.toFixed(3),
      recovery_after_kill_s: +rk.seconds.toFixed(3),
      rss_mb_peak: Math.round(w.rssPeakMb),
      load1_before: loadBefore.load1,
      load1_after: loadAfter.load1,
      cpu_psi_some10_before: loadBefore.psiSome10 ?? null,
      cpu_psi_some10_after: loadAfter.psiSome10 ?? null,
    };
    const targets: [string, boolean][] = [
      ['async_mb_per_s ≥ 0.5 × disk_seq_mb_per_s', result.async_mb_per_s >= 0.5 * result.disk_seq_mb_per_s],
      [
        'sync_msgs_per_s_c64 ≥ 0.25 × async_msgs_per_s',
        result.sync_msgs_per_s_c64 >= 0.25 * result.async_msgs_per_s,
      ],
      ['recovery_s_per_gib ≤ 2', result.recovery_s_per_gib <= 2],
      ['rss_mb_peak ≤ 300 while appending', result.rss_mb_peak <= 300],
    ];
    const width = Math.max(...rows.map((r) => r[0].length), ...targets.map((t) => t[0].length));
    console.log(`\nbench:store — files: new (${dir}), page cache warm, MB = 10^6 bytes\n`);
    for (const [name, value, note] of rows)
      console.log(`${name.padEnd(width)}  ${value.padStart(16)}  ${note}`);
    console.log('');
    for (const [name, ok] of targets) console.log(`${name.padEnd(width)}  ${ok ? 'met' : 'NOT MET'}`);
    console.log(JSON.stringify(result));
  } finally {
    if (process.env.BENCH_KEEP !== '1') await rm(dir, { recursive: true, force: true });
  }
}

const [role, ...args] = process.argv.slice(2);
if (role === 'async-writer') await roleAsyncWriter(args[0], Number(args[1]));
else if (role === 'recover') await roleRecover(args[0]);
else await main();
