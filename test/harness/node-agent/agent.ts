// The node agent of the local cluster: registers a Ready Node, is the scheduler (binds every
// pending pod to its node) and the volume provisioner (a PV per pending PVC, a folder that outlives
// pods), runs the pods bound to it (PodRunner) and serves the cluster DNS. It polls the API every
// 500 ms — simple and plenty for a few dozen pods.
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  type KubeConfig,
  type V1Node,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { startWatchdog } from '../watchdog.js';
import { type ClusterDns, resolveClusterName, startClusterDns } from './dns.js';
import { type LocalImage, writeShims } from './images.js';
import { createNodeNetwork, type NodeNetwork, netnsSupported } from './network.js';
import { PodRunner } from './pod-runner.js';
import type { EnvSources } from './pod-spec.js';

export interface NodeAgentOptions {
  kubeConfig: KubeConfig;
  nodeName?: string;
  /** Parent folder for the agent's files (default /dev/shm or the OS temp dir). */
  scratchDir?: string;
  /** Where PVC folders live; default inside the agent's folder (removed by stop()). */
  volumesDir?: string;
  /** Extra image → program mappings, and the programs their shims run. */
  images?: Record<string, LocalImage>;
  programs?: Record<string, string[]>;
  /** Where agent messages go (default: nowhere). */
  log?: (message: string) => void;
}

export interface NodeAgent {
  readonly nodeName: string;
  /** The bridge address: the node's InternalIP, the pods' gateway and the DNS server (port 53). */
  readonly nodeIp: string;
  readonly podCidr: string;
  readonly dir: string;
  /** Folder of the image program shims (`bolide`, `bolide-operator`); put it on PATH to run them. */
  readonly shimDir: string;
  /** Resolves a cluster DNS name the way pods see it (undefined = NXDOMAIN). */
  resolve(name: string): string[] | undefined;
  /** The pod's IP and log folder if it runs here. */
  podInfo(
    namespace: string,
    name: string,
  ): { ip?: string; dir: string; pid(container: string): number | undefined } | undefined;
  /**
   * The argv that runs `argv` on the host network (API server on loopback, pods through the bridge)
   * but with the cluster DNS in its own mount namespace's /etc/resolv.conf: for the operator and
   * test clients, which live outside the pods yet use cluster names.
   */
  withClusterDns(argv: string[]): string[];
  /** Adds a process group to what the watchdog kills if the test process dies. */
  track(pid: number): void;
  stop(): Promise<void>;
}

function scratchRoot(): string {
  return process.env.BOLIDE_SCRATCH ?? '/dev/shm';
}

export async function startNodeAgent(options: NodeAgentOptions): Promise<NodeAgent> {
  if (!(await netnsSupported())) {
    throw new Error('the node agent needs root and `ip netns` (iproute2) to give pods their own network');
  }
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const log = options.log ?? (() => undefined);
  const id = Math.random().toString(36).slice(2, 6);
  const nodeName = options.nodeName ?? `bolide-node-${id}`;
  const dir = await mkdtemp(join(options.scratchDir ?? scratchRoot(), 'bolide-node-'));
  const volumesDir = options.volumesDir ?? join(dir, 'volumes');
  const shimDir = join(dir, 'bin');
  await writeShims(shimDir, options.programs);
  const pidFile = join(dir, 'pids');
  const cleanupFile = join(dir, 'cleanup');
  await writeFile(pidFile, '');
  await writeFile(cleanupFile, '');
  startWatchdog(dir, pidFile, cleanupFile);

  let network: NodeNetwork | undefined;
  const writeCleanup = async () => {
    if (network) await writeFile(cleanupFile, `${network.cleanupCommands().join('\n')}\n`);
  };
  network = await createNodeNetwork(id, writeCleanup);
  await writeCleanup();
  const net = network;
  const hostResolvConf = join(dir, 'host-resolv.conf');
  await writeFile(
    hostResolvConf,
    `nameserver ${net.gateway}\nsearch svc.cluster.local cluster.local\noptions ndots:5\n`,
  );

  let pods: V1Pod[] = [];
  let services: V1Service[] = [];
  const view = { pods: () => pods, services: () => services };
  let dns: ClusterDns | undefined;
  const runners = new Map<string, PodRunner>();
  const deleting = new Set<string>();
  const provisioned = new Set<string>();
  let stopped = false;
  let loop: NodeJS.Timeout | undefined;

  const envSources: EnvSources = {
    configMapData: async (namespace, name) =>
      (await core.readNamespacedConfigMap({ namespace, name })).data ?? {},
    configMapKey: async (namespace, name, key) =>
      (await core.readNamespacedConfigMap({ namespace, name }).catch(() => undefined))?.data?.[key],
    secretKey: async (namespace, name, key) => {
      const value = (await core.readNamespacedSecret({ namespace, name }).catch(() => undefined))?.data?.[
        key
      ];
      return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
    },
  };

  const claimPath = async (namespace: string, claim: string) => {
    const pvc = await core
      .readNamespacedPersistentVolumeClaim({ namespace, name: claim })
      .catch(() => undefined);
    if (pvc?.status?.phase !== 'Bound' || !pvc.spec?.volumeName) return undefined;
    const pv = await core.readPersistentVolume({ name: pvc.spec.volumeName });
    return pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
  };

  const registerNode = async () => {
    const node: V1Node = {
      metadata: {
        name: nodeName,
        labels: {
          'kubernetes.io/hostname': nodeName,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
        },
      },
      spec: { podCIDR: net.cidr, podCIDRs: [net.cidr] },
    };
    await core.createNode({ body: node });
    const capacity = {
      cpu: String(cpus().length),
      memory: `${Math.floor(totalmem() / 1024)}Ki`,
      pods: '110',
      'ephemeral-storage': '100Gi',
    };
    const now = new Date();
    const current = await core.readNode({ name: nodeName });
    await core.replaceNodeStatus({
      name: nodeName,
      body: {
        ...current,
        status: {
          capacity,
          allocatable: capacity,
          addresses: [
            { type: 'InternalIP', address: net.gateway },
            { type: 'Hostname', address: nodeName },
          ],
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'bolide node agent is running pods as local processes',
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
          nodeInfo: {
            architecture: 'amd64',
            bootID: id,
            containerRuntimeVersion: 'bolide-local://0.1.0',
            kernelVersion: '',
            kubeProxyVersion: '',
            kubeletVersion: 'v1.34.4',
            machineID: id,
            operatingSystem: 'linux',
            osImage: 'local processes',
            systemUUID: id,
          },
        },
      },
    });
  };

  const provision = async (pvc: V1PersistentVolumeClaim) => {
    const ns = pvc.metadata?.namespace ?? 'default';
    const name = pvc.metadata?.name ?? '';
    const key = `${ns}/${name}/${pvc.metadata?.uid}`;
    if (provisioned.has(key)) return;
    provisioned.add(key);
    const path = join(volumesDir, ns, name);
    await mkdir(path, { recursive: true });
    await core.createPersistentVolume({
      body: {
        metadata: { name: `local-${ns}-${name}`.slice(0, 253), labels: { 'bolide.dev/node': nodeName } },
        spec: {
          capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '1Gi' },
          accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: pvc.spec?.storageClassName ?? '',
          hostPath: { path, type: 'DirectoryOrCreate' },
          claimRef: { namespace: ns, name, uid: pvc.metadata?.uid },
        },
      },
    });
    log(`provisioned ${path} for PVC ${ns}/${name}`);
  };

  const finish = async (pod: V1Pod, runner: PodRunner | undefined) => {
    const uid = pod.metadata?.uid ?? '';
    if (deleting.has(uid)) return;
    deleting.add(uid);
    const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    try {
      if (runner) await runner.terminate(grace);
      runners.delete(uid);
      log(`pod ${pod.metadata?.namespace}/${pod.metadata?.name} stopped; deleting it`);
      await core
        .deleteNamespacedPod({
          name: pod.metadata?.name ?? '',
          namespace: pod.metadata?.namespace ?? 'default',
          gracePeriodSeconds: 0,
          body: { gracePeriodSeconds: 0, preconditions: { uid } },
        })
        .catch((error) => {
          if ((error as { code?: number }).code !== 404) throw error;
        });
    } catch (error) {
      log(`deleting pod ${pod.metadata?.name}: ${(error as Error).message.slice(0, 300)}`);
    } finally {
      deleting.delete(uid);
    }
  };

  const sync = async () => {
    const [podList, serviceList, pvcList] = await Promise.all([
      core.listPodForAllNamespaces(),
      core.listServiceForAllNamespaces(),
      core.listPersistentVolumeClaimForAllNamespaces(),
    ]);
    pods = podList.items;
    services = serviceList.items;
    for (const pvc of pvcList.items) {
      if (pvc.status?.phase === 'Pending' && !pvc.spec?.volumeName && !pvc.metadata?.deletionTimestamp) {
        await provision(pvc).catch((error) =>
          log(`provisioning ${pvc.metadata?.name}: ${(error as Error).message}`),
        );
      }
    }
    const seen = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? '';
      const ns = pod.metadata?.namespace ?? 'default';
      const name = pod.metadata?.name ?? '';
      if (!pod.spec?.nodeName) {
        if (pod.metadata?.deletionTimestamp) continue;
        const scheduler = pod.spec?.schedulerName ?? 'default-scheduler';
        if (scheduler !== 'default-scheduler') continue;
        await core
          .createNamespacedBinding({
            namespace: ns,
            body: { metadata: { name, uid }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
          })
          .catch((error) => log(`binding ${ns}/${name}: ${(error as Error).message}`));
        continue;
      }
      if (pod.spec.nodeName !== nodeName) continue;
      seen.add(uid);
      const runner = runners.get(uid);
      if (pod.metadata?.deletionTimestamp) {
        void finish(pod, runner);
      } else if (runner) {
        runner.update(pod);
      } else if (pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed') {
        const created = new PodRunner(pod, {
          core,
          network: net,
          nodeIp: net.gateway,
          podDir: join(dir, 'pods', `${ns}_${name}_${uid.slice(0, 8)}`),
          shimDir,
          images: options.images ?? {},
          envSources,
          claimPath,
          trackPid: (pid) => void appendFile(pidFile, `${pid}\n`),
          log,
        });
        runners.set(uid, created);
        log(`starting pod ${ns}/${name}`);
        void created.start();
      }
    }
    // Pods removed behind our back (force deletion): stop their processes at once.
    for (const [uid, runner] of runners) {
      if (!seen.has(uid) && !deleting.has(uid)) {
        runners.delete(uid);
        void runner.terminate(0);
      }
    }
  };

  const schedule = () => {
    if (stopped) return;
    loop = setTimeout(async () => {
      try {
        await sync();
      } catch (error) {
        log(`sync: ${(error as Error).message}`);
      }
      schedule();
    }, 500);
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (loop) clearTimeout(loop);
    await Promise.all([...runners.values()].map((r) => r.terminate(5)));
    runners.clear();
    await dns?.stop();
    await net.stop();
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    dns = await startClusterDns(view, net.gateway);
    await registerNode();
    await sync();
    schedule();
  } catch (error) {
    await stop();
    throw error;
  }
  process.once('exit', () => {
    for (const runner of runners.values()) void runner.terminate(0);
  });

  return {
    nodeName,
    nodeIp: net.gateway,
    podCidr: net.cidr,
    dir,
    shimDir,
    resolve: (name) => resolveClusterName(view, name),
    podInfo: (namespace, name) => {
      const pod = pods.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name);
      const runner = pod ? runners.get(pod.metadata?.uid ?? '') : undefined;
      if (!pod || !runner) return undefined;
      return {
        ip: runner.ip,
        dir: join(dir, 'pods', `${namespace}_${name}_${(pod.metadata?.uid ?? '').slice(0, 8)}`),
        pid: (container: string) => runner.pidOf(container),
      };
    },
    withClusterDns: (argv) => [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '/bin/sh',
      '-c',
      'mount --bind "$0" /etc/resolv.conf && exec "$@"',
      hostResolvConf,
      ...argv,
    ],
    track: (pid) => void appendFile(pidFile, `${pid}\n`),
    stop,
  };
}
