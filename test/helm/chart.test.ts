// helm/bolide with the real helm binary: `helm lint --strict`, the values schema, `helm template`
// with default and non-default values, every rendered object validated against the Kubernetes (and
// prometheus-operator) schemas, RBAC equal to the operator's table, crds/ equal to the top-level
// crds/, and PromQL in the alert rules and the dashboard that parses and names metrics that exist.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PodMonitor,
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { AlertmanagerConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1';
import { parser as promql } from '@prometheus-io/lezer-promql';
import { Deployment } from 'kubernetes-models/apps/v1';
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Pod, Service, ServiceAccount } from 'kubernetes-models/v1';
import { beforeAll, describe, expect, it } from 'vitest';
import { standardLabels } from '../../operator/src/desired/index.js';
import { diffRules, OPERATOR_RBAC_RULES, type PolicyRule } from '../../operator/src/kube/index.js';
import { ALL_FEATURES, all, CHART, chartMeta, find, Helm, type KubeObject, REPO } from './chart.js';
import { layerTools } from './layer-tools.js';

// biome-ignore lint/suspicious/noExplicitAny: model classes take plain manifests
type ModelClass = new (data: any) => { validate(): void };
const MODELS: Record<string, ModelClass> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Pod': Pod,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'monitoring.coreos.com/v1alpha1/AlertmanagerConfig': AlertmanagerConfig,
};

/** Validates against kubernetes-models' schemas; our own kinds are left to the API server test. */
function validateSchema(object: KubeObject): void {
  if (object.apiVersion.startsWith('bolide.dev/')) return;
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`no schema registered for ${object.apiVersion} ${object.kind}`);
  try {
    new Model(object).validate();
  } catch (error) {
    throw new Error(`${object.kind} ${object.metadata.name}: ${(error as Error).message}`);
  }
}

/** Parses PromQL; returns the metric names it selects. Throws on syntax errors. */
function promqlMetrics(expr: string): string[] {
  const tree = promql.parse(expr);
  const names: string[] = [];
  const errors: number[] = [];
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id) names.push(expr.slice(id.from, id.to));
      }
    },
  });
  if (errors.length > 0) throw new Error(`PromQL syntax error at offset ${errors[0]} in: ${expr}`);
  return names;
}

/** Metric names the project's code registers (prom-client `name: '…'`), read from the sources. */
function registeredMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/name: '(bolide_[a-z0-9_]+)'/g)) names.add(m[1]);
      }
    }
  };
  walk(join(REPO, 'operator', 'src'));
  walk(join(REPO, 'broker-image', 'src'));
  return names;
}

/** Series names a registered metric exposes (histograms add _bucket, _sum, _count). */
function exposes(registered: Set<string>, series: string): boolean {
  return registered.has(series) || registered.has(series.replace(/_(bucket|sum|count)$/, ''));
}

function containersOf(podSpec: KubeObject['spec']): Array<Record<string, never> & KubeObject['spec']> {
  return [...(podSpec.initContainers ?? []), ...podSpec.containers];
}

/** The restricted Pod Security Standard, as far as these pods can violate it. */
function expectRestricted(podSpec: KubeObject['spec'], what: string): void {
  const pod = podSpec.securityContext ?? {};
  expect(podSpec.hostNetwork ?? false, what).toBe(false);
  expect(podSpec.hostPID ?? false, what).toBe(false);
  for (const volume of podSpec.volumes ?? []) {
    expect(
      Object.keys(volume).filter((k) => k !== 'name'),
      `${what} volume`,
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^(emptyDir|configMap|secret|projected|persistentVolumeClaim|downwardAPI)$/),
      ]),
    );
  }
  for (const container of containersOf(podSpec)) {
    const sc = container.securityContext ?? {};
    const where = `${what} container ${container.name}`;
    expect(sc.runAsNonRoot ?? pod.runAsNonRoot, where).toBe(true);
    expect(sc.runAsUser ?? pod.runAsUser, where).not.toBe(0);
    expect(sc.allowPrivilegeEscalation, where).toBe(false);
    expect(sc.privileged ?? false, where).toBe(false);
    expect(sc.capabilities?.drop, where).toContain('ALL');
    expect(sc.capabilities?.add ?? [], where).toEqual([]);
    expect(sc.readOnlyRootFilesystem, where).toBe(true);
    expect((sc.seccompProfile ?? pod.seccompProfile)?.type, where).toBe('RuntimeDefault');
  }
}

describe('helm/bolide chart', () => {
  let helm: Helm;
  let defaults: KubeObject[];
  let full: KubeObject[];
  const meta = chartMeta();

  beforeAll(async () => {
    helm = new Helm(await layerTools());
    defaults = await helm.template();
    full = await helm.template(ALL_FEATURES, 'mq', 'messaging');
  });

  it('passes helm lint --strict with default and with every feature switched on', async () => {
    for (const values of [{}, ALL_FEATURES]) {
      const result = await helm.lint(values);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it('refuses values the schema does not allow, naming the key', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ logLevel: 'loud' }, /logLevel/],
      [{ imag: { tag: 'x' } }, /imag/],
      [{ watchNamespace: 'Not_A_Namespace' }, /watchNamespace/],
      [{ http: { port: 80 } }, /http\.port/],
      [{ alerts: { prometheusRule: { consumerGroupLag: { for: '5 minutes' } } } }, /consumerGroupLag\.for/],
      [{ alerts: { prometheusRule: { brokerDisk: { threshold: 85 } } } }, /brokerDisk\.threshold/],
      [{ sampleCluster: { name: 'Demo Cluster' } }, /sampleCluster\.name/],
    ];
    for (const [values, message] of cases) {
      const result = await helm.run(['template', 'x', CHART, '-f', helm.valuesFile(values)]);
      expect(result.code, JSON.stringify(values)).not.toBe(0);
      expect(result.stderr).toMatch(message);
    }
  });

  it('ships crds/ byte-identical to the top-level crds/ (copy them with cp crds/*.yaml helm/bolide/crds/)', () => {
    const top = readdirSync(join(REPO, 'crds')).sort();
    const chart = readdirSync(join(CHART, 'crds')).sort();
    expect(chart).toEqual(top);
    for (const file of top) {
      const a = readFileSync(join(REPO, 'crds', file));
      const b = readFileSync(join(CHART, 'crds', file));
      expect(b.equals(a), `helm/bolide/crds/${file} differs from crds/${file}`).toBe(true);
    }
  });

  it('renders the operator, its ServiceAccount, RBAC and metrics Service by default — nothing optional', () => {
    const kinds = defaults.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual(
      [
        'ClusterRole/bolide',
        'ClusterRoleBinding/bolide',
        'Deployment/bolide',
        'Pod/bolide-test-healthz',
        'Role/bolide-leader-election',
        'RoleBinding/bolide-leader-election',
        'Service/bolide-metrics',
        'ServiceAccount/bolide',
      ].sort(),
    );
    for (const object of defaults.filter((o) => !o.kind.startsWith('Cluster'))) {
      expect(object.metadata.namespace, `${object.kind} namespace`).toBe('bolide-system');
    }
  });

  it('validates every rendered object against the Kubernetes and prometheus-operator schemas', () => {
    const kinds = new Set<string>();
    for (const object of [...defaults, ...full]) {
      validateSchema(object);
      kinds.add(object.kind);
    }
    for (const kind of [
      'ServiceMonitor',
      'PodMonitor',
      'PrometheusRule',
      'AlertmanagerConfig',
      'ConfigMap',
    ]) {
      expect(kinds).toContain(kind);
    }
  });

  it('runs the operator with probes, resources and the restricted security profile', () => {
    const deployment = find(defaults, 'Deployment');
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(pod.containers).toHaveLength(1);
    expect(container.image).toBe(`bolide/operator:${meta.appVersion}`);
    expect(pod.serviceAccountName).toBe(find(defaults, 'ServiceAccount').metadata.name);
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(container.resources.limits.memory).toBe('256Mi');
    expectRestricted(pod, 'operator');
    // The pod selector must not match the broker and name-server pods the operator creates.
    const selector = deployment.spec.selector.matchLabels;
    expect(deployment.spec.template.metadata.labels).toMatchObject(selector);
    for (const component of ['broker', 'name-server'] as const) {
      const brokerPod = standardLabels('demo', component);
      expect(Object.entries(selector).every(([k, v]) => brokerPod[k] === v)).toBe(false);
    }
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value?: string }) => [e.name, e.value]),
    );
    expect(env.BOLIDE_BROKER_IMAGE).toBe(`bolide/broker:${meta.appVersion}`);
    expect(env.BOLIDE_WATCH_NAMESPACE).toBe('');
    expect(env.BOLIDE_METRICS_PORT).toBe('8080');
    expect(env.BOLIDE_LEADER_ELECT).toBe('true');
    expect(env.BOLIDE_LEASE_NAME).toBe('bolide-leader');
    expect(env.BOLIDE_LOG_LEVEL).toBe('info');
    expect(env.BOLIDE_QUEUE_SHRINK_GRACE_SECONDS).toBe('45');
  });

  it('grants exactly the rules of operator/src/kube/rbac.ts: cluster-wide, except leases in the release namespace', () => {
    const clusterRole = find(defaults, 'ClusterRole');
    const leaseRole = find(defaults, 'Role');
    const granted: PolicyRule[] = [...clusterRole.rules, ...leaseRole.rules];
    expect(diffRules(OPERATOR_RBAC_RULES, granted)).toEqual({ missing: [], extra: [] });
    expect(clusterRole.rules.flatMap((r: PolicyRule) => r.apiGroups)).not.toContain('coordination.k8s.io');
    expect(leaseRole.rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]);
    expect(leaseRole.metadata.namespace).toBe('bolide-system');
    // Both are bound to the operator's ServiceAccount in the release namespace.
    const subject = { kind: 'ServiceAccount', name: 'bolide', namespace: 'bolide-system' };
    const binding = find(defaults, 'ClusterRoleBinding');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'bolide',
    });
    expect(binding.subjects).toEqual([subject]);
    expect(find(defaults, 'RoleBinding').subjects).toEqual([subject]);
  });

  it('with watchNamespace binds the same ClusterRole in that namespace only and tells the operator', () => {
    expect(all(full, 'ClusterRoleBinding')).toEqual([]);
    const watched = all(full, 'RoleBinding').filter((b) => b.roleRef.kind === 'ClusterRole');
    expect(watched.map((b) => b.metadata.namespace)).toEqual(['apps']);
    for (const binding of watched) {
      expect(binding.roleRef.name).toBe('mq-operator');
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'mq-operator-sa', namespace: 'messaging' },
      ]);
    }
    const clusterRole = find(full, 'ClusterRole');
    expect(diffRules(OPERATOR_RBAC_RULES, [...clusterRole.rules, ...find(full, 'Role').rules])).toEqual({
      missing: [],
      extra: [],
    });
    const container = find(full, 'Deployment').spec.template.spec.containers[0];
    const env = new Map(container.env.map((e: { name: string }) => [e.name, e]));
    expect(env.get('BOLIDE_WATCH_NAMESPACE')).toEqual({ name: 'BOLIDE_WATCH_NAMESPACE', value: 'apps' });
    expect(env.get('BOLIDE_LEASE_NAME')).toEqual({ name: 'BOLIDE_LEASE_NAME', value: 'mq-leader' });
    expect(env.get('BOLIDE_METRICS_PORT')).toEqual({ name: 'BOLIDE_METRICS_PORT', value: '9090' });
    expect(env.get('BOLIDE_ALERT_TOKEN')).toEqual({
      name: 'BOLIDE_ALERT_TOKEN',
      valueFrom: { secretKeyRef: { name: 'bolide-alerts', key: 'token' } },
    });
    expect(env.get('EXTRA')).toEqual({ name: 'EXTRA', value: '1' });
    expect(container.image).toBe('registry.example/bolide/operator:1.2.3');
    expect(container.ports[0].containerPort).toBe(9090);
    expect(find(full, 'Deployment').spec.replicas).toBe(2);
  });

  it('scrapes the operator through its metrics Service and the brokers through their pods', () => {
    const service = find(full, 'Service');
    const monitor = find(full, 'ServiceMonitor');
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.namespaceSelector).toEqual({ matchNames: ['messaging'] });
    expect(monitor.spec.endpoints[0].port).toBe(service.spec.ports[0].name);
    expect(monitor.spec.endpoints[0].honorLabels).toBe(true);
    expect(monitor.metadata.labels!.release).toBe('kube-prometheus-stack');
    // The Service routes to the operator pods only.
    const podLabels = find(full, 'Deployment').spec.template.metadata.labels;
    expect(podLabels).toMatchObject(service.spec.selector);
    expect(find(full, 'Pod').metadata.labels).not.toMatchObject(service.spec.selector);

    const podMonitor = find(full, 'PodMonitor');
    const matches = (labels: Record<string, string>) =>
      Object.entries(podMonitor.spec.selector.matchLabels).every(([k, v]) => labels[k] === v) &&
      podMonitor.spec.selector.matchExpressions.every((e: { key: string; values: string[] }) =>
        e.values.includes(labels[e.key]),
      );
    expect(matches(standardLabels('demo', 'broker', 0))).toBe(true);
    expect(matches(standardLabels('demo', 'name-server'))).toBe(true);
    expect(matches(standardLabels('demo', 'client'))).toBe(false);
    expect(matches(podLabels)).toBe(false);
    expect(podMonitor.spec.namespaceSelector).toEqual({ matchNames: ['apps'] });
    expect(podMonitor.spec.podMetricsEndpoints[0].port).toBe('http');
  });

  it('alerts on lag, dead letters and disk, and routes lag alerts with namespace + consumergroup to POST /alerts', () => {
    const rule = find(full, 'PrometheusRule');
    const rules = rule.spec.groups.flatMap((g: { rules: unknown[] }) => g.rules) as Array<{
      alert: string;
      expr: string;
      for: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
    }>;
    expect(rules.map((r) => r.alert).sort()).toEqual(
      ['BolideBrokerDiskHigh', 'BolideConsumerGroupLagHigh', 'BolideDeadLettersGrowing'].sort(),
    );
    const lag = rules.find((r) => r.alert === 'BolideConsumerGroupLagHigh')!;
    expect(lag.expr).toMatch(/^max by \(namespace, consumergroup\) \(.*\) > 2500$/);
    expect(lag.expr).toContain('namespace="apps"');
    expect(lag.for).toBe('3m');
    expect(lag.labels).toMatchObject({ bolide_route: 'operator', team: 'messaging' });
    const dlq = rules.find((r) => r.alert === 'BolideDeadLettersGrowing')!;
    expect(dlq.expr).toMatch(/sum by \(namespace, brokercluster, consumergroup\)/);
    const registered = registeredMetrics();
    for (const r of rules) {
      for (const name of promqlMetrics(r.expr)) {
        // kubelet_* comes from the kubelet; everything else from this repository's code.
        if (name.startsWith('kubelet_')) continue;
        expect(exposes(registered, name), `${r.alert} uses ${name}`).toBe(true);
      }
      expect(r.annotations.summary).toContain('{{ $labels.namespace }}');
    }

    // The AlertmanagerConfig sends exactly those alerts to the operator's Service, with the token.
    const am = find(full, 'AlertmanagerConfig');
    const service = find(full, 'Service');
    expect(am.spec.route.matchers).toEqual([{ name: 'bolide_route', value: 'operator', matchType: '=' }]);
    expect(am.spec.route.groupBy).toEqual(['namespace', 'consumergroup']);
    const [webhook] = am.spec.receivers[0].webhookConfigs;
    expect(webhook.url).toBe(
      `http://${service.metadata.name}.messaging.svc:${service.spec.ports[0].port}/alerts`,
    );
    expect(webhook.httpConfig.authorization.credentials).toEqual({ name: 'bolide-alerts', key: 'token' });
  });

  it('ships a Grafana dashboard whose queries parse and use metrics the code exports', () => {
    const configMap = find(full, 'ConfigMap');
    expect(configMap.metadata.namespace).toBe('monitoring');
    expect(configMap.metadata.labels!.grafana_dashboard).toBe('1');
    const dashboard = JSON.parse(configMap.data['bolide.json']);
    expect(dashboard.uid).toBe('bolide-overview');
    const exprs: string[] = dashboard.panels.flatMap((p: { targets?: Array<{ expr: string }> }) =>
      (p.targets ?? []).map((t) => t.expr),
    );
    expect(exprs.length).toBeGreaterThan(10);
    const registered = registeredMetrics();
    const used = new Set<string>();
    for (const expr of exprs) {
      // Grafana variables become plausible values before parsing.
      const concrete = expr.replace(/\$__(rate_interval|range|interval)\b/g, '1m').replace(/\$\w+/g, 'x');
      for (const name of promqlMetrics(concrete)) used.add(name);
    }
    const ours = [...used].filter((n) => n.startsWith('bolide_'));
    expect(ours.length).toBeGreaterThan(8);
    const missing = ours.filter((n) => !exposes(registered, n));
    expect(missing).toEqual([]);
    // Each panel variable the queries use is defined.
    const variables = new Set(dashboard.templating.list.map((v: { name: string }) => v.name));
    for (const expr of exprs) {
      for (const m of expr.matchAll(/\$(\w+)/g))
        if (!m[1].startsWith('__')) expect(variables).toContain(m[1]);
    }
  });

  it('renders the helm test hook and the optional sample BrokerCluster', () => {
    const hook = find(defaults, 'Pod');
    expect(hook.metadata.annotations!['helm.sh/hook']).toBe('test');
    const [curl] = hook.spec.containers;
    expect(curl.args.at(-1)).toBe('http://bolide-metrics.bolide-system.svc:8080/healthz');
    expect(curl.image).toMatch(/^curlimages\/curl:\d+\.\d+\.\d+$/);
    expectRestricted(hook.spec, 'helm test pod');

    const sample = find(full, 'BrokerCluster');
    expect(sample.metadata).toMatchObject({ name: 'sample', namespace: 'messaging' });
    expect(sample.spec.brokers.storage.size).toBe('1Gi');
  });
});
