// How fast the autoscaler reacts to a backlog, against a real kube-apiserver and two real brokers:
//   react_poll_s  — backlog over the threshold → the Deployment's /scale shows more replicas, with
//                   nothing but the poll interval to wake the operator (target ≤ pollInterval + 1 s);
//   react_alert_s — an Alertmanager webhook names the group (poll interval 1 h) → /scale changed
//                   (target ≤ 1 s).
// Each trial uses a fresh Topic, Deployment and ConsumerGroup; the backlog arrives at a random point
// of the poll cycle. Prints a table, then one JSON line.
//
//   npm run bench:autoscale [-- --trials 5 --poll-seconds 2]

import { parseArgs } from 'node:util';
import { type AutoscaleEnv, eventually, startAutoscaleEnv } from '../test/operator/autoscale-support.js';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '5' },
    'poll-seconds': { type: 'string', default: '2' },
  },
});
const trials = Number(values.trials);
const pollSeconds = Number(values['poll-seconds']);
if (!Number.isInteger(trials) || trials < 1) throw new Error('--trials must be a whole number >= 1');
if (!Number.isInteger(pollSeconds) || pollSeconds < 1)
  throw new Error('--poll-seconds must be a whole number >= 1');

/** lagPerReplica 10 with 1 replica running: the 11th unconsumed message puts the lag over the threshold. */
const LAG_PER_REPLICA = 10;
const BACKLOG = LAG_PER_REPLICA + 1;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Seconds from `start` until the Deployment runs more than `from` replicas (checked every 10 ms). */
async function untilScaled(
  t: AutoscaleEnv,
  deployment: string,
  from: number,
  start: number,
): Promise<number> {
  for (;;) {
    if ((await t.replicas(deployment)) > from) return (performance.now() - start) / 1000;
    if (performance.now() - start > 120_000) throw new Error(`${deployment} never scaled`);
    await sleep(10);
  }
}

async function prepare(t: AutoscaleEnv, name: string, pollIntervalSeconds: number): Promise<void> {
  await t.createTopic(name, 2);
  await t.createDeployment(`${name}-workers`, 1);
  await t.createGroup(`${name}-consumers`, name, {
    target: { name: `${name}-workers` },
    minReplicas: 1,
    maxReplicas: 4,
    lagPerReplica: LAG_PER_REPLICA,
    pollIntervalSeconds,
  });
  // The group's first evaluation (on creation) has run: from here only the poll timer or an alert wakes it.
  await eventually(`${name} evaluated`, async () => (await t.group(`${name}-consumers`))?.status?.lagTime);
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const t = await startAutoscaleEnv('autoscale-bench', { retryMaxDelayMs: 1000 });
  const poll: number[] = [];
  const alert: number[] = [];
  try {
    for (let i = 0; i < trials; i++) {
      const name = `poll-${i}`;
      await prepare(t, name, pollSeconds);
      await sleep(Math.random() * pollSeconds * 1000);
      await t.produce(name, BACKLOG); // the last send's answer: the lag is now over the threshold
      const start = performance.now();
      poll.push(await untilScaled(t, `${name}-workers`, 1, start));
    }
    for (let i = 0; i < trials; i++) {
      const name = `alert-${i}`;
      await prepare(t, name, 3600);
      await t.produce(name, BACKLOG);
      const start = performance.now();
      const res = await t.alert([`${name}-consumers`]);
      if (res.status !== 202) throw new Error(`POST /alerts answered ${res.status}: ${await res.text()}`);
      alert.push(await untilScaled(t, `${name}-workers`, 1, start));
    }
  } finally {
    await t.stop();
  }

  const rows = [
    { metric: 'react_poll_s', samples: poll, target: pollSeconds + 1 },
    { metric: 'react_alert_s', samples: alert, target: 1 },
  ].map((r) => {
    const sorted = [...r.samples].sort((a, b) => a - b);
    const max = sorted[sorted.length - 1] ?? Number.NaN;
    return { ...r, p50: quantile(sorted, 0.5), max, pass: max <= r.target };
  });
  const f = (n: number) => n.toFixed(3);
  console.log(`autoscaler reaction, ${trials} trials each, poll interval ${pollSeconds} s`);
  console.log(
    ['metric'.padEnd(14), 'trials', 'p50_s'.padStart(7), 'max_s'.padStart(7), 'target_s', 'result'].join(
      '  ',
    ),
  );
  for (const r of rows) {
    console.log(
      [
        r.metric.padEnd(14),
        String(r.samples.length).padStart(6),
        f(r.p50).padStart(7),
        f(r.max).padStart(7),
        `≤ ${r.target}`.padStart(8),
        r.pass ? 'pass' : 'FAIL',
      ].join('  '),
    );
  }
  const [p, a] = rows;
  console.log(
    JSON.stringify({
      react_poll_s: Number(f(p?.max ?? Number.NaN)),
      react_alert_s: Number(f(a?.max ?? Number.NaN)),
      react_poll_p50_s: Number(f(p?.p50 ?? Number.NaN)),
      react_alert_p50_s: Number(f(a?.p50 ?? Number.NaN)),
      poll_interval_s: pollSeconds,
      trials,
      react_poll_target_s: pollSeconds + 1,
      react_alert_target_s: 1,
      react_poll_pass: p?.pass ?? false,
      react_alert_pass: a?.pass ?? false,
    }),
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
