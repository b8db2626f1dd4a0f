// The RBAC table in operator/src/kube/rbac.ts is enough for what the kube layer does, and no more:
// a token user bound only to a ClusterRole made from it runs informers, applies, status and scale
// writes, finalizers, events and leader election, and is refused anything else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiError,
  BuiltinResources,
  EventRecorder,
  HttpsTransport,
  Informer,
  KubeClient,
  type KubeObject,
  LeaderElector,
  OPERATOR_RBAC_RULES,
} from '../../operator/src/kube/index.js';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.js';
import { installCrds } from '../harness/crds.js';

const token = 'bolide-operator-token-0123456789';
const ns = 'rbac';

describe('operator RBAC rules on a real API server', () => {
  let cp: ControlPlane;
  let admin: KubeClient;
  let operator: KubeClient;

  beforeAll(async () => {
    cp = await startControlPlane({ tokenUsers: [{ token, user: 'system:serviceaccount:bolide:operator' }] });
    await installCrds(cp.kubeConfig);
    admin = new KubeClient(new HttpsTransport(cp.kubeConfig));
    await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bolide' } });
    await admin.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'bolide-operator' },
      rules: OPERATOR_RBAC_RULES,
    } as KubeObject);
    await admin.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'bolide-operator' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'bolide-operator' },
      subjects: [
        {
          kind: 'User',
          name: 'system:serviceaccount:bolide:operator',
          apiGroup: 'rbac.authorization.k8s.io',
        },
      ],
    } as KubeObject);
    operator = new KubeClient(new HttpsTransport(cp.kubeConfigForToken(token)));
  });

  afterAll(async () => {
    admin?.close();
    operator?.close();
    await cp?.stop();
  });

  it('allows what the kube layer does', async () => {
    const topicType = await admin.resolve('bolide.dev/v1alpha1', 'Topic');
    operator.register(topicType);

    // Informers over all namespaces.
    for (const type of [
      BuiltinResources.ConfigMap,
      BuiltinResources.StatefulSet,
      BuiltinResources.Pod,
      topicType,
    ]) {
      const informer = new Informer(operator, type);
      informer.start();
      await informer.waitForSync();
      await informer.stop();
    }

    // Server-side apply of children.
    await operator.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'broker-conf', namespace: ns },
      data: { 'broker.conf': 'x=1' },
    } as KubeObject);
    await operator.apply({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'pdb', namespace: ns },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'b' } } },
    } as KubeObject);

    // CR: finalizer, status, events.
    const topic = await admin.create<KubeObject>({
      apiVersion: 'bolide.dev/v1alpha1',
      kind: 'Topic',
      metadata: { name: 'orders', namespace: ns },
      spec: { clusterRef: { name: 'c1' } },
    } as KubeObject);
    const { object } = await operator.addFinalizer(topic, 'bolide.dev/finalizer');
    await operator.patchStatus(object, { observedGeneration: 1 });
    const warnings: string[] = [];
    const recorder = new EventRecorder(operator, {
      logger: { info() {}, error() {}, warn: (_m, f) => warnings.push(String(f?.error)) },
    });
    await recorder.record(object, 'Normal', 'Created', 'created');
    await recorder.record(object, 'Normal', 'Created', 'created');
    expect(warnings).toEqual([]);

    // Scale of a consumer Deployment.
    await admin.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'consumer', namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'c' } },
        template: {
          metadata: { labels: { app: 'c' } },
          spec: { containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    } as KubeObject);
    expect((await operator.setScale(BuiltinResources.Deployment, 'consumer', ns, 3)).spec?.replicas).toBe(3);

    // Leader election.
    const elector = new LeaderElector(operator, {
      namespace: 'bolide',
      name: 'bolide-operator',
      identity: 'op-0',
    });
    elector.start();
    await elector.whenLeading();
    expect(elector.isLeader()).toBe(true);
    await elector.stop();
  });

  it('refuses what the operator has no business doing', async () => {
    const forbidden = async (p: Promise<unknown>) => {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(403);
    };
    await forbidden(operator.list(BuiltinResources.Secret, { namespace: ns }));
    await forbidden(operator.delete(await admin.resolve('bolide.dev/v1alpha1', 'Topic'), 'orders', ns));
    await forbidden(
      operator.apply({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'not-allowed' },
      } as KubeObject),
    );
  });
});
