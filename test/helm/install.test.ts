// helm/bolide and examples/ against a real kube-apiserver (test/harness): `helm install` and
// `helm upgrade` with the real helm binary, the rendered RBAC checked by the API server's own
// authorizer, Pod Security "restricted" enforced on the namespaces, the examples applied with
// kubectl and stored with the defaults operator/src/api computes, and the operator entrypoint run
// with the chart's environment under its ServiceAccount's token.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrokerCluster,
  type ConsumerGroup,
  defaultBrokerCluster,
  defaultConsumerGroup,
  defaultTopic,
  type Topic,
} from '../../operator/src/api/index.js';
import { clientServiceName, NAMESRV_PORT, nameServerName } from '../../operator/src/desired/index.js';
import { OPERATOR_RBAC_RULES } from '../../operator/src/kube/index.js';
import { effective, parseDockerfile } from '../docker/dockerfile.js';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.js';
import { ALL_FEATURES, CHART, chartMeta, Helm, type KubeObject, parseManifests, REPO } from './chart.js';
import { type LayerTools, layerTools, type RunResult, run } from './layer-tools.js';

const RELEASE_NS = 'bolide-system';
const APPS = 'apps';
const OTHER = 'other';
const SA_USER = `system:serviceaccount:${RELEASE_NS}:bolide`;

function examples(): KubeObject[] {
  const dir = join(REPO, 'examples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseManifests(readFileSync(join(dir, f), 'utf8')));
}

function byKind<T>(objects: KubeObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1) throw new Error(`examples: expected one ${kind}, found ${found.length}`);
  return found[0] as T;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('examples/ (read as text)', () => {
  const objects = examples();
  const cluster = byKind<BrokerCluster>(objects, 'BrokerCluster');
  const topic = byKind<Topic>(objects, 'Topic');
  const group = byKind<ConsumerGroup>(objects, 'ConsumerGroup');
  const deployment = byKind<KubeObject>(objects, 'Deployment');

  it('fit together: topic and group on the cluster, the group scales the consumer Deployment', () => {
    const clusterName = cluster.metadata.name ?? '';
    expect(topic.spec.clusterRef.name).toBe(clusterName);
    expect(group.spec.clusterRef.name).toBe(clusterName);
    const topicName = defaultTopic(topic).spec.topicName;
    const autoscaled = defaultConsumerGroup(group);
    expect(autoscaled.spec.subscriptions.map((s) => s.topic)).toEqual([topicName]);
    const target = autoscaled.spec.autoscaling!.target;
    expect(target).toEqual({
      apiVersion: deployment.apiVersion,
      kind: deployment.kind,
      name: deployment.metadata.name,
    });
    // More consumers than queues would sit idle.
    expect(autoscaled.spec.autoscaling!.maxReplicas).toBeLessThanOrEqual(defaultTopic(topic).spec.queues);
    // The operator owns the replica count; the manifest must not fight it on re-apply.
    expect(deployment.spec.replicas).toBeUndefined();
  });

  it('run consumers that use the same group, topic and client Service the operator creates', () => {
    const [container] = deployment.spec.template.spec.containers;
    const args: string[] = container.args;
    expect(args[0]).toBe('consume');
    expect(args[args.indexOf('--topic') + 1]).toBe(defaultTopic(topic).spec.topicName);
    expect(args[args.indexOf('--group') + 1]).toBe(defaultConsumerGroup(group).spec.groupName);
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    expect(env.NAMESRV_ADDR).toBe(`${clientServiceName(cluster.metadata.name ?? '')}:${NAMESRV_PORT}`);
    // The broker image of this release (its entrypoint is `bolide`, so args start with the subcommand).
    expect(container.image).toBe(`bolide/broker:${chartMeta().appVersion}`);
    const dockerfile = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
    expect(effective(dockerfile, 'broker', 'ENTRYPOINT')?.exec?.at(-1)).toBe('bolide');
    expect(container.command).toBeUndefined();
  });
});

describe('helm install on a real API server', () => {
  let cp: ControlPlane;
  let tools: LayerTools;
  let helm: Helm;
  let scratch: string;
  const operators: ChildProcess[] = [];

  const kubectl = (args: string[]): Promise<RunResult> =>
    run(tools.kubectl, args, { KUBECONFIG: cp.kubeconfigPath });
  const kubectlOk = async (args: string[]): Promise<string> => {
    const result = await kubectl(args);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed:\n${result.stderr}`);
    return result.stdout;
  };
  const getJson = async (args: string[]) => JSON.parse(await kubectlOk(['get', ...args, '-o', 'json']));
  const manifestFile = (objects: KubeObject[], name: string) => {
    const path = join(scratch, name);
    writeFileSync(path, objects.map((o) => yaml.dump(o)).join('---\n'));
    return path;
  };

  /** A namespace with its "default" ServiceAccount (the harness runs no controller that makes it). */
  async function createNamespace(ns: string): Promise<void> {
    await kubectlOk(['create', 'namespace', ns]);
    await kubectlOk(['create', 'serviceaccount', 'default', '-n', ns]);
  }

  /** Asks the API server's authorizer what the operator's ServiceAccount may do. */
  async function allowed(verb: string, group: string, resource: string, namespace: string): Promise<boolean> {
    const [plural, subresource] = resource.split('/');
    const response = await cp.request('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: SA_USER,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${RELEASE_NS}`, 'system:authenticated'],
          resourceAttributes: { verb, group, resource: plural, subresource, namespace },
        },
      }),
    });
    if (response.status !== 201)
      throw new Error(`SubjectAccessReview: HTTP ${response.status} ${response.body}`);
    return JSON.parse(response.body).status.allowed === true;
  }

  /** A kubeconfig holding a fresh token of the operator's ServiceAccount. */
  async function serviceAccountKubeconfig(): Promise<string> {
    const response = await cp.request(`/api/v1/namespaces/${RELEASE_NS}/serviceaccounts/bolide/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      }),
    });
    if (response.status !== 201) throw new Error(`TokenRequest: HTTP ${response.status} ${response.body}`);
    const path = join(scratch, `sa-${Date.now()}.kubeconfig`);
    writeFileSync(path, cp.kubeConfigForToken(JSON.parse(response.body).status.token).exportConfig());
    return path;
  }

  interface OperatorRun {
    child: ChildProcess;
    port: number;
    output: () => string;
    exit: Promise<number | null>;
  }

  /**
   * Runs the operator image's entrypoint (the Dockerfile's `node /app/dist/operator/src/main.js`,
   * here its TypeScript source) with the environment of the chart's Deployment, as its ServiceAccount.
   */
  async function runOperator(deployment: KubeObject): Promise<OperatorRun> {
    const dockerfile = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
    const entry = effective(dockerfile, 'operator', 'ENTRYPOINT')?.exec ?? [];
    const script = entry.at(-1) ?? '';
    const source = script.replace(/^\/app\/dist\//, '').replace(/\.js$/, '.ts');
    expect(entry.slice(-2, -1)).toEqual(['node']);
    const pod = deployment.spec.template.spec;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: scratch,
      KUBECONFIG: await serviceAccountKubeconfig(),
    };
    for (const e of pod.containers[0].env as Array<{
      name: string;
      value?: string;
      valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
    }>) {
      const secret = e.valueFrom?.secretKeyRef;
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = 'bolide-5d8f7c9b4-x2k7p';
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = RELEASE_NS;
      else if (secret) {
        // What the kubelet would inject: the Secret's value, read from the API server.
        const stored = await getJson(['secret', secret.name, '-n', RELEASE_NS]);
        env[e.name] = Buffer.from(stored.data[secret.key], 'base64').toString('utf8');
      } else throw new Error(`runOperator: cannot provide env ${e.name}`);
    }
    const port = Number(env.BOLIDE_METRICS_PORT);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO, source), ...(pod.containers[0].args ?? [])],
      {
        cwd: REPO,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    operators.push(child);
    let output = '';
    child.stdout?.on('data', (c) => {
      output += c;
    });
    child.stderr?.on('data', (c) => {
      output += c;
    });
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, port, output: () => output, exit };
  }

  async function until<T>(
    what: string,
    probe: () => Promise<T | undefined>,
    timeoutMs = 60_000,
    log?: () => string,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms\n${log?.() ?? ''}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async function stopOperator(operator: OperatorRun): Promise<number | null> {
    operator.child.kill('SIGTERM');
    return operator.exit;
  }

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'bolide-helm-install-'));
    tools = await layerTools();
    cp = await startControlPlane();
    helm = new Helm(tools, { KUBECONFIG: cp.kubeconfigPath });
    // Pod Security "restricted" enforced where the operator and the example consumers run.
    for (const ns of [RELEASE_NS, APPS, OTHER]) {
      await createNamespace(ns);
      if (ns !== OTHER) {
        await kubectlOk([
          'label',
          'namespace',
          ns,
          'pod-security.kubernetes.io/enforce=restricted',
          'pod-security.kubernetes.io/warn=restricted',
        ]);
      }
    }
  });

  afterAll(async () => {
    for (const child of operators)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await cp?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('installs with default values: CRDs established, operator objects created, NOTES printed, no Pod Security warnings', async () => {
    const port = await freePort();
    const result = await helm.run([
      'install',
      'bolide',
      CHART,
      '-n',
      RELEASE_NS,
      '-f',
      helm.valuesFile({ http: { port } }),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/PodSecurity|Warning/);
    expect(result.stdout).toContain('STATUS: deployed');
    expect(result.stdout).toContain('Watching: all namespaces.');
    expect(result.stdout).toContain(
      `Alertmanager webhook URL: http://bolide-metrics.${RELEASE_NS}.svc:${port}/alerts`,
    );

    for (const file of readdirSync(join(CHART, 'crds'))) {
      const crd = yaml.load(readFileSync(join(CHART, 'crds', file), 'utf8')) as KubeObject;
      const stored = await getJson(['crd', crd.metadata.name]);
      const established = stored.status.conditions.find((c: { type: string }) => c.type === 'Established');
      expect(established?.status, crd.metadata.name).toBe('True');
    }
    const names = await kubectlOk([
      'get',
      'deployment,serviceaccount,service,role,rolebinding',
      '-n',
      RELEASE_NS,
      '-o',
      'name',
    ]);
    expect(names.split('\n').filter(Boolean).sort()).toEqual(
      [
        'deployment.apps/bolide',
        'role.rbac.authorization.k8s.io/bolide-leader-election',
        'rolebinding.rbac.authorization.k8s.io/bolide-leader-election',
        'service/bolide-metrics',
        'serviceaccount/bolide',
        'serviceaccount/default',
      ].sort(),
    );
    expect(await kubectlOk(['get', 'clusterrole/bolide', 'clusterrolebinding/bolide', '-o', 'name'])).toBe(
      'clusterrole.rbac.authorization.k8s.io/bolide\nclusterrolebinding.rbac.authorization.k8s.io/bolide\n',
    );
  });

  it("grants the operator's ServiceAccount every permission of its RBAC table, leases only in its namespace, nothing else", async () => {
    const denied: string[] = [];
    for (const rule of OPERATOR_RBAC_RULES) {
      for (const group of rule.apiGroups)
        for (const resource of rule.resources)
          for (const verb of rule.verbs) {
            const namespaces = group === 'coordination.k8s.io' ? [RELEASE_NS] : [APPS, OTHER, ''];
            for (const ns of namespaces) {
              if (!(await allowed(verb, group, resource, ns)))
                denied.push(`${verb} ${group}/${resource} in "${ns}"`);
            }
          }
    }
    expect(denied).toEqual([]);
    expect(await allowed('get', 'coordination.k8s.io', 'leases', APPS)).toBe(false);
    expect(await allowed('get', '', 'secrets', APPS)).toBe(false);
    expect(await allowed('delete', 'apps', 'deployments', APPS)).toBe(false);
    expect(await allowed('delete', 'bolide.dev', 'topics', APPS)).toBe(false);
    expect(await allowed('create', 'apiextensions.k8s.io', 'customresourcedefinitions', '')).toBe(false);
  });

  it('accepts the helm test pod in a namespace that enforces Pod Security "restricted"', async () => {
    const rendered = await helm.template({}, 'bolide', RELEASE_NS);
    const hook = rendered.filter((o) => o.kind === 'Pod');
    expect(hook).toHaveLength(1);
    const result = await kubectl(['apply', '--dry-run=server', '-f', manifestFile(hook, 'hook.yaml')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('applies the examples as they are: stored with the defaults operator/src/api computes, no warnings', async () => {
    const dir = join(REPO, 'examples');
    const result = await kubectl([
      'apply',
      '--server-side',
      '--field-manager=kubectl',
      '-n',
      APPS,
      '-f',
      dir,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const objects = examples();
    const cluster = byKind<BrokerCluster>(objects, 'BrokerCluster');
    const topic = byKind<Topic>(objects, 'Topic');
    const group = byKind<ConsumerGroup>(objects, 'ConsumerGroup');
    const storedCluster = await getJson(['brokercluster', cluster.metadata.name ?? '', '-n', APPS]);
    expect(storedCluster.spec).toEqual(defaultBrokerCluster(cluster).spec);
    const storedTopic = await getJson(['topic', topic.metadata.name ?? '', '-n', APPS]);
    expect(defaultTopic(storedTopic).spec).toEqual(defaultTopic(topic).spec);
    const storedGroup = await getJson(['consumergroup', group.metadata.name ?? '', '-n', APPS]);
    expect(defaultConsumerGroup(storedGroup).spec).toEqual(defaultConsumerGroup(group).spec);
    const consumer = await getJson(['deployment', 'order-processor', '-n', APPS]);
    expect(consumer.spec.template.spec.containers[0].args).toEqual(
      byKind<KubeObject>(objects, 'Deployment').spec.template.spec.containers[0].args,
    );
    // Strict field validation: a typo in an example would have been refused, not dropped.
    const typo = structuredClone(topic) as unknown as KubeObject;
    typo.spec.queuez = 4;
    const refused = await kubectl([
      'apply',
      '--dry-run=server',
      '-n',
      APPS,
      '-f',
      manifestFile([typo], 'typo.yaml'),
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/unknown field "spec.queuez"/);
  });

  it("runs the operator entrypoint with the chart's environment and ServiceAccount: ready, leading, reconciling, alerts", async () => {
    await kubectlOk([
      'create',
      'secret',
      'generic',
      'bolide-alerts',
      '-n',
      RELEASE_NS,
      '--from-literal=token=s3cret',
    ]);
    const values = {
      http: { port: await freePort() },
      alerts: { webhook: { bearerTokenSecret: { name: 'bolide-alerts', key: 'token' } } },
    };
    const [deployment] = (await helm.template(values, 'bolide', RELEASE_NS)).filter(
      (o) => o.kind === 'Deployment',
    );
    const operator = await runOperator(deployment);
    const base = `http://127.0.0.1:${operator.port}`;
    await until(
      'operator /readyz',
      async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined),
      90_000,
      operator.output,
    );
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    // Leader election with the chart's Lease name, in the release namespace (POD_NAMESPACE).
    const lease = await until(
      'leader Lease',
      async () => {
        const l = await getJson(['lease', 'bolide-leader', '-n', RELEASE_NS]);
        return l.spec.holderIdentity ? l : undefined;
      },
      60_000,
      operator.output,
    );
    expect(lease.spec.holderIdentity).toMatch(/^bolide-5d8f7c9b4-x2k7p_/);
    // The example cluster gets its children: applied with the ClusterRole's permissions.
    const cluster = byKind<BrokerCluster>(examples(), 'BrokerCluster');
    const nameServers = nameServerName(cluster.metadata.name ?? '');
    await until(
      `StatefulSet ${nameServers}`,
      async () => (await kubectl(['get', 'statefulset', nameServers, '-n', APPS])).code === 0 || undefined,
      60_000,
      operator.output,
    );
    // The Alertmanager webhook, as the chart's AlertmanagerConfig sends it: bearer token from the Secret.
    const group = byKind<ConsumerGroup>(examples(), 'ConsumerGroup');
    const webhook = (token?: string) =>
      fetch(`${base}/alerts`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({
          version: '4',
          status: 'firing',
          alerts: [
            {
              status: 'firing',
              labels: {
                alertname: 'BolideConsumerGroupLagHigh',
                namespace: APPS,
                consumergroup: group.metadata.name,
              },
            },
          ],
        }),
      });
    expect((await webhook()).status).toBe(401);
    expect((await webhook('wrong')).status).toBe(401);
    expect((await webhook('s3cret')).status).toBe(202);
    expect(await stopOperator(operator)).toBe(0);
    expect(operator.output()).not.toMatch(/forbidden/i);
  });

  it('upgrades to one watched namespace: RoleBinding there only, operator still ready, sample cluster stored', async () => {
    const port = await freePort();
    const values = { http: { port }, watchNamespace: APPS, sampleCluster: { enabled: true, name: 'sample' } };
    const result = await helm.run([
      'upgrade',
      'bolide',
      CHART,
      '-n',
      RELEASE_NS,
      '-f',
      helm.valuesFile(values),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Watching: namespace ${APPS}.`);
    expect((await kubectl(['get', 'clusterrolebinding', 'bolide'])).code).not.toBe(0);
    await kubectlOk(['get', 'rolebinding', 'bolide', '-n', APPS]);
    expect(await allowed('list', 'bolide.dev', 'brokerclusters', APPS)).toBe(true);
    expect(await allowed('list', 'bolide.dev', 'brokerclusters', OTHER)).toBe(false);
    expect(await allowed('list', 'bolide.dev', 'brokerclusters', '')).toBe(false);
    const sample = await getJson(['brokercluster', 'sample', '-n', RELEASE_NS]);
    expect(sample.spec.brokers.storage.size).toBe('1Gi');

    // Listing cluster-wide would now be forbidden: readiness shows the operator stays in its namespace.
    const [deployment] = (await helm.template(values, 'bolide', RELEASE_NS)).filter(
      (o) => o.kind === 'Deployment',
    );
    const operator = await runOperator(deployment);
    await until(
      'namespaced operator /readyz',
      async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined),
      90_000,
      operator.output,
    );
    expect(await stopOperator(operator)).toBe(0);
  });

  it('server-side validates every non-default rendering the API server knows the kinds of', async () => {
    for (const ns of ['messaging', 'monitoring']) await createNamespace(ns);
    const rendered = await helm.template(ALL_FEATURES, 'mq', 'messaging');
    // The Prometheus operator's kinds are checked against its schemas in chart.test.ts.
    const known = rendered.filter((o) => !o.apiVersion.startsWith('monitoring.coreos.com/'));
    expect(known.length).toBeGreaterThan(8);
    const result = await kubectl([
      'apply',
      '--dry-run=server',
      '--server-side',
      '--field-manager=helm',
      '-f',
      manifestFile(known, 'full.yaml'),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('uninstalls cleanly and keeps the CRDs and the users’ resources (Helm never deletes crds/)', async () => {
    const result = await helm.run(['uninstall', 'bolide', '-n', RELEASE_NS]);
    expect(result.code, result.stderr).toBe(0);
    expect((await kubectl(['get', 'deployment', 'bolide', '-n', RELEASE_NS])).code).not.toBe(0);
    expect((await kubectl(['get', 'clusterrole', 'bolide'])).code).not.toBe(0);
    await kubectlOk(['get', 'crd', 'brokerclusters.bolide.dev']);
    await kubectlOk(['get', 'brokercluster', 'demo', '-n', APPS]);
  });
});
