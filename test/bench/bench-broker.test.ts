// `npm run bench:broker` end to end with tiny counts: every phase runs against real broker child
// processes and the last line is the JSON the issue asks for. No timing thresholds: only that each
// figure was measured and the counts add up.

import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function runBench(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', 'broker.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

describe('bench/broker.ts', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('runs every phase with tiny counts and ends with the JSON summary', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'bench-broker-data-'));
    const profDir = await mkdtemp(join(tmpdir(), 'bench-broker-prof-'));
    dirs.push(dataDir, profDir);
    const backlog = 300;
    const { code, stdout, stderr } = await runBench({
      BENCH_BACKLOG: String(backlog),
      BENCH_PRODUCE_MS: '300',
      BENCH_WARMUP_MS: '100',
      BENCH_LOOPBACK_MS: '300',
      BENCH_E2E_RATE: '200',
      BENCH_E2E_MS: '500',
      BENCH_CONCURRENCY: '4',
      BENCH_DATA_DIR: dataDir,
      BENCH_CPU_PROF: profDir,
      // A fresh clone has no dist/: `npm run bench:broker` builds it, the test runs the sources.
      BENCH_BROKER_PROGRAM: 'sources',
    });
    expect(code, stderr).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    const summary = JSON.parse(lines[lines.length - 1]);

    // The table comes first, with a row per measured figure and a verdict per target.
    const table = lines.slice(0, -1).join('\n');
    for (const row of [
      'loopback limit',
      'produce ASYNC_FLUSH',
      'produce SYNC_FLUSH',
      'e2e latency',
      'consume backlog',
      'broker peak RSS',
    ]) {
      expect(table).toContain(row);
    }
    expect(table).toMatch(/(PASS|FAIL)/);
    expect(table).toContain('broker CPU profile (ASYNC_FLUSH)');
    expect(table).toContain('broker CPU profile (SYNC_FLUSH)');

    for (const key of [
      'produce_msgs_per_s',
      'produce_msgs_per_s_sync_flush',
      'produce_p99_ms',
      'e2e_p99_ms',
      'consume_msgs_per_s',
      'loopback_limit_msgs_per_s',
      'broker_rss_mb',
    ]) {
      expect(typeof summary[key], key).toBe('number');
      expect(summary[key], key).toBeGreaterThan(0);
    }
    expect(summary.produce_errors).toBe(0);
    expect(summary.consume_backlog_messages).toBe(backlog);
    expect(summary.consume_received).toBe(backlog);
    expect(summary.e2e_received).toBe(summary.e2e_sent);
    expect(summary.concurrency).toBe(4);
    expect(summary.flush_modes).toEqual(['ASYNC_FLUSH', 'SYNC_FLUSH']);
    expect(typeof summary.targets.produce_ge_half_loopback).toBe('boolean');
    expect(typeof summary.targets.e2e_p99_le_10ms).toBe('boolean');
    expect(typeof summary.targets.broker_rss_le_300mb).toBe('boolean');

    // Broker data dirs are removed after the run; the profiles stay where they were asked for.
    expect(await readdir(dataDir)).toEqual([]);
    expect((await readdir(profDir)).some((n) => n.endsWith('.cpuprofile'))).toBe(true);
  });
});
