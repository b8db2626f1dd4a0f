// The name-server StatefulSet and one StatefulSet per broker group.
import type { DefaultedBrokerCluster } from '../api/index.js';
import { childMeta } from './child-meta.js';
import { contentHash } from './hash.js';
import type { Container, PodTemplate, StatefulSet } from './k8s-types.js';
import { ANNOTATION_CONFIG_HASH, ANNOTATION_SPEC_HASH, selectorLabels, standardLabels } from './metadata.js';
import {
  BROKER_CONF_DIR,
  BROKER_CONF_PATH,
  BROKER_DATA_DIR,
  BROKER_HA_PORT,
  BROKER_HTTP_PORT,
  BROKER_PORT,
  brokerConfigMapName,
  brokerGroupName,
  brokerHeadlessServiceName,
  DATA_VOLUME,
  NAMESRV_HTTP_PORT,
  NAMESRV_PORT,
  nameServerName,
} from './names.js';

/** The `bolide` program inside the image (package.json `bin`). */
export const BOLIDE_COMMAND = 'bolide';
/** UID/GID of the image's non-root user. */
export const RUN_AS_USER = 1000;

const SECURE_CONTAINER: Container['securityContext'] = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
};

// Meets Pod Security "restricted", which the chart's namespace may enforce.
const POD_SECURITY = {
  runAsUser: RUN_AS_USER,
  runAsNonRoot: true,
  fsGroup: RUN_AS_USER,
  seccompProfile: { type: 'RuntimeDefault' as const },
};

const tcpPort = (name: string, containerPort: number) => ({ name, containerPort, protocol: 'TCP' as const });

const healthProbe = { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5, failureThreshold: 3 };

export function imageOf(cluster: DefaultedBrokerCluster, defaultImage: string): string {
  return cluster.spec.image || defaultImage;
}

/** Name servers are independent of each other, so they start in parallel. */
export function nameServerStatefulSet(cluster: DefaultedBrokerCluster, defaultImage: string): StatefulSet {
  const name = cluster.metadata.name ?? '';
  const sts = nameServerName(name);
  const container: Container = {
    name: 'namesrv',
    image: imageOf(cluster, defaultImage),
    command: [BOLIDE_COMMAND],
    args: [
      'namesrv',
      '--namesrv-port',
      String(NAMESRV_PORT),
      '--http-port',
      String(NAMESRV_HTTP_PORT),
      '--data-dir',
      BROKER_DATA_DIR,
    ],
    ports: [tcpPort('remoting', NAMESRV_PORT), tcpPort('http', NAMESRV_HTTP_PORT)],
    readinessProbe: healthProbe,
    livenessProbe: { tcpSocket: { port: 'remoting' }, periodSeconds: 10, failureThreshold: 6 },
    volumeMounts: [{ name: 'kv', mountPath: BROKER_DATA_DIR }],
    securityContext: SECURE_CONTAINER,
  };
  if (cluster.spec.nameServers.resources) container.resources = cluster.spec.nameServers.resources;
  const spec: StatefulSet['spec'] = {
    serviceName: sts,
    replicas: cluster.spec.nameServers.replicas,
    selector: { matchLabels: selectorLabels(name, 'name-server') },
    podManagementPolicy: 'Parallel',
    updateStrategy: { type: 'RollingUpdate' },
    template: {
      metadata: { labels: standardLabels(name, 'name-server') },
      spec: {
        containers: [container],
        // The KV config of the name server is cache-like (RocketMQ's is rarely used); no volume claim.
        volumes: [{ name: 'kv', emptyDir: {} }],
        terminationGracePeriodSeconds: 30,
        securityContext: POD_SECURITY,
      },
    },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMeta(cluster, sts, 'name-server', undefined, {
      [ANNOTATION_SPEC_HASH]: contentHash(spec),
    }),
    spec,
  };
}

/**
 * Every pod of a group reads the group's broker.conf; what differs per pod comes from the pod itself:
 * brokerIP1 from its IP, brokerId from its ordinal (0 = master), and brokerRole SLAVE for ordinals > 0.
 * The ordinal is the pod name's suffix, so no feature-gated pod-index label is needed.
 */
export const BROKER_START_SCRIPT = [
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
  'ordinal="${POD_NAME##*-}"',
  'export BOLIDE_brokerId="$ordinal"',
  'if [ "$ordinal" != "0" ]; then export BOLIDE_brokerRole=SLAVE; fi',
  `exec ${BOLIDE_COMMAND} broker -c ${BROKER_CONF_PATH} --http-port ${BROKER_HTTP_PORT}`,
].join('\n');

export function brokerPodTemplate(
  cluster: DefaultedBrokerCluster,
  group: number,
  configHash: string,
  defaultImage: string,
): PodTemplate {
  const name = cluster.metadata.name ?? '';
  const container: Container = {
    name: 'broker',
    image: imageOf(cluster, defaultImage),
    command: ['/bin/sh', '-c', BROKER_START_SCRIPT],
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'BOLIDE_brokerIP1', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'BOLIDE_brokerName', value: brokerGroupName(name, group) },
    ],
    ports: [
      tcpPort('remoting', BROKER_PORT),
      tcpPort('ha', BROKER_HA_PORT),
      tcpPort('http', BROKER_HTTP_PORT),
    ],
    readinessProbe: healthProbe,
    volumeMounts: [
      { name: 'config', mountPath: BROKER_CONF_DIR, readOnly: true },
      { name: DATA_VOLUME, mountPath: BROKER_DATA_DIR },
    ],
    securityContext: SECURE_CONTAINER,
  };
  if (cluster.spec.brokers.resources) container.resources = cluster.spec.brokers.resources;
  return {
    metadata: {
      labels: standardLabels(name, 'broker', group),
      annotations: { [ANNOTATION_CONFIG_HASH]: configHash },
    },
    spec: {
      containers: [container],
      volumes: [{ name: 'config', configMap: { name: brokerConfigMapName(name, group) } }],
      // A broker flushes and unregisters on SIGTERM; give it time.
      terminationGracePeriodSeconds: 60,
      securityContext: POD_SECURITY,
    },
  };
}

/**
 * Broker group `group`: master (ordinal 0) and replicas. OrderedReady starts the master first and,
 * with RollingUpdate, replaces one pod at a time, each only after the previous one is Ready.
 * `configHash` is the hash of the group's broker.conf: a conf change changes the pod template.
 */
export function brokerStatefulSet(
  cluster: DefaultedBrokerCluster,
  group: number,
  configHash: string,
  defaultImage: string,
): StatefulSet {
  const name = cluster.metadata.name ?? '';
  const { storage } = cluster.spec.brokers;
  const claimSpec: NonNullable<StatefulSet['spec']['volumeClaimTemplates']>[number]['spec'] = {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: storage.size } },
  };
  if (storage.storageClassName) claimSpec.storageClassName = storage.storageClassName;
  const spec: StatefulSet['spec'] = {
    serviceName: brokerHeadlessServiceName(name),
    replicas: cluster.spec.brokers.replicasPerGroup,
    selector: { matchLabels: selectorLabels(name, 'broker', group) },
    podManagementPolicy: 'OrderedReady',
    updateStrategy: { type: 'RollingUpdate' },
    template: brokerPodTemplate(cluster, group, configHash, defaultImage),
    volumeClaimTemplates: [
      {
        metadata: { name: DATA_VOLUME, labels: standardLabels(name, 'broker', group) },
        spec: claimSpec,
      },
    ],
    // Message data outlives the StatefulSet; deleting it is the user's decision.
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMeta(cluster, brokerGroupName(name, group), 'broker', group, {
      [ANNOTATION_SPEC_HASH]: contentHash(spec),
    }),
    spec,
  };
}
