// BrokerCluster (crds/brokercluster.yaml): name servers plus broker groups.
import type { API_VERSION, Condition, ObjectMeta, ResourceRequirements } from './common.js';

export const BROKER_CLUSTER_KIND = 'BrokerCluster';
export const BROKER_CLUSTER_PLURAL = 'brokerclusters';

export const FLUSH_MODES = ['Sync', 'Async'] as const;
export type FlushMode = (typeof FLUSH_MODES)[number];

export const REPLICATION_MODES = ['Sync', 'Async'] as const;
export type ReplicationMode = (typeof REPLICATION_MODES)[number];

export const BROKER_ROLES = ['Master', 'Replica'] as const;
export type BrokerRole = (typeof BROKER_ROLES)[number];

/** broker.conf keys the operator renders itself; the CRD refuses them in spec.brokerConfig. */
export const OPERATOR_MANAGED_BROKER_KEYS = [
  'brokerClusterName',
  'brokerName',
  'brokerId',
  'brokerRole',
  'flushDiskType',
  'namesrvAddr',
  'listenPort',
  'haListenPort',
  'brokerIP1',
  'brokerIP2',
  'storePathRootDir',
  'storePathCommitLog',
  'fileReservedTime',
  'deleteWhen',
] as const;

export interface BrokerClusterSpec {
  /** Broker image; absent means the operator's default. */
  image?: string;
  nameServers?: {
    replicas?: number;
    resources?: ResourceRequirements;
  };
  brokers?: {
    groups?: number;
    /** Pods per group, the master included. */
    replicasPerGroup?: number;
    storage?: {
      /** Kubernetes quantity, e.g. 10Gi; may grow, never shrink. */
      size?: string;
      storageClassName?: string;
    };
    resources?: ResourceRequirements;
  };
  flushMode?: FlushMode;
  replicationMode?: ReplicationMode;
  /** Extra broker.conf keys, written verbatim. */
  brokerConfig?: Record<string, string>;
  retention?: {
    fileReservedTimeHours?: number;
    /** "04" or "04;16": hours of day when expired files are deleted. */
    deleteWhen?: string;
  };
}

export interface BrokerStatus {
  pod: string;
  brokerName: string;
  brokerId: number;
  role?: BrokerRole;
  /** host:port clients use. */
  address?: string;
  ready: boolean;
}

export interface BrokerClusterStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  nameServerAddresses?: string[];
  /** "ready/total", e.g. "3/4". */
  brokersReady?: string;
  brokers?: BrokerStatus[];
  /** Flush mode every broker pod runs with; differs from spec.flushMode during a roll. */
  flushMode?: FlushMode;
  configHash?: string;
}

export interface BrokerCluster {
  apiVersion: typeof API_VERSION;
  kind: typeof BROKER_CLUSTER_KIND;
  metadata: ObjectMeta;
  spec: BrokerClusterSpec;
  status?: BrokerClusterStatus;
}

/** The spec after defaulting: what the schema defaults make present is required here. */
export interface DefaultedBrokerClusterSpec {
  image?: string;
  nameServers: { replicas: number; resources?: ResourceRequirements };
  brokers: {
    groups: number;
    replicasPerGroup: number;
    storage: { size: string; storageClassName?: string };
    resources?: ResourceRequirements;
  };
  flushMode: FlushMode;
  replicationMode: ReplicationMode;
  brokerConfig?: Record<string, string>;
  retention: { fileReservedTimeHours: number; deleteWhen: string };
}

export type DefaultedBrokerCluster = Omit<BrokerCluster, 'spec'> & { spec: DefaultedBrokerClusterSpec };

export const BROKER_CLUSTER_DEFAULTS = {
  nameServerReplicas: 1,
  groups: 1,
  replicasPerGroup: 1,
  storageSize: '10Gi',
  flushMode: 'Async',
  replicationMode: 'Async',
  fileReservedTimeHours: 72,
  deleteWhen: '04',
} as const satisfies Record<string, string | number>;

/** The API server applies the same defaults; this fills them in for objects that bypassed it. */
export function defaultBrokerClusterSpec(spec: BrokerClusterSpec): DefaultedBrokerClusterSpec {
  const d = BROKER_CLUSTER_DEFAULTS;
  const { nameServers = {}, brokers = {}, retention = {} } = spec;
  const { storage = {} } = brokers;
  return {
    ...spec,
    nameServers: { ...nameServers, replicas: nameServers.replicas ?? d.nameServerReplicas },
    brokers: {
      ...brokers,
      groups: brokers.groups ?? d.groups,
      replicasPerGroup: brokers.replicasPerGroup ?? d.replicasPerGroup,
      storage: { ...storage, size: storage.size ?? d.storageSize },
    },
    flushMode: spec.flushMode ?? d.flushMode,
    replicationMode: spec.replicationMode ?? d.replicationMode,
    retention: {
      fileReservedTimeHours: retention.fileReservedTimeHours ?? d.fileReservedTimeHours,
      deleteWhen: retention.deleteWhen ?? d.deleteWhen,
    },
  };
}

export function defaultBrokerCluster(cluster: BrokerCluster): DefaultedBrokerCluster {
  return { ...cluster, spec: defaultBrokerClusterSpec(cluster.spec) };
}
