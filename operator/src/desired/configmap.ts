import type { DefaultedBrokerCluster } from '../api/index.js';
import { renderBrokerConf } from './broker-conf.js';
import { childMeta } from './child-meta.js';
import type { ConfigMap } from './k8s-types.js';
import { BROKER_CONF_KEY, brokerConfigMapName } from './names.js';

/** The ConfigMap holding broker group `group`'s broker.conf. */
export function brokerConfigMap(cluster: DefaultedBrokerCluster, group: number): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(cluster, brokerConfigMapName(cluster.metadata.name ?? '', group), 'broker', group),
    data: { [BROKER_CONF_KEY]: renderBrokerConf(cluster, group) },
  };
}
