// Pod networking for the node agent: one Linux bridge per agent on a private /24, and per pod a
// network namespace joined to it by a veth pair. Needs root and `ip` (iproute2).
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export async function ip(...args: string[]): Promise<string> {
  try {
    return (await execFileAsync('ip', args)).stdout;
  } catch (error) {
    throw new Error(
      `ip ${args.join(' ')}: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`,
    );
  }
}

export interface PodNetwork {
  readonly netns: string;
  readonly ip: string;
  readonly hostVeth: string;
}

export interface NodeNetwork {
  /** The bridge's own address: the pods' default gateway and DNS server. */
  readonly gateway: string;
  readonly cidr: string;
  readonly bridge: string;
  /** Shell commands that undo everything made so far (for the watchdog). */
  cleanupCommands(): string[];
  createPod(key: string): Promise<PodNetwork>;
  deletePod(net: PodNetwork): Promise<void>;
  stop(): Promise<void>;
}

/** Checks that this process may create network namespaces (root with iproute2). */
export async function netnsSupported(): Promise<boolean> {
  const probe = `bolide-probe-${process.pid}`;
  try {
    await ip('netns', 'add', probe);
    await ip('netns', 'del', probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * A bridge named `bolbr<id>` with 10.<x>.<y>.1/24, x in 200..249 and y random, so two agents on
 * one machine rarely collide (a collision fails at once on `ip addr add`).
 */
export async function createNodeNetwork(id: string, onChange: () => Promise<void>): Promise<NodeNetwork> {
  const bridge = `bolbr${id}`;
  const prefix = `10.${200 + randomInt(50)}.${randomInt(256)}`;
  const gateway = `${prefix}.1`;
  const pods = new Map<string, PodNetwork>();
  const freeHosts = Array.from({ length: 250 }, (_, i) => i + 2);
  // A netns file is bind-mounted into every pod's mount namespace made while it existed, so its
  // removal can fail with EBUSY until those pods are gone: such names are retried on stop().
  const leftover = new Set<string>();
  let counter = 0;
  const cleanupCommands = () => [
    ...[...pods.values()].map((p) => `ip netns del ${p.netns}`),
    ...[...leftover].map((netns) => `ip netns del ${netns}`),
    ...[...pods.values()].map((p) => `ip link del ${p.hostVeth}`),
    `ip link del ${bridge}`,
  ];
  await ip('link', 'add', bridge, 'type', 'bridge');
  await onChange();
  await ip('addr', 'add', `${gateway}/24`, 'dev', bridge);
  await ip('link', 'set', bridge, 'up');

  let closed = false;
  const createPod = async (key: string): Promise<PodNetwork> => {
    if (closed) throw new Error('node network is stopped');
    const previous = pods.get(key);
    if (previous) await deletePod(previous);
    const host = freeHosts.shift();
    if (host === undefined) throw new Error('pod network full (250 pods)');
    counter += 1;
    const net: PodNetwork = {
      netns: `bolide-${id}-${counter}`,
      ip: `${prefix}.${host}`,
      hostVeth: `bolv${id}${counter}`,
    };
    pods.set(key, net);
    await onChange();
    const peer = `bolp${id}${counter}`;
    await ip('netns', 'add', net.netns);
    await ip('link', 'add', net.hostVeth, 'type', 'veth', 'peer', 'name', peer);
    await ip('link', 'set', peer, 'netns', net.netns);
    await ip('link', 'set', net.hostVeth, 'master', bridge);
    await ip('link', 'set', net.hostVeth, 'up');
    await ip('-n', net.netns, 'link', 'set', 'lo', 'up');
    await ip('-n', net.netns, 'link', 'set', peer, 'name', 'eth0');
    await ip('-n', net.netns, 'addr', 'add', `${net.ip}/24`, 'dev', 'eth0');
    await ip('-n', net.netns, 'link', 'set', 'eth0', 'up');
    await ip('-n', net.netns, 'route', 'add', 'default', 'via', gateway);
    return net;
  };

  const deletePod = async (net: PodNetwork) => {
    await ip('netns', 'del', net.netns).catch(() => leftover.add(net.netns));
    await ip('link', 'del', net.hostVeth).catch(() => undefined);
    for (const [key, value] of pods) if (value === net) pods.delete(key);
    freeHosts.push(Number(net.ip.split('.')[3]));
    await onChange();
  };

  const stop = async () => {
    closed = true;
    for (const net of [...pods.values()]) await deletePod(net);
    for (const netns of [...leftover]) {
      await ip('netns', 'del', netns)
        .then(() => leftover.delete(netns))
        .catch(() => undefined);
    }
    await ip('link', 'del', bridge).catch(() => undefined);
  };

  return { gateway, cidr: `${prefix}.0/24`, bridge, cleanupCommands, createPod, deletePod, stop };
}
