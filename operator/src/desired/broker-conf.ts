// broker.conf of one broker group, rendered from a defaulted BrokerCluster spec.
import {
  type DefaultedBrokerCluster,
  type FlushMode,
  OPERATOR_MANAGED_BROKER_KEYS,
  type ReplicationMode,
} from '../api/index.js';
import {
  BROKER_HA_PORT,
  BROKER_PORT,
  BROKER_STORE_DIR,
  brokerGroupName,
  MASTER_BROKER_ID,
  nameServerAddresses,
} from './names.js';
import type { SpecProblem } from './problems.js';

/** RocketMQ's flushDiskType for a spec flushMode. */
export function flushDiskType(mode: FlushMode): 'SYNC_FLUSH' | 'ASYNC_FLUSH' {
  return mode === 'Sync' ? 'SYNC_FLUSH' : 'ASYNC_FLUSH';
}

/** RocketMQ's brokerRole of a group's master; replicas are switched to SLAVE in their pods. */
export function masterRole(mode: ReplicationMode): 'SYNC_MASTER' | 'ASYNC_MASTER' {
  return mode === 'Sync' ? 'SYNC_MASTER' : 'ASYNC_MASTER';
}

/** Keys the pods' command line sets; a brokerConfig entry for them would be silently ignored. */
const COMMAND_LINE_KEYS = ['httpPort'] as const;

const KEY_PATTERN = /^[a-zA-Z][a-zA-Z0-9.]*$/;

/** Checks spec.brokerConfig for what the CRD refuses too (objects that bypassed it) and a bit more. */
export function brokerConfigProblems(extra: Record<string, string> | undefined): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const managed = new Set<string>([...OPERATOR_MANAGED_BROKER_KEYS, ...COMMAND_LINE_KEYS]);
  for (const [key, value] of Object.entries(extra ?? {})) {
    const field = `spec.brokerConfig.${key}`;
    if (!KEY_PATTERN.test(key)) {
      problems.push({ field, message: 'not a broker.conf property name (letters, digits and dots)' });
    } else if (managed.has(key)) {
      problems.push({ field, message: 'is managed by the operator and cannot be set here' });
    } else if (typeof value !== 'string') {
      problems.push({ field, message: `must be a string, got ${typeof value}` });
    }
  }
  return problems;
}

/** Java properties escaping for a value: backslashes, control characters, a leading blank. */
export function escapePropertyValue(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\f/g, '\\f');
  return escaped.startsWith(' ') ? `\\${escaped}` : escaped;
}

/** The managed keys of one group's broker.conf, in file order. */
export function managedBrokerConf(cluster: DefaultedBrokerCluster, group: number): [string, string][] {
  const name = cluster.metadata.name ?? '';
  const namespace = cluster.metadata.namespace ?? 'default';
  const { spec } = cluster;
  return [
    ['brokerClusterName', name],
    ['brokerName', brokerGroupName(name, group)],
    ['brokerId', String(MASTER_BROKER_ID)],
    ['brokerRole', masterRole(spec.replicationMode)],
    ['flushDiskType', flushDiskType(spec.flushMode)],
    ['namesrvAddr', nameServerAddresses(name, namespace, spec.nameServers.replicas).join(';')],
    ['listenPort', String(BROKER_PORT)],
    ['haListenPort', String(BROKER_HA_PORT)],
    ['storePathRootDir', BROKER_STORE_DIR],
    ['fileReservedTime', String(spec.retention.fileReservedTimeHours)],
    ['deleteWhen', spec.retention.deleteWhen],
  ];
}

/**
 * broker.conf text for `group`: the managed keys, then spec.brokerConfig sorted by key. Entries of
 * spec.brokerConfig that `brokerConfigProblems` reports are left out.
 */
export function renderBrokerConf(cluster: DefaultedBrokerCluster, group: number): string {
  const bad = new Set(
    brokerConfigProblems(cluster.spec.brokerConfig).map((p) => p.field.slice('spec.brokerConfig.'.length)),
  );
  const extra = Object.entries(cluster.spec.brokerConfig ?? {})
    .filter(([key]) => !bad.has(key))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = [
    `# Rendered by bolide-operator from BrokerCluster ${cluster.metadata.namespace ?? ''}/${cluster.metadata.name ?? ''}.`,
    '# Edit the BrokerCluster, not this file: the operator overwrites it.',
    ...managedBrokerConf(cluster, group).map(([k, v]) => `${k}=${escapePropertyValue(v)}`),
  ];
  if (extra.length > 0) {
    lines.push('# spec.brokerConfig');
    for (const [k, v] of extra) lines.push(`${k}=${escapePropertyValue(v)}`);
  }
  return `${lines.join('\n')}\n`;
}
