// The cluster DNS of the local cluster: answers A queries for `<svc>.<ns>.svc.cluster.local` and
// `<pod>.<svc>.<ns>.svc.cluster.local` from the agent's latest view of Services and Pods.
// There is no kube-proxy, so a ClusterIP Service also resolves to its ready pods' IPs.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import * as packet from 'dns-packet';

export const CLUSTER_DOMAIN = 'cluster.local';

export interface ClusterView {
  services(): V1Service[];
  pods(): V1Pod[];
}

/** IPv4 addresses for a name, or undefined when the name is not a cluster name (NXDOMAIN). */
export function resolveClusterName(view: ClusterView, name: string): string[] | undefined {
  const suffix = `.svc.${CLUSTER_DOMAIN}`;
  const lower = name.toLowerCase().replace(/\.$/, '');
  if (!lower.endsWith(suffix)) return undefined;
  const parts = lower.slice(0, -suffix.length).split('.');
  if (parts.length < 2 || parts.length > 3) return undefined;
  const [podName, svcName, ns] = parts.length === 3 ? parts : [undefined, parts[0], parts[1]];
  const service = view.services().find((s) => s.metadata?.name === svcName && s.metadata?.namespace === ns);
  if (!service) return undefined;
  const selector = service.spec?.selector ?? {};
  const selected = view
    .pods()
    .filter(
      (p) =>
        p.metadata?.namespace === ns &&
        !p.metadata?.deletionTimestamp &&
        p.status?.podIP &&
        Object.keys(selector).length > 0 &&
        Object.entries(selector).every(([k, v]) => p.metadata?.labels?.[k] === v),
    );
  if (podName !== undefined) {
    const pod = selected.find(
      (p) => (p.spec?.hostname ?? p.metadata?.name) === podName && p.spec?.subdomain === svcName,
    );
    return pod ? [pod.status?.podIP ?? ''] : undefined;
  }
  const ready = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  const published = service.spec?.publishNotReadyAddresses ? selected : selected.filter(ready);
  return published.map((p) => p.status?.podIP ?? '');
}

export interface ClusterDns {
  readonly address: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startClusterDns(view: ClusterView, address: string, port = 53): Promise<ClusterDns> {
  const socket: Socket = createSocket('udp4');
  socket.on('message', (msg: Buffer, from: RemoteInfo) => {
    let query: packet.Packet;
    try {
      query = packet.decode(msg);
    } catch {
      return; // not DNS; ignore as a resolver would
    }
    const question = query.questions?.[0];
    if (!question) return;
    const ips = resolveClusterName(view, question.name);
    const answers: packet.Answer[] =
      question.type === 'A' && ips
        ? ips.map((data) => ({ type: 'A', name: question.name, ttl: 1, class: 'IN', data }))
        : [];
    const reply = packet.encode({
      id: query.id,
      type: 'response',
      flags: packet.AUTHORITATIVE_ANSWER | (ips ? 0 : 3), // rcode 3 = NXDOMAIN
      questions: query.questions,
      answers,
    });
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve());
  });
  return {
    address,
    port,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
