// A name server and a broker on loopback for tests: `bolide standalone` either in this process or
// as a child process (for tests about process behaviour: SIGTERM, SIGKILL, restart). Ports are
// chosen by the OS; data lives in a temp directory unless one is given.
//
//   const mq = await startStandalone();              // in-process, fresh temp dir
//   … new Producer({ namesrvAddr: mq.namesrvAddr }) …
//   await mq.stop();                                   // graceful; removes the temp dir
//
//   const a = await startStandalone({ mode: 'child-process', dataDir, keepData: true });
//   await a.kill!();                                   // SIGKILL, no shutdown
//   const b = await startStandalone({ mode: 'child-process', dataDir });   // recovers

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, silentLogger } from '../../broker-image/src/common/index.js';
import { type RunningRoles, startRoles } from '../../broker-image/src/main.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN_TS = join(REPO_ROOT, 'broker-image', 'src', 'main.ts');
const MAIN_JS = join(REPO_ROOT, 'dist', 'broker-image', 'src', 'main.js');

export interface StandaloneOptions {
  /** Data directory (storePathRootDir); default: a new temp directory. */
  dataDir?: string;
  /** Keep the data directory on stop (default: keep only directories the caller passed in). */
  keepData?: boolean;
  flushDiskType?: 'ASYNC_FLUSH' | 'SYNC_FLUSH';
  /** Extra broker.conf keys (e.g. { autoCreateTopicEnable: false, maxMessageSize: 65536 }). */
  brokerConf?: Record<string, string | number | boolean>;
  /** In this process (default) or as `node --import tsx broker-image/src/main.ts standalone`. */
  mode?: 'in-process' | 'child-process';
  /** Fixed ports instead of OS-chosen ones (restart tests that need stable addresses). */
  namesrvPort?: number;
  brokerPort?: number;
  /** Serve /metrics and /healthz (on an OS-chosen port unless given). Default: on. */
  httpPort?: number | 'off';
  /** Log to stderr (default: silent unless BOLIDE_TEST_LOG is set). */
  log?: boolean;
  /** Child-process mode: extra environment variables. */
  env?: Record<string, string>;
  /** Child-process mode: extra node options before the script (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
  /**
   * Child-process mode: run the sources through tsx (default) or the compiled program in dist/
   * (what the image runs; `npm run build` first).
   */
  program?: 'sources' | 'compiled';
}

export interface LocalRocketMQ {
  /** "127.0.0.1:port" */
  namesrvAddr: string;
  /** "127.0.0.1:port" */
  brokerAddr: string;
  dataDir: string;
  /** Port of /metrics and /healthz, when enabled. */
  httpPort?: number;
  /** In-process mode: the running roles (broker, name server) for white-box assertions. */
  roles?: RunningRoles;
  /** Child-process mode: the process. */
  process?: ChildProcess;
  /** Graceful stop (SIGTERM in child-process mode); resolves with the exit code there (0 expected). */
  stop(): Promise<number | undefined>;
  /** Child-process mode only: SIGKILL, no shutdown at all. */
  kill?(): Promise<void>;
}

function brokerConfText(options: StandaloneOptions): string {
  const conf: Record<string, string | number | boolean> = {
    brokerClusterName: 'DefaultCluster',
    brokerName: 'broker-a',
    brokerIP1: '127.0.0.1',
    // Small segments keep test directories small; still far above the largest record.
    mappedFileSizeCommitLog: 64 * 1024 * 1024,
    flushDiskType: options.flushDiskType ?? 'ASYNC_FLUSH',
    ...options.brokerConf,
  };
  return Object.entries(conf)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

export async function startStandalone(options: StandaloneOptions = {}): Promise<LocalRocketMQ> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'bolide-standalone-')));
  const keep = options.keepData ?? !ownDir;
  const confPath = join(
    tmpdir(),
    `bolide-test-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.conf`,
  );
  await writeFile(confPath, brokerConfText(options));
  const httpPort = options.httpPort === 'off' ? '-1' : String(options.httpPort ?? 0);
  const args = {
    config: confPath,
    dataDir,
    namesrvPort: String(options.namesrvPort ?? 0),
    brokerPort: String(options.brokerPort ?? 0),
    httpPort,
  };
  const cleanup = async () => {
    await rm(confPath, { force: true });
    if (!keep) await rm(dataDir, { recursive: true, force: true });
  };

  if ((options.mode ?? 'in-process') === 'in-process') {
    const verbose = options.log ?? process.env.BOLIDE_TEST_LOG !== undefined;
    const logger = verbose ? createLogger('standalone', { level: 'info' }) : silentLogger();
    let roles: RunningRoles;
    try {
      roles = await startRoles('standalone', args, {}, logger);
    } catch (err) {
      await cleanup();
      throw err;
    }
    let stopped = false;
    return {
      namesrvAddr: roles.namesrvAddr!,
      brokerAddr: roles.broker!.brokerAddr,
      dataDir,
      httpPort: roles.http?.port,
      roles,
      stop: async () => {
        if (stopped) return undefined;
        stopped = true;
        await roles.stop();
        await cleanup();
        return undefined;
      },
    };
  }

  const argv = [
    ...(options.nodeArgs ?? []),
    ...(options.program === 'compiled' ? [MAIN_JS] : ['--import', 'tsx', MAIN_TS]),
    'standalone',
    '-c',
    confPath,
    '--data-dir',
    dataDir,
    '--namesrv-port',
    args.namesrvPort,
    '--broker-port',
    args.brokerPort,
    '--http-port',
    httpPort,
  ];
  const child = spawn(process.execPath, argv, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dataDir, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit(code ?? (signal ? 128 : 1)));
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (options.log ?? process.env.BOLIDE_TEST_LOG !== undefined) process.stderr.write(chunk);
    if (stderr.length > 64 * 1024) stderr = stderr.slice(-32 * 1024);
  });
  const ready = await new Promise<string>((resolveReady, rejectReady) => {
    let out = '';
    const timer = setTimeout(
      () => rejectReady(new Error(`standalone did not start within 60 s:\n${stderr}`)),
      60_000,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      if (options.log ?? process.env.BOLIDE_TEST_LOG !== undefined) process.stderr.write(chunk);
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('bolide standalone ready'));
      if (line) {
        clearTimeout(timer);
        resolveReady(line);
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      rejectReady(new Error(`standalone exited with ${code} before it was ready:\n${stderr}`));
    });
  }).catch(async (err) => {
    child.kill('SIGKILL');
    await cleanup();
    throw err;
  });
  const field = (name: string) => new RegExp(`${name}=(\\S+)`).exec(ready)?.[1];
  let done = false;
  const finish = async (signal: NodeJS.Signals) => {
    if (done) return exited;
    done = true;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const code = await exited;
    await cleanup();
    return code;
  };
  return {
    namesrvAddr: field('namesrv')!,
    brokerAddr: field('broker')!,
    dataDir,
    httpPort: field('http') ? Number(field('http')) : undefined,
    process: child,
    stop: () => finish('SIGTERM'),
    kill: async () => {
      await finish('SIGKILL');
    },
  };
}
