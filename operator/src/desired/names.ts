// Every child name, DNS name and port in one place, so builders, status and controllers agree.
// Children are named `<cr-name>-<suffix>`; the CRD caps cr names at 40 characters to leave room.

/** Name server: remoting port and the HTTP port serving /healthz and /metrics. */
export const NAMESRV_PORT = 9876;
export const NAMESRV_HTTP_PORT = 9877;
/** Broker: remoting (listenPort), HA (haListenPort) and HTTP (/healthz, /metrics) ports. */
export const BROKER_PORT = 10911;
export const BROKER_HA_PORT = 10912;
export const BROKER_HTTP_PORT = 10913;

/** Where broker.conf is mounted in broker pods, and where the data volume lives. */
export const BROKER_CONF_DIR = '/etc/bolide';
export const BROKER_CONF_KEY = 'broker.conf';
export const BROKER_CONF_PATH = `${BROKER_CONF_DIR}/${BROKER_CONF_KEY}`;
export const BROKER_DATA_DIR = '/var/lib/bolide';
export const BROKER_STORE_DIR = `${BROKER_DATA_DIR}/store`;
export const DATA_VOLUME = 'data';

/** The one naming rule for children. */
export function childName(crName: string, suffix: string): string {
  return `${crName}-${suffix}`;
}

/** Name-server StatefulSet, its headless Service and its PodDisruptionBudget. */
export function nameServerName(cluster: string): string {
  return childName(cluster, 'namesrv');
}

/** Headless Service governing every broker pod of the cluster (stable per-pod DNS names). */
export function brokerHeadlessServiceName(cluster: string): string {
  return childName(cluster, 'broker');
}

/** ClusterIP Service clients use as their namesrvAddr (`<cluster>-client.<ns>.svc:9876`). */
export function clientServiceName(cluster: string): string {
  return childName(cluster, 'client');
}

/**
 * Broker group `group`: its StatefulSet, PodDisruptionBudget and its RocketMQ brokerName (the same
 * string, so `mqadmin clusterList` and `kubectl get sts` line up).
 */
export function brokerGroupName(cluster: string, group: number): string {
  return childName(cluster, `broker-${group}`);
}

export function brokerConfigMapName(cluster: string, group: number): string {
  return childName(cluster, `broker-${group}-config`);
}

export function podName(statefulSet: string, ordinal: number): string {
  return `${statefulSet}-${ordinal}`;
}

/** `<cluster>-namesrv-<i>.<cluster>-namesrv.<ns>.svc:9876` for each name-server pod. */
export function nameServerAddresses(cluster: string, namespace: string, replicas: number): string[] {
  const svc = nameServerName(cluster);
  return Array.from(
    { length: replicas },
    (_, i) => `${podName(svc, i)}.${svc}.${namespace}.svc:${NAMESRV_PORT}`,
  );
}

/** Stable address of one broker pod: `<cluster>-broker-<g>-<i>.<cluster>-broker.<ns>.svc:10911`. */
export function brokerPodAddress(cluster: string, namespace: string, group: number, ordinal: number): string {
  const pod = podName(brokerGroupName(cluster, group), ordinal);
  return `${pod}.${brokerHeadlessServiceName(cluster)}.${namespace}.svc:${BROKER_PORT}`;
}

/** RocketMQ brokerId of a pod: its StatefulSet ordinal (0 is the master). */
export const MASTER_BROKER_ID = 0;
