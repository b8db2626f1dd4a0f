// `bolide` as a process: graceful SIGTERM, restart resuming from committed offsets, config errors
// at start, and the hand-off of non-server subcommands to the client CLI.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResponseCode } from '../../broker-image/src/protocol/index.js';
import { startStandalone } from '../harness/local-rocketmq.js';
import { RawRocketMQ, recordsOf } from '../harness/raw-rocketmq.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'broker-image', 'src', 'main.ts');

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bolide-process-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function runBolide(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('bolide standalone process', () => {
  it('stops cleanly on SIGTERM and a restart resumes from the committed offsets', async () => {
    const dataDir = join(dir, 'restart');
    const first = await startStandalone({ mode: 'child-process', dataDir, flushDiskType: 'SYNC_FLUSH' });
    const raw = new RawRocketMQ();
    try {
      const create = await raw.invoke(first.brokerAddr, 17, {
        topic: 'Durable',
        defaultTopic: 'TBW102',
        readQueueNums: '2',
        writeQueueNums: '2',
        perm: '6',
        topicFilterType: 'SINGLE_TAG',
        order: 'false',
      });
      expect(create.code).toBe(ResponseCode.SUCCESS);
      for (let i = 0; i < 20; i++) {
        const r = await raw.send(first.brokerAddr, 'Durable', `m${i}`, { queueId: i % 2 });
        expect(r.code, r.remark).toBe(ResponseCode.SUCCESS);
      }
      // The consumer got through 6 of queue 0 and 4 of queue 1 and committed that.
      await raw.invoke(first.brokerAddr, 15, {
        consumerGroup: 'GD',
        topic: 'Durable',
        queueId: '0',
        commitOffset: '6',
      });
      await raw.invoke(first.brokerAddr, 15, {
        consumerGroup: 'GD',
        topic: 'Durable',
        queueId: '1',
        commitOffset: '4',
      });
    } finally {
      await raw.close();
    }
    expect(await first.stop()).toBe(0);

    const second = await startStandalone({ mode: 'child-process', dataDir, flushDiskType: 'SYNC_FLUSH' });
    const raw2 = new RawRocketMQ();
    try {
      const q0 = await raw2.invoke(second.brokerAddr, 14, {
        consumerGroup: 'GD',
        topic: 'Durable',
        queueId: '0',
      });
      const q1 = await raw2.invoke(second.brokerAddr, 14, {
        consumerGroup: 'GD',
        topic: 'Durable',
        queueId: '1',
      });
      expect([q0.extFields.offset, q1.extFields.offset]).toEqual(['6', '4']);
      const rest0 = await raw2.pull(second.brokerAddr, {
        group: 'GD',
        topic: 'Durable',
        queueId: 0,
        offset: 6,
        subscription: '*',
        suspend: false,
      });
      expect(recordsOf(rest0).map((r) => r.body.toString())).toEqual(['m12', 'm14', 'm16', 'm18']);
      const rest1 = await raw2.pull(second.brokerAddr, {
        group: 'GD',
        topic: 'Durable',
        queueId: 1,
        offset: 4,
        subscription: '*',
        suspend: false,
      });
      expect(recordsOf(rest1).map((r) => r.body.toString())).toEqual([
        'm9',
        'm11',
        'm13',
        'm15',
        'm17',
        'm19',
      ]);
      // The topic survived the restart and is routed again.
      const route = await raw2.invoke(second.namesrvAddr, 105, { topic: 'Durable' });
      expect(route.code).toBe(ResponseCode.SUCCESS);
    } finally {
      await raw2.close();
      expect(await second.stop()).toBe(0);
    }
  });
});

/** Starts `bolide <args>` and resolves with the fields of its "ready" line. */
async function startRole(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const ready = out.split('\n').find((l) => l.includes(' ready'));
      if (ready) resolve(ready);
    });
    exit.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  const field = (name: string) => new RegExp(`${name}=(\\S+)`).exec(line)?.[1];
  return {
    field,
    stop: async () => {
      child.kill('SIGTERM');
      return exit;
    },
  };
}

describe('separate name server and broker processes', () => {
  it('a broker started with -c registers with a separate name server; both serve metrics and stop on SIGTERM', async () => {
    const ns = await startRole([
      'namesrv',
      '--namesrv-port',
      '0',
      '--http-port',
      '0',
      '--data-dir',
      join(dir, 'ns'),
    ]);
    const nsAddr = ns.field('namesrv')!;
    const conf = join(dir, 'broker-b.conf');
    await writeFile(
      conf,
      [
        'brokerClusterName=ClusterX',
        'brokerName=broker-b',
        'brokerIP1=127.0.0.1',
        'mappedFileSizeCommitLog=8388608',
      ].join('\n'),
    );
    const broker = await startRole([
      'broker',
      '-c',
      conf,
      '--broker-port',
      '0',
      '--http-port',
      '0',
      '--data-dir',
      join(dir, 'broker-b'),
      '--namesrv-addr',
      nsAddr,
    ]);
    const raw = new RawRocketMQ();
    try {
      const cluster = await raw.invoke(nsAddr, 106);
      expect(JSON.parse(cluster.body!.toString()).clusterAddrTable).toEqual({ ClusterX: ['broker-b'] });
      const nsMetrics = await fetch(`http://127.0.0.1:${ns.field('http')}/metrics`).then((r) => r.text());
      expect(nsMetrics).toContain('bolide_namesrv_brokers 1');
      const brokerMetrics = await fetch(`http://127.0.0.1:${broker.field('http')}/metrics`).then((r) =>
        r.text(),
      );
      expect(brokerMetrics).toContain('bolide_broker_connections');
      const health = await fetch(`http://127.0.0.1:${broker.field('http')}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await raw.close();
    }
    expect(await broker.stop()).toBe(0);
    // A clean broker shutdown unregisters at once.
    const raw2 = new RawRocketMQ();
    try {
      const cluster = await raw2.invoke(nsAddr, 106);
      expect(JSON.parse(cluster.body!.toString()).clusterAddrTable).toEqual({});
    } finally {
      await raw2.close();
    }
    expect(await ns.stop()).toBe(0);
  });
});

describe('bolide command line', () => {
  it('fails at start naming a bad config key and the accepted values', async () => {
    const conf = join(dir, 'bad.conf');
    await writeFile(conf, 'brokerName=b\nflushDiskType=SOMETIMES\nnoSuchKey=1\n');
    const r = runBolide([
      'broker',
      '-c',
      conf,
      '--broker-port',
      '0',
      '--http-port',
      '-1',
      '--data-dir',
      join(dir, 'bad'),
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('flushDiskType="SOMETIMES"');
    expect(r.stderr).toContain('ASYNC_FLUSH, SYNC_FLUSH');
  });

  it('fails on a bad option value from the command line', () => {
    const r = runBolide(['namesrv', '--namesrv-port', 'eighty']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('listenPort="eighty" (option --namesrv-port)');
  });

  it('prints usage for --help and rejects unknown options', () => {
    const help = runBolide(['standalone', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('bolide standalone');
    const bad = runBolide(['broker', '--no-such-option']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('Usage: bolide');
  });

  it('hands other subcommands to the client CLI', () => {
    const r = runBolide(['topic', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('produce');
  });
});
