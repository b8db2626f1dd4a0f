// The few Kubernetes object shapes the builders produce, as plain JSON (what server-side apply takes).
// Only the fields the operator sets are declared; `kube` sends these objects verbatim.
import type { ObjectMeta, Quantity, ResourceRequirements } from '../api/index.js';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef: { fieldPath: string } };
}

export interface ContainerPort {
  name: string;
  containerPort: number;
  protocol?: 'TCP';
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: ContainerPort[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: ResourceRequirements;
  volumeMounts?: VolumeMount[];
  securityContext?: {
    runAsNonRoot?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop: string[] };
  };
}

export interface Volume {
  name: string;
  configMap?: { name: string };
  emptyDir?: Record<string, never>;
}

export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: Container[];
    volumes?: Volume[];
    terminationGracePeriodSeconds?: number;
    securityContext?: {
      fsGroup?: number;
      runAsUser?: number;
      runAsNonRoot?: boolean;
      seccompProfile?: { type: 'RuntimeDefault' | 'Localhost' | 'Unconfined' };
    };
  };
}

export interface PersistentVolumeClaimTemplate {
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    accessModes: string[];
    resources: { requests: { storage: Quantity } };
    storageClassName?: string;
  };
}

export interface LabelSelector {
  matchLabels: Record<string, string>;
}

export interface StatefulSet {
  apiVersion: 'apps/v1';
  kind: 'StatefulSet';
  metadata: ObjectMeta;
  spec: {
    serviceName: string;
    replicas: number;
    selector: LabelSelector;
    podManagementPolicy: 'OrderedReady' | 'Parallel';
    updateStrategy: { type: 'RollingUpdate'; rollingUpdate?: { partition?: number } };
    template: PodTemplate;
    volumeClaimTemplates?: PersistentVolumeClaimTemplate[];
    persistentVolumeClaimRetentionPolicy?: {
      whenDeleted: 'Retain' | 'Delete';
      whenScaled: 'Retain' | 'Delete';
    };
  };
  status?: StatefulSetStatus;
}

export interface StatefulSetStatus {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
}

export interface ServicePort {
  name: string;
  port: number;
  targetPort: string | number;
  protocol?: 'TCP';
}

export interface Service {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ObjectMeta;
  spec: {
    type?: 'ClusterIP';
    clusterIP?: 'None';
    publishNotReadyAddresses?: boolean;
    selector: Record<string, string>;
    ports: ServicePort[];
  };
}

export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data: Record<string, string>;
}

export interface PodDisruptionBudget {
  apiVersion: 'policy/v1';
  kind: 'PodDisruptionBudget';
  metadata: ObjectMeta;
  spec: { maxUnavailable: number; selector: LabelSelector };
}

/** Every child kind a BrokerCluster owns. */
export type ChildObject = ConfigMap | Service | StatefulSet | PodDisruptionBudget;
