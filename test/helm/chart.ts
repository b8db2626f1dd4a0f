// Renders and lints helm/bolide with the real helm binary, for the chart tests.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as yaml from 'js-yaml';
import { isolatedHelmEnv, type LayerTools, type RunResult, run } from './layer-tools.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART = join(REPO, 'helm', 'bolide');

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are inspected field by field
  [field: string]: any;
}

export interface ChartValues {
  [key: string]: unknown;
}

/** Runs helm with a private config/cache, a values file for `values`, and any extra args. */
export class Helm {
  private readonly scratch = mkdtempSync(join(tmpdir(), 'bolide-helm-'));
  private files = 0;

  constructor(
    readonly tools: LayerTools,
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  valuesFile(values: ChartValues): string {
    const path = join(this.scratch, `values-${++this.files}.yaml`);
    writeFileSync(path, yaml.dump(values));
    return path;
  }

  run(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    return run(this.tools.helm, args, { ...isolatedHelmEnv(this.scratch), ...this.env, ...extraEnv });
  }

  lint(values: ChartValues = {}): Promise<RunResult> {
    return this.run(['lint', '--strict', CHART, '-f', this.valuesFile(values)]);
  }

  /** `helm template`; throws with helm's message when rendering fails. */
  async template(
    values: ChartValues = {},
    release = 'bolide',
    namespace = 'bolide-system',
  ): Promise<KubeObject[]> {
    const result = await this.run([
      'template',
      release,
      CHART,
      '-n',
      namespace,
      '-f',
      this.valuesFile(values),
    ]);
    if (result.code !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
    return parseManifests(result.stdout);
  }

  get scratchDir(): string {
    return this.scratch;
  }
}

export function parseManifests(text: string): KubeObject[] {
  return yaml.loadAll(text).filter((doc): doc is KubeObject => doc !== null && typeof doc === 'object');
}

export function find(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, rendered ${found.length}`);
  }
  return found[0];
}

export function all(objects: KubeObject[], kind: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function chartMeta(): { version: string; appVersion: string; name: string } {
  return yaml.load(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as {
    version: string;
    appVersion: string;
    name: string;
  };
}

export function chartDefaults(): ChartValues {
  return yaml.load(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as ChartValues;
}

/** Every chart feature switched on, with non-default names and settings. */
export const ALL_FEATURES: ChartValues = {
  fullnameOverride: 'mq-operator',
  replicaCount: 2,
  watchNamespace: 'apps',
  logLevel: 'silent',
  leaderElection: { enabled: true, leaseName: 'mq-leader' },
  image: { repository: 'registry.example/bolide/operator', tag: '1.2.3', pullPolicy: 'Always' },
  brokerImage: { repository: 'registry.example/bolide/broker', tag: '1.2.3' },
  imagePullSecrets: [{ name: 'regcred' }],
  serviceAccount: { create: true, name: 'mq-operator-sa', annotations: { team: 'messaging' } },
  http: { port: 9090 },
  podAnnotations: { 'example.com/note': 'yes' },
  podLabels: { team: 'messaging' },
  priorityClassName: 'system-cluster-critical',
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'mq', effect: 'NoSchedule' }],
  extraEnv: [{ name: 'EXTRA', value: '1' }],
  metrics: {
    serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
    podMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
  },
  alerts: {
    prometheusRule: {
      enabled: true,
      labels: { release: 'kube-prometheus-stack' },
      additionalAlertLabels: { team: 'messaging' },
      consumerGroupLag: { threshold: 2500, for: '3m' },
    },
    webhook: { bearerTokenSecret: { name: 'bolide-alerts', key: 'token' } },
    alertmanagerConfig: { enabled: true },
  },
  grafana: { dashboard: { enabled: true, namespace: 'monitoring' } },
  sampleCluster: { enabled: true, name: 'sample' },
};
