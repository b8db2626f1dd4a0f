import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from './control-plane.js';
import { type ControllerManager, startControllerManager } from './controller-manager.js';

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('kube-controller-manager harness', () => {
  let cp: ControlPlane;
  let kcm: ControllerManager;

  beforeAll(async () => {
    cp = await startControlPlane();
    kcm = await startControllerManager(cp);
  }, 180_000);

  afterAll(async () => {
    await kcm?.stop();
    await cp?.stop();
  });

  it('turns a Deployment into a ReplicaSet and Pods, and garbage-collects them with it', async () => {
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
    // Pods need the namespace's default ServiceAccount, which the serviceaccount controller makes.
    await eventually('default ServiceAccount', async () => {
      const list = await core.listNamespacedServiceAccount({ namespace: 'default' });
      return list.items.some((sa) => sa.metadata?.name === 'default') ? true : undefined;
    });
    const labels = { app: 'kcm-check' };
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'kcm-check' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'example/none:1' }] } },
        },
      },
    });
    const replicaSet = await eventually('ReplicaSet', async () => {
      const list = await apps.listNamespacedReplicaSet({
        namespace: 'default',
        labelSelector: 'app=kcm-check',
      });
      return list.items[0];
    });
    expect(replicaSet.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: 'kcm-check',
    });
    const pods = await eventually('2 pods', async () => {
      const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=kcm-check' });
      return list.items.length === 2 ? list.items : undefined;
    });
    for (const pod of pods) {
      expect(pod.metadata?.ownerReferences?.[0]?.name).toBe(replicaSet.metadata?.name);
      expect(pod.spec?.nodeName).toBeUndefined();
    }

    await apps.deleteNamespacedDeployment({
      namespace: 'default',
      name: 'kcm-check',
      propagationPolicy: 'Background',
    });
    await eventually('pods garbage-collected', async () => {
      const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=kcm-check' });
      return list.items.length === 0 ? true : undefined;
    });
  }, 120_000);
});
