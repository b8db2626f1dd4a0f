// A whole local cluster without containers: control plane (etcd + kube-apiserver), the
// controller manager, the node agent (pods as local processes), the Bolide CRDs and the operator
// running from this checkout. Used by test/e2e/local-cluster.test.ts and `npm run dev:cluster`.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { type ControlPlane, startControlPlane } from './control-plane.js';
import { type ControllerManager, startControllerManager } from './controller-manager.js';
import { installCrds } from './crds.js';
import { type NodeAgent, startNodeAgent } from './node-agent/agent.js';
import { REPO_ROOT } from './node-agent/images.js';

export interface LocalCluster {
  readonly cp: ControlPlane;
  readonly kcm: ControllerManager;
  readonly agent: NodeAgent;
  readonly operator: ChildProcess;
  readonly operatorLog: string;
  /** Runs a command with the cluster DNS (e.g. the `bolide` CLI); resolves with its output. */
  run(argv: string[], timeoutMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export interface LocalClusterOptions {
  log?: (message: string) => void;
  /** Where PVC folders live (default: inside the agent's folder, removed on stop). */
  volumesDir?: string;
}

export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const cp = await startControlPlane();
  let kcm: ControllerManager | undefined;
  let agent: NodeAgent | undefined;
  let operator: ChildProcess | undefined;
  const stop = async () => {
    if (operator && operator.exitCode === null && operator.signalCode === null) {
      const exited = new Promise((resolve) => operator?.once('exit', resolve));
      operator.kill('SIGTERM');
      const timer = setTimeout(() => operator?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await agent?.stop();
    await kcm?.stop();
    await cp.stop();
  };
  try {
    await installCrds(cp.kubeConfig);
    kcm = await startControllerManager(cp);
    agent = await startNodeAgent({
      kubeConfig: cp.kubeConfig,
      volumesDir: options.volumesDir,
      log: options.log,
    });
    const operatorLog = join(agent.dir, 'operator.log');
    const fd = openSync(operatorLog, 'a');
    try {
      const [cmd, ...args] = agent.withClusterDns([
        process.execPath,
        '--import',
        'tsx',
        join(REPO_ROOT, 'operator/src/main.ts'),
        '--kubeconfig',
        cp.kubeconfigPath,
        '--metrics-port',
        '0',
        '--leader-elect',
        'false',
        '--resync-seconds',
        '30',
      ]);
      operator = spawn(cmd ?? 'unshare', args, { cwd: REPO_ROOT, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    if (operator.pid) agent.track(operator.pid);
    const started = agent;
    const run: LocalCluster['run'] = (argv, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const [cmd, ...args] = started.withClusterDns(argv);
        const child = spawn(cmd ?? 'unshare', args, {
          cwd: REPO_ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, PATH: `${started.shimDir}:${process.env.PATH ?? ''}` },
        });
        if (child.pid) started.track(child.pid);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => {
          stdout += d;
        });
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        const timer = setTimeout(() => {
          stderr += `\n[local-cluster] ${argv.join(' ')} killed after ${timeoutMs} ms\n`;
          child.kill('SIGKILL');
        }, timeoutMs);
        child.on('error', reject);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    return { cp, kcm, agent, operator, operatorLog, run, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
