// Runs one pod as local processes: its own network namespace (IP on the agent's bridge), per
// container its own mount and UTS namespace with the pod's volumes bind-mounted at their mount
// paths and the cluster DNS in /etc/resolv.conf; probes, restarts, status and graceful deletion.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import type {
  CoreV1Api,
  V1Container,
  V1ContainerStatus,
  V1Pod,
  V1PodCondition,
  V1Probe,
} from '@kubernetes/client-node';
import { CLUSTER_DOMAIN } from './dns.js';
import { containerArgv, type LocalImage, localImage } from './images.js';
import type { NodeNetwork, PodNetwork } from './network.js';
import {
  containerEnv,
  type EnvSources,
  expandVars,
  fieldRefValue,
  probePort,
  probeTiming,
  restartDelayMs,
  shouldRestart,
} from './pod-spec.js';

export interface PodRunnerContext {
  core: CoreV1Api;
  network: NodeNetwork;
  nodeIp: string;
  /** Folder for this pod's files (volumes, logs, resolv.conf); removed when the pod ends. */
  podDir: string;
  shimDir: string;
  images: Record<string, LocalImage>;
  envSources: EnvSources;
  /** Host folder of a bound PVC; undefined while it is not bound yet. */
  claimPath(namespace: string, claim: string): Promise<string | undefined>;
  /** Tells the agent's watchdog about a process group to kill if the test process dies. */
  trackPid(pid: number): void;
  log(message: string): void;
}

interface ContainerState {
  spec: V1Container;
  child?: ChildProcess;
  startedAt?: Date;
  ready: boolean;
  restartCount: number;
  waitingReason?: string;
  lastTerminated?: { exitCode: number; reason: string; startedAt?: Date; finishedAt: Date };
  terminated?: { exitCode: number; reason: string; startedAt?: Date; finishedAt: Date };
  probeTimers: NodeJS.Timeout[];
  restartTimer?: NodeJS.Timeout;
}

const mounted = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

export class PodRunner {
  private pod: V1Pod;
  private net?: PodNetwork;
  private readonly containers: ContainerState[];
  private terminating = false;
  private startError?: string;
  private statusDirty = true;
  private statusWriting = false;
  private readonly ctx: PodRunnerContext;
  private volumePaths = new Map<string, string>();

  constructor(pod: V1Pod, ctx: PodRunnerContext) {
    this.pod = pod;
    this.ctx = ctx;
    this.containers = (pod.spec?.containers ?? []).map((spec) => ({
      spec,
      ready: false,
      restartCount: 0,
      waitingReason: 'ContainerCreating',
      probeTimers: [],
    }));
  }

  get key(): string {
    return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`;
  }

  get ip(): string | undefined {
    return this.net?.ip;
  }

  /** Process id of a running container, e.g. for a test to kill it. */
  pidOf(container: string): number | undefined {
    return this.containers.find((c) => c.spec.name === container)?.child?.pid;
  }

  update(pod: V1Pod): void {
    this.pod = pod;
  }

  private starting?: Promise<void>;

  /** Starts the pod; terminate() waits for a start in progress before it tears down. */
  start(): Promise<void> {
    this.starting = this.startOnce();
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    try {
      await mkdir(this.ctx.podDir, { recursive: true });
      await this.prepareVolumes();
      this.net = await this.ctx.network.createPod(this.key);
      if (this.terminating) return;
      this.pod = { ...this.pod, status: { ...this.pod.status, podIP: this.net.ip, hostIP: this.ctx.nodeIp } };
      await this.writeNameFiles();
      this.markDirty();
      for (const c of this.containers) await this.startContainer(c);
    } catch (error) {
      this.startError = (error as Error).message;
      this.ctx.log(`pod ${this.key}: ${this.startError}`);
      for (const c of this.containers) c.waitingReason = 'CreateContainerError';
      this.markDirty();
      // A missing ConfigMap or unbound claim may appear later: retry like the kubelet does.
      if (!this.terminating) setTimeout(() => this.retryStart(), 2000);
    }
  }

  private async retryStart(): Promise<void> {
    if (this.terminating) return;
    if (this.net) {
      await this.ctx.network.deletePod(this.net);
      this.net = undefined;
    }
    this.startError = undefined;
    await this.start();
  }

  private async prepareVolumes(): Promise<void> {
    const ns = this.pod.metadata?.namespace ?? 'default';
    for (const volume of this.pod.spec?.volumes ?? []) {
      const dir = join(this.ctx.podDir, 'volumes', volume.name);
      if (volume.persistentVolumeClaim) {
        const path = await this.ctx.claimPath(ns, volume.persistentVolumeClaim.claimName);
        if (!path)
          throw new Error(`persistentVolumeClaim ${volume.persistentVolumeClaim.claimName} is not bound yet`);
        await mkdir(path, { recursive: true });
        this.volumePaths.set(volume.name, path);
        continue;
      }
      await mkdir(dir, { recursive: true });
      this.volumePaths.set(volume.name, dir);
      if (volume.configMap) {
        const data = await this.ctx.envSources.configMapData(ns, volume.configMap.name ?? '');
        await writeItems(dir, data, volume.configMap.items);
      } else if (volume.secret) {
        const secret = await this.ctx.core.readNamespacedSecret({
          namespace: ns,
          name: volume.secret.secretName ?? '',
        });
        const data = Object.fromEntries(
          Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
        );
        await writeItems(dir, data, volume.secret.items);
      } else if (volume.projected) {
        for (const source of volume.projected.sources ?? []) {
          if (source.configMap) {
            const data = await this.ctx.envSources
              .configMapData(ns, source.configMap.name ?? '')
              .catch(() => ({}) as Record<string, string>);
            await writeItems(dir, data, source.configMap.items);
          }
          for (const item of source.downwardAPI?.items ?? []) {
            if (item.fieldRef)
              await writeFile(join(dir, item.path), fieldRefValue(this.pod, item.fieldRef.fieldPath));
          }
          // serviceAccountToken sources are left out: no process here talks to the API server as the pod.
        }
      } else if (volume.hostPath) {
        this.volumePaths.set(volume.name, volume.hostPath.path);
      }
    }
  }

  private async writeNameFiles(): Promise<void> {
    const ns = this.pod.metadata?.namespace ?? 'default';
    const name = this.pod.metadata?.name ?? '';
    const hostname = this.pod.spec?.hostname ?? name;
    const fqdn = this.pod.spec?.subdomain
      ? `${hostname}.${this.pod.spec.subdomain}.${ns}.svc.${CLUSTER_DOMAIN} `
      : '';
    await writeFile(
      join(this.ctx.podDir, 'resolv.conf'),
      `nameserver ${this.ctx.network.gateway}\nsearch ${ns}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}\noptions ndots:5\n`,
    );
    await writeFile(
      join(this.ctx.podDir, 'hosts'),
      `127.0.0.1 localhost\n::1 localhost\n${this.net?.ip} ${fqdn}${hostname}\n`,
    );
  }

  private async startContainer(c: ContainerState): Promise<void> {
    if (this.terminating || !this.net) return;
    const name = this.pod.metadata?.name ?? '';
    const withIp = {
      ...this.pod,
      status: { ...this.pod.status, podIP: this.net.ip, hostIP: this.ctx.nodeIp },
    };
    const env = await containerEnv(withIp, c.spec, this.ctx.envSources);
    const image = localImage(c.spec.image ?? '', this.ctx.images);
    const argv = containerArgv(image, c.spec.command, c.spec.args).map((a) => expandVars(a, env));
    const script = [
      'set -e',
      // Drop this mount namespace's copies of the netns files, or `ip netns del` of other pods fails (EBUSY).
      'for f in /run/netns/*; do umount "$f" 2>/dev/null || true; done',
      `mount --bind ${mounted(join(this.ctx.podDir, 'resolv.conf'))} /etc/resolv.conf`,
      `mount --bind ${mounted(join(this.ctx.podDir, 'hosts'))} /etc/hosts`,
      `hostname ${mounted(this.pod.spec?.hostname ?? name)}`,
    ];
    for (const m of c.spec.volumeMounts ?? []) {
      const source = this.volumePaths.get(m.name);
      if (!source) continue;
      const from = m.subPath ? join(source, m.subPath) : source;
      script.push(
        `mkdir -p ${mounted(m.mountPath)}`,
        `mount --bind ${mounted(from)} ${mounted(m.mountPath)}`,
      );
      if (m.readOnly) script.push(`mount -o remount,bind,ro ${mounted(m.mountPath)}`);
    }
    if (c.spec.workingDir) script.push(`cd ${mounted(c.spec.workingDir)}`);
    script.push('exec "$@"');
    const launcher = join(this.ctx.podDir, `launch-${c.spec.name}.sh`);
    await writeFile(launcher, `${script.join('\n')}\n`);
    const logFd = openSync(join(this.ctx.podDir, `${c.spec.name}.log`), 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        'ip',
        ['netns', 'exec', this.net.netns, 'unshare', '--uts', '/bin/sh', launcher, ...argv],
        {
          detached: true,
          stdio: ['ignore', logFd, logFd],
          env: {
            PATH: `${this.ctx.shimDir}:${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
            HOME: '/root',
            HOSTNAME: this.pod.spec?.hostname ?? name,
            ...env,
          },
        },
      );
    } finally {
      closeSync(logFd);
    }
    c.child = child;
    c.startedAt = new Date();
    c.waitingReason = undefined;
    c.terminated = undefined;
    c.ready = false;
    if (child.pid) this.ctx.trackPid(child.pid);
    child.on('exit', (code, signal) => this.onExit(c, child, code, signal));
    child.on('error', (error) => this.ctx.log(`pod ${this.key} container ${c.spec.name}: ${error.message}`));
    this.startProbes(c, child);
    this.markDirty();
  }

  private onExit(
    c: ContainerState,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (c.child !== child) return;
    for (const t of c.probeTimers) clearTimeout(t);
    c.probeTimers = [];
    c.child = undefined;
    c.ready = false;
    const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
    const state = {
      exitCode,
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt: c.startedAt,
      finishedAt: new Date(),
    };
    if (this.terminating || !shouldRestart(this.pod.spec?.restartPolicy, exitCode)) {
      c.terminated = state;
    } else {
      c.lastTerminated = state;
      c.waitingReason = 'CrashLoopBackOff';
      const delay = restartDelayMs(c.restartCount);
      c.restartCount += 1;
      c.restartTimer = setTimeout(() => {
        this.startContainer(c).catch((error) => {
          this.ctx.log(`pod ${this.key} container ${c.spec.name}: ${(error as Error).message}`);
          this.onExit(c, child, 1, null);
        });
      }, delay);
    }
    this.ctx.log(`pod ${this.key} container ${c.spec.name} exited ${exitCode}`);
    this.markDirty();
  }

  private startProbes(c: ContainerState, child: ChildProcess): void {
    const readiness = c.spec.readinessProbe;
    if (!readiness) c.ready = true;
    else
      this.loopProbe(c, child, readiness, (ok) => {
        if (c.ready !== ok) {
          c.ready = ok;
          this.markDirty();
        }
      });
    const liveness = c.spec.livenessProbe;
    if (liveness) {
      this.loopProbe(c, child, liveness, (ok) => {
        if (!ok && c.child === child) {
          this.ctx.log(`pod ${this.key} container ${c.spec.name}: liveness failed, restarting`);
          this.stopProcess(child, this.pod.spec?.terminationGracePeriodSeconds ?? 30);
        }
      });
    }
  }

  private loopProbe(
    c: ContainerState,
    child: ChildProcess,
    probe: V1Probe,
    report: (ok: boolean) => void,
  ): void {
    const timing = probeTiming(probe);
    let failures = 0;
    let successes = 0;
    const tick = async () => {
      if (c.child !== child) return;
      const ok = await this.runProbe(c, child, probe, timing.timeoutMs).catch(() => false);
      if (c.child !== child) return;
      if (ok) {
        failures = 0;
        successes += 1;
        if (successes >= timing.successThreshold) report(true);
      } else {
        successes = 0;
        failures += 1;
        if (failures >= timing.failureThreshold) report(false);
      }
      c.probeTimers.push(setTimeout(tick, timing.periodMs));
    };
    // The first check comes soon after start (not a whole period later) so pods turn Ready quickly.
    c.probeTimers.push(setTimeout(tick, Math.max(timing.initialDelayMs, 500)));
  }

  private runProbe(
    c: ContainerState,
    child: ChildProcess,
    probe: V1Probe,
    timeoutMs: number,
  ): Promise<boolean> {
    const host = this.net?.ip ?? '127.0.0.1';
    if (probe.httpGet) {
      const port = probePort(c.spec, probe.httpGet.port as number | string);
      return new Promise((resolve) => {
        const req = request({ host, port, path: probe.httpGet?.path ?? '/', timeout: timeoutMs }, (res) => {
          res.resume();
          resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(false));
        req.end();
      });
    }
    if (probe.tcpSocket) {
      const port = probePort(c.spec, probe.tcpSocket.port as number | string);
      return new Promise((resolve) => {
        const socket = connect({ host, port, timeout: timeoutMs });
        socket.on('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('timeout', () => {
          socket.destroy();
          resolve(false);
        });
        socket.on('error', () => resolve(false));
      });
    }
    if (probe.exec?.command && child.pid) {
      const argv = probe.exec.command;
      const pid = String(child.pid);
      return new Promise((resolve) => {
        execFile(
          'nsenter',
          ['-t', pid, '-n', '-m', '-u', '--', ...argv],
          { timeout: Math.max(timeoutMs, 1000) },
          (error) => resolve(!error),
        );
      });
    }
    return Promise.resolve(true);
  }

  private stopProcess(child: ChildProcess, graceSeconds: number): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return Promise.resolve();
    const pid = child.pid;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch {
        child.kill(sig);
      }
    };
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), graceSeconds * 1000);
    return exited.then(() => clearTimeout(timer));
  }

  /** SIGTERM every container, SIGKILL after the grace period, then release the network and files. */
  async terminate(graceSeconds: number): Promise<void> {
    this.terminating = true;
    await this.starting?.catch(() => undefined);
    for (const c of this.containers) {
      if (c.restartTimer) clearTimeout(c.restartTimer);
      for (const t of c.probeTimers) clearTimeout(t);
    }
    await Promise.all(
      this.containers.map((c) => (c.child ? this.stopProcess(c.child, graceSeconds) : undefined)),
    );
    this.ctx.log(`pod ${this.key}: containers stopped`);
    if (this.net) await this.ctx.network.deletePod(this.net);
    this.ctx.log(`pod ${this.key}: network removed`);
    await rm(this.ctx.podDir, { recursive: true, force: true }).catch(() => undefined);
  }

  private markDirty(): void {
    this.statusDirty = true;
    void this.flushStatus();
  }

  /** One status write at a time; a change during a write causes another write after it. */
  private async flushStatus(): Promise<void> {
    if (this.statusWriting || !this.statusDirty) return;
    this.statusWriting = true;
    try {
      while (this.statusDirty) {
        this.statusDirty = false;
        try {
          await this.writeStatus();
        } catch (error) {
          const code = (error as { code?: number }).code;
          if (code === 404) return;
          this.ctx.log(`pod ${this.key}: status write failed: ${(error as Error).message.slice(0, 200)}`);
          this.statusDirty = true;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    } finally {
      this.statusWriting = false;
    }
  }

  private buildStatus(): V1Pod['status'] {
    const now = new Date();
    const statuses: V1ContainerStatus[] = this.containers.map((c) => {
      const state: V1ContainerStatus['state'] = c.child
        ? { running: { startedAt: c.startedAt } }
        : c.terminated
          ? {
              terminated: {
                exitCode: c.terminated.exitCode,
                reason: c.terminated.reason,
                startedAt: c.terminated.startedAt,
                finishedAt: c.terminated.finishedAt,
              },
            }
          : { waiting: { reason: c.waitingReason ?? 'ContainerCreating', message: this.startError } };
      const status: V1ContainerStatus = {
        name: c.spec.name,
        image: c.spec.image ?? '',
        imageID: `local://${c.spec.image}`,
        ready: c.ready && !!c.child,
        started: !!c.child,
        restartCount: c.restartCount,
        state,
      };
      if (c.child) status.containerID = `local://${c.child.pid}`;
      if (c.lastTerminated) status.lastState = { terminated: { ...c.lastTerminated } };
      return status;
    });
    const allReady = statuses.length > 0 && statuses.every((s) => s.ready);
    const previous = this.pod.status?.conditions ?? [];
    const condition = (type: string, ok: boolean): V1PodCondition => {
      const status = ok ? 'True' : 'False';
      const old = previous.find((p) => p.type === type);
      return {
        type,
        status,
        lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now,
      };
    };
    const exited = this.containers.every((c) => c.terminated);
    const phase = exited
      ? this.containers.every((c) => c.terminated?.exitCode === 0)
        ? 'Succeeded'
        : 'Failed'
      : this.containers.some((c) => c.child || c.lastTerminated)
        ? 'Running'
        : 'Pending';
    return {
      phase,
      hostIP: this.ctx.nodeIp,
      hostIPs: [{ ip: this.ctx.nodeIp }],
      podIP: this.net?.ip,
      podIPs: this.net ? [{ ip: this.net.ip }] : undefined,
      startTime: this.pod.status?.startTime ?? now,
      qosClass: this.pod.status?.qosClass,
      conditions: [
        condition('PodScheduled', true),
        condition('Initialized', true),
        condition('ContainersReady', allReady),
        condition('Ready', allReady),
      ],
      containerStatuses: statuses,
    };
  }

  private async writeStatus(): Promise<void> {
    const name = this.pod.metadata?.name ?? '';
    const namespace = this.pod.metadata?.namespace ?? 'default';
    const current = await this.ctx.core.readNamespacedPod({ name, namespace });
    if (current.metadata?.uid !== this.pod.metadata?.uid) return;
    this.pod = current;
    const status = this.buildStatus();
    await this.ctx.core.replaceNamespacedPodStatus({ name, namespace, body: { ...current, status } });
    this.pod = { ...current, status };
  }
}

async function writeItems(
  dir: string,
  data: Record<string, string>,
  items: { key: string; path: string }[] | undefined,
): Promise<void> {
  const chosen = items ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const item of chosen) {
    if (!(item.key in data)) continue;
    await mkdir(dirname(join(dir, item.path)), { recursive: true });
    await writeFile(join(dir, item.path), data[item.key] ?? '');
  }
}
