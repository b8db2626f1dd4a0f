// kube-controller-manager against a harness control plane, so Deployments, StatefulSets, garbage
// collection and PVC binding happen as in a real cluster. Built by install-control-plane.sh.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, openSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ControlPlane } from './control-plane.js';
import { startWatchdog } from './watchdog.js';

/** What a local cluster needs: workloads, GC, PVC binding, default service accounts, endpoints. */
export const LOCAL_CLUSTER_CONTROLLERS = [
  'deployment-controller',
  'replicaset-controller',
  'statefulset-controller',
  'garbage-collector-controller',
  'persistentvolume-binder-controller',
  'persistentvolumeclaim-protection-controller',
  'persistentvolume-protection-controller',
  'serviceaccount-controller',
  'root-ca-certificate-publisher-controller',
  'endpointslice-controller',
  'disruption-controller',
  'namespace-controller',
];

export interface ControllerManagerOptions {
  controllers?: string[];
  extraArgs?: string[];
}

export interface ControllerManager {
  readonly pid: number;
  readonly logPath: string;
  logTail(lines?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after 10 s; removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startControllerManager(
  cp: ControlPlane,
  options: ControllerManagerOptions = {},
): Promise<ControllerManager> {
  const binary = join(cp.binDir, 'kube-controller-manager');
  try {
    accessSync(binary, fsConstants.X_OK);
  } catch {
    throw new Error(
      `kube-controller-manager not found at ${binary}; run test/harness/install-control-plane.sh`,
    );
  }
  const dir = await mkdtemp(join(cp.dir, '..', 'bolide-kcm-'));
  const pidFile = join(dir, 'pids');
  await writeFile(pidFile, '');
  await writeFile(join(dir, 'cleanup'), '');
  startWatchdog(dir, pidFile, join(dir, 'cleanup'));
  const logPath = join(dir, 'kube-controller-manager.log');
  const logFd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      binary,
      [
        `--kubeconfig=${cp.kubeconfigPath}`,
        `--controllers=${(options.controllers ?? LOCAL_CLUSTER_CONTROLLERS).join(',')}`,
        '--use-service-account-credentials=false',
        '--leader-elect=false',
        '--secure-port=0',
        `--root-ca-file=${cp.files.caCert}`,
        `--cluster-signing-cert-file=${cp.files.caCert}`,
        `--cluster-signing-key-file=${cp.files.caKey}`,
        '--kube-api-qps=100',
        '--kube-api-burst=200',
        '--concurrent-statefulset-syncs=5',
        '--v=1',
        ...(options.extraArgs ?? []),
      ],
      { stdio: ['ignore', logFd, logFd] },
    );
  } finally {
    closeSync(logFd);
  }
  await appendFile(pidFile, `${child.pid}\n`);
  let exit: string | undefined;
  child.on('exit', (code, signal) => {
    exit = `exited with ${signal ?? `code ${code}`}`;
  });
  const logTail = async (lines = 40) => {
    try {
      return (await readFile(logPath, 'utf8')).split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  process.once('exit', () => child.kill('SIGKILL'));
  // A bad flag ends the process at once; give it a moment to say so.
  await new Promise((resolve) => setTimeout(resolve, 500));
  if (exit) {
    const log = await logTail(30);
    await stop();
    throw new Error(`kube-controller-manager ${exit}\n${log}`);
  }
  return { pid: child.pid ?? -1, logPath, logTail, stop };
}
