import type { DefaultedBrokerCluster } from '../api/index.js';
import { childMeta } from './child-meta.js';
import type { Service } from './k8s-types.js';
import { selectorLabels } from './metadata.js';
import {
  BROKER_HA_PORT,
  BROKER_HTTP_PORT,
  BROKER_PORT,
  brokerHeadlessServiceName,
  clientServiceName,
  NAMESRV_HTTP_PORT,
  NAMESRV_PORT,
  nameServerName,
} from './names.js';

const tcp = (name: string, port: number) => ({ name, port, targetPort: name, protocol: 'TCP' as const });

/**
 * Headless Service of the name servers: gives each pod the stable DNS name brokers and clients list
 * in namesrvAddr. Not-ready pods are published so brokers can register while a name server starts.
 */
export function nameServerHeadlessService(cluster: DefaultedBrokerCluster): Service {
  const name = cluster.metadata.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cluster, nameServerName(name), 'name-server'),
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(name, 'name-server'),
      ports: [tcp('remoting', NAMESRV_PORT), tcp('http', NAMESRV_HTTP_PORT)],
    },
  };
}

/** Headless Service governing every broker StatefulSet (per-pod DNS for HA links and the operator). */
export function brokerHeadlessService(cluster: DefaultedBrokerCluster): Service {
  const name = cluster.metadata.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cluster, brokerHeadlessServiceName(name), 'broker'),
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(name, 'broker'),
      ports: [tcp('remoting', BROKER_PORT), tcp('ha', BROKER_HA_PORT), tcp('http', BROKER_HTTP_PORT)],
    },
  };
}

/**
 * The Service clients point their namesrvAddr at (`<cluster>-client.<ns>.svc:9876`). Every name server
 * knows every broker, so any ready one answers.
 */
export function clientService(cluster: DefaultedBrokerCluster): Service {
  const name = cluster.metadata.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cluster, clientServiceName(name), 'client'),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(name, 'name-server'),
      ports: [tcp('remoting', NAMESRV_PORT)],
    },
  };
}
