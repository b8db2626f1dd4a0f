// BrokerCluster → every child object, in apply order, plus the facts status and rollout need.
import { type BrokerCluster, type DefaultedBrokerCluster, defaultBrokerCluster } from '../api/index.js';
import { brokerConfigProblems } from './broker-conf.js';
import { brokerConfigMap } from './configmap.js';
import { contentHash } from './hash.js';
import type { ChildObject, ConfigMap, PodDisruptionBudget, StatefulSet } from './k8s-types.js';
import { ANNOTATION_SPEC_HASH } from './metadata.js';
import { BROKER_CONF_KEY, brokerGroupName, nameServerAddresses } from './names.js';
import { brokerGroupPdb, nameServerPdb } from './pdb.js';
import type { SpecProblem } from './problems.js';
import { brokerHeadlessService, clientService, nameServerHeadlessService } from './services.js';
import { brokerStatefulSet, nameServerStatefulSet } from './statefulsets.js';

export interface BuildOptions {
  /** Image used when spec.image is empty. */
  defaultImage: string;
}

export interface DesiredBrokerGroup {
  index: number;
  /** StatefulSet name = RocketMQ brokerName. */
  name: string;
  replicas: number;
  configMap: ConfigMap;
  statefulSet: StatefulSet;
  pdb: PodDisruptionBudget;
  /** Hash of broker.conf (the pod-template annotation). */
  configHash: string;
  /** Hash of the StatefulSet spec (its metadata annotation). */
  specHash: string;
}

export interface DesiredBrokerCluster {
  cluster: DefaultedBrokerCluster;
  /** Non-empty: the spec is unusable as is; the controller applies nothing and reports these. */
  problems: SpecProblem[];
  /** Objects shared by all groups, in apply order (Services, name servers). */
  shared: ChildObject[];
  nameServer: StatefulSet;
  groups: DesiredBrokerGroup[];
  nameServerAddresses: string[];
}

const MAX_CLUSTER_NAME = 40;
const CLUSTER_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function specProblems(cluster: DefaultedBrokerCluster, options: BuildOptions): SpecProblem[] {
  const problems = brokerConfigProblems(cluster.spec.brokerConfig);
  const name = cluster.metadata.name ?? '';
  if (!CLUSTER_NAME.test(name) || name.length > MAX_CLUSTER_NAME) {
    problems.push({
      field: 'metadata.name',
      message: `must be a DNS label of at most ${MAX_CLUSTER_NAME} characters (it prefixes child names)`,
    });
  }
  if (!cluster.metadata.namespace) problems.push({ field: 'metadata.namespace', message: 'is required' });
  if (!cluster.metadata.uid)
    problems.push({ field: 'metadata.uid', message: 'is required (owner references)' });
  if (!cluster.spec.image && !options.defaultImage) {
    problems.push({ field: 'spec.image', message: 'is empty and the operator has no default image' });
  }
  const { groups, replicasPerGroup } = cluster.spec.brokers;
  if (!Number.isInteger(groups) || groups < 1) {
    problems.push({ field: 'spec.brokers.groups', message: `must be a whole number >= 1, got ${groups}` });
  }
  if (!Number.isInteger(replicasPerGroup) || replicasPerGroup < 1) {
    problems.push({
      field: 'spec.brokers.replicasPerGroup',
      message: `must be a whole number >= 1, got ${replicasPerGroup}`,
    });
  }
  const ns = cluster.spec.nameServers.replicas;
  if (!Number.isInteger(ns) || ns < 1) {
    problems.push({ field: 'spec.nameServers.replicas', message: `must be a whole number >= 1, got ${ns}` });
  }
  return problems;
}

function group(cluster: DefaultedBrokerCluster, index: number, options: BuildOptions): DesiredBrokerGroup {
  const configMap = brokerConfigMap(cluster, index);
  const configHash = contentHash(configMap.data[BROKER_CONF_KEY]);
  const statefulSet = brokerStatefulSet(cluster, index, configHash, options.defaultImage);
  return {
    index,
    name: brokerGroupName(cluster.metadata.name ?? '', index),
    replicas: cluster.spec.brokers.replicasPerGroup,
    configMap,
    statefulSet,
    pdb: brokerGroupPdb(cluster, index),
    configHash,
    specHash: statefulSet.metadata.annotations?.[ANNOTATION_SPEC_HASH] ?? '',
  };
}

/** Pure: the same CR and options always give the same objects. */
export function desiredBrokerCluster(cr: BrokerCluster, options: BuildOptions): DesiredBrokerCluster {
  const cluster = defaultBrokerCluster(cr);
  const problems = specProblems(cluster, options);
  const name = cluster.metadata.name ?? '';
  const nameServer = nameServerStatefulSet(cluster, options.defaultImage);
  const shared: ChildObject[] = [
    nameServerHeadlessService(cluster),
    brokerHeadlessService(cluster),
    clientService(cluster),
    nameServer,
    nameServerPdb(cluster),
  ];
  const groupCount = problems.some((p) => p.field === 'spec.brokers.groups')
    ? 0
    : cluster.spec.brokers.groups;
  return {
    cluster,
    problems,
    shared,
    nameServer,
    groups: Array.from({ length: groupCount }, (_, i) => group(cluster, i, options)),
    nameServerAddresses: nameServerAddresses(
      name,
      cluster.metadata.namespace ?? '',
      cluster.spec.nameServers.replicas,
    ),
  };
}

/** A group's objects in apply order: the ConfigMap first, so new pods never wait for their conf. */
export function groupObjects(group: DesiredBrokerGroup): ChildObject[] {
  return [group.configMap, group.statefulSet, group.pdb];
}

/** Every object, in apply order. */
export function allObjects(desired: DesiredBrokerCluster): ChildObject[] {
  return [...desired.shared, ...desired.groups.flatMap(groupObjects)];
}

/** Hash over every group's broker.conf (status.configHash). */
export function clusterConfigHash(desired: DesiredBrokerCluster): string {
  return contentHash(desired.groups.map((g) => g.configHash));
}
