// Operator scale and speed, against a real kube-apiserver + etcd and one real Bolide broker
// (startStandalone() in a child process, reached through the operator's endpoint-overrides seam):
//   topics_100_ready_s          — 100 Topic CRs applied → all Ready=True (target ≤ 10 s);
//   reconcile_p99_ms            — p99 of the operator's Topic reconcile histogram over the whole run;
//   operator_rss_mb_1000_topics — operator RSS once 1000 Topics are Ready (target ≤ 150 MB).
// The operator runs as its own process so its RSS is its own: the compiled program the image runs
// (dist/operator/src/main.js, from `npm run build`) when present, else the sources through tsx.
// Prints a table, then one JSON line.
//
//   npm run bench:operator [-- --topics 1000 --first 100 --queues 4]

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type ControlPlane, startControlPlane } from '../test/harness/control-plane.js';
import { installCrds } from '../test/harness/crds.js';
import { type LocalRocketMQ, startStandalone } from '../test/harness/local-rocketmq.js';

const { values } = parseArgs({
  options: {
    topics: { type: 'string', default: '1000' },
    first: { type: 'string', default: '100' },
    queues: { type: 'string', default: '4' },
    'timeout-s': { type: 'string', default: '300' },
  },
});
const totalTopics = Number(values.topics);
const firstTopics = Number(values.first);
const queues = Number(values.queues);
const timeoutMs = Number(values['timeout-s']) * 1000;
if (!Number.isInteger(firstTopics) || firstTopics < 1) throw new Error('--first must be a whole number >= 1');
if (!Number.isInteger(totalTopics) || totalTopics < firstTopics)
  throw new Error('--topics must be >= --first');
if (!Number.isInteger(queues) || queues < 1) throw new Error('--queues must be a whole number >= 1');

const TARGET_READY_S = 10;
const TARGET_RSS_MB = 150;
const NS = 'bench';
const CLUSTER = 'local';
const TOPICS_PATH = `/apis/bolide.dev/v1alpha1/namespaces/${NS}/topics`;
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

async function apiCall(cp: ControlPlane, path: string, method = 'GET', body?: unknown): Promise<string> {
  const res = await cp.request(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path} → HTTP ${res.status}: ${res.body.slice(0, 500)}`);
  return res.body;
}

function topicName(i: number): string {
  return `bench-topic-${String(i).padStart(4, '0')}`;
}

/** Creates Topics [from, to) with a few requests in flight at once. */
async function applyTopics(cp: ControlPlane, from: number, to: number): Promise<void> {
  let next = from;
  const worker = async () => {
    while (next < to) {
      const i = next++;
      await apiCall(cp, TOPICS_PATH, 'POST', {
        apiVersion: 'bolide.dev/v1alpha1',
        kind: 'Topic',
        metadata: { name: topicName(i), namespace: NS },
        spec: { clusterRef: { name: CLUSTER }, topicName: `BenchTopic${i}`, queues },
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

interface TopicList {
  items: { status?: { conditions?: { type: string; status: string }[] } }[];
}

async function countReady(cp: ControlPlane): Promise<number> {
  const list = JSON.parse(await apiCall(cp, TOPICS_PATH)) as TopicList;
  return list.items.filter((t) =>
    t.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  ).length;
}

async function waitAllReady(cp: ControlPlane, want: number, operator: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (operator.exitCode !== null) throw new Error(`operator exited with code ${operator.exitCode}`);
    const ready = await countReady(cp);
    if (ready >= want) return;
    if (Date.now() > deadline) throw new Error(`only ${ready}/${want} Topics Ready after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** VmRSS and VmHWM of a process, in MiB. */
async function memoryOf(pid: number): Promise<{ rssMb: number; hwmMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** Prometheus-style histogram_quantile over cumulative buckets of one label value. */
function histogramQuantile(metricsText: string, metric: string, controller: string, q: number) {
  const buckets: { le: number; count: number }[] = [];
  const re = new RegExp(`^${metric}_bucket\\{([^}]*)\\}\\s+(\\S+)`, 'gm');
  for (const m of metricsText.matchAll(re)) {
    const labels = m[1] ?? '';
    if (!labels.includes(`controller="${controller}"`)) continue;
    const le = /le="([^"]+)"/.exec(labels)?.[1];
    if (le === undefined) continue;
    buckets.push({ le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), count: Number(m[2]) });
  }
  buckets.sort((x, y) => x.le - y.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return { value: Number.NaN, count: 0 };
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      // Past the last finite bucket the best answer is that bucket's upper bound.
      if (!Number.isFinite(b.le)) return { value: prevLe, count: total };
      const inBucket = b.count - prevCount;
      const frac = inBucket === 0 ? 0 : (rank - prevCount) / inBucket;
      return { value: prevLe + (b.le - prevLe) * frac, count: total };
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return { value: prevLe, count: total };
}

async function httpText(url: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} → HTTP ${res.status}`);
  return res.text();
}

const COMPILED_OPERATOR = join(REPO_ROOT, 'dist', 'operator', 'src', 'main.js');

/** The compiled operator when it has been built, as in the image; otherwise the sources via tsx. */
function operatorEntrypoint(): string[] {
  return existsSync(COMPILED_OPERATOR)
    ? [COMPILED_OPERATOR]
    : ['--import', 'tsx', join(REPO_ROOT, 'operator', 'src', 'main.ts')];
}

function startOperator(kubeconfigPath: string, metricsPort: number, overrides: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      ...operatorEntrypoint(),
      '--kubeconfig',
      kubeconfigPath,
      '--namespace',
      NS,
      '--metrics-port',
      String(metricsPort),
      '--leader-elect',
      'false',
      '--endpoint-overrides',
      overrides,
      '--log-level',
      'silent',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderrTail = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString()).slice(-4000);
  });
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`operator exited ${code}:\n${stderrTail}\n`);
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<void> {
  let cp: ControlPlane | undefined;
  let broker: LocalRocketMQ | undefined;
  let operator: ChildProcess | undefined;
  const killOperatorOnExit = () => operator?.kill('SIGKILL');
  process.once('exit', killOperatorOnExit);
  try {
    // One at a time, so a failure of either leaves nothing unstopped.
    broker = await startStandalone({
      mode: 'child-process',
      httpPort: 'off',
      brokerConf: { brokerClusterName: CLUSTER, brokerName: 'broker-a' },
    });
    cp = await startControlPlane();
    await installCrds(cp.kubeConfig);
    await apiCall(cp, '/api/v1/namespaces', 'POST', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS },
    });

    const metricsPort = await freePort();
    const overrides = JSON.stringify({
      [`${NS}/${CLUSTER}`]: {
        nameServers: [broker.namesrvAddr],
        masters: [{ brokerName: 'broker-a', address: broker.brokerAddr }],
      },
    });
    const op = startOperator(cp.kubeconfigPath, metricsPort, overrides);
    operator = op;
    const readyDeadline = Date.now() + 60_000;
    for (;;) {
      if (op.exitCode !== null) throw new Error(`operator exited with code ${op.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${metricsPort}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      if (Date.now() > readyDeadline) throw new Error('operator /readyz not ok after 60 s');
      await sleep(100);
    }
    const idle = await memoryOf(op.pid ?? -1);

    // Phase 1: 100 Topics applied → all Ready.
    const t0 = performance.now();
    await applyTopics(cp, 0, firstTopics);
    const appliedS = (performance.now() - t0) / 1000;
    await waitAllReady(cp, firstTopics, op);
    const topics100ReadyS = (performance.now() - t0) / 1000;

    // Phase 2: grow to 1000, wait until Ready, then read memory.
    const t1 = performance.now();
    await applyTopics(cp, firstTopics, totalTopics);
    await waitAllReady(cp, totalTopics, op);
    const restReadyS = (performance.now() - t1) / 1000;
    await sleep(1000); // let the last status writes and queue drains settle
    const loaded = await memoryOf(op.pid ?? -1);

    const metricsText = await httpText(`http://127.0.0.1:${metricsPort}/metrics`);
    const metric = 'bolide_operator_reconcile_duration_seconds';
    const p99 = histogramQuantile(metricsText, metric, 'Topic', 0.99);
    const p50 = histogramQuantile(metricsText, metric, 'Topic', 0.5);
    const reconcileP99Ms = p99.value * 1000;

    const rows: [string, string, string][] = [
      [`${firstTopics} Topics POSTed (s)`, appliedS.toFixed(2), ''],
      [
        `${firstTopics} Topics applied → all Ready (s)`,
        topics100ReadyS.toFixed(2),
        pass(topics100ReadyS <= TARGET_READY_S, `≤ ${TARGET_READY_S}`),
      ],
      [`+${totalTopics - firstTopics} Topics applied → all Ready (s)`, restReadyS.toFixed(2), ''],
      [`Topic reconciles observed`, String(p99.count), ''],
      [`Topic reconcile p50 (ms, from buckets)`, (p50.value * 1000).toFixed(1), ''],
      [`Topic reconcile p99 (ms, from buckets)`, reconcileP99Ms.toFixed(1), ''],
      [`operator RSS idle (MB)`, idle.rssMb.toFixed(1), ''],
      [
        `operator RSS, ${totalTopics} Topics Ready (MB)`,
        loaded.rssMb.toFixed(1),
        pass(loaded.rssMb <= TARGET_RSS_MB, `≤ ${TARGET_RSS_MB}`),
      ],
      [`operator peak RSS VmHWM (MB)`, loaded.hwmMb.toFixed(1), ''],
    ];
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(...rows.map((r) => r[1].length));
    console.log(
      `operator bench: ${queues} queues/topic, 1 broker, namespace ${NS}, operator ${existsSync(COMPILED_OPERATOR) ? 'compiled (dist/)' : 'from sources via tsx (run npm run build to measure the compiled program)'}`,
    );
    for (const [k, v, t] of rows) console.log(`${k.padEnd(w0)}  ${v.padStart(w1)}  ${t}`);
    console.log(
      JSON.stringify({
        topics_100_ready_s: round(topics100ReadyS, 3),
        reconcile_p99_ms: round(reconcileP99Ms, 1),
        operator_rss_mb_1000_topics: round(loaded.rssMb, 1),
        operator_hwm_mb: round(loaded.hwmMb, 1),
        topics_rest_ready_s: round(restReadyS, 3),
        topics: totalTopics,
        queues_per_topic: queues,
        targets_met: topics100ReadyS <= TARGET_READY_S && loaded.rssMb <= TARGET_RSS_MB,
      }),
    );
  } finally {
    if (operator) await stopChild(operator).catch(() => undefined);
    process.removeListener('exit', killOperatorOnExit);
    await broker?.stop().catch(() => undefined);
    await cp?.stop().catch(() => undefined);
  }
}

function pass(ok: boolean, target: string): string {
  return `${ok ? 'PASS' : 'FAIL'} (target ${target})`;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
