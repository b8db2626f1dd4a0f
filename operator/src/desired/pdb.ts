import type { DefaultedBrokerCluster } from '../api/index.js';
import { childMeta } from './child-meta.js';
import type { PodDisruptionBudget } from './k8s-types.js';
import { selectorLabels } from './metadata.js';
import { brokerGroupName, nameServerName } from './names.js';

/** At most one name server voluntarily down at a time. */
export function nameServerPdb(cluster: DefaultedBrokerCluster): PodDisruptionBudget {
  const name = cluster.metadata.name ?? '';
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(cluster, nameServerName(name), 'name-server'),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(name, 'name-server') } },
  };
}

/** At most one pod of a broker group (master or replica) voluntarily down at a time. */
export function brokerGroupPdb(cluster: DefaultedBrokerCluster, group: number): PodDisruptionBudget {
  const name = cluster.metadata.name ?? '';
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(cluster, brokerGroupName(name, group), 'broker', group),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(name, 'broker', group) } },
  };
}
