import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, VersionApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_USER, type ControlPlane, KUBERNETES_VERSION, startControlPlane } from './control-plane.js';

const viewerToken = 'viewer-token-0123456789';

describe('control plane harness', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await startControlPlane({
      tokenUsers: [{ token: viewerToken, user: 'viewer', groups: ['viewers'] }],
    });
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it('serves the pinned Kubernetes version over TLS signed by the harness CA', async () => {
    const version = await cp.kubeConfig.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe(`v${KUBERNETES_VERSION}`);
    expect(cp.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('stores a namespace and a ConfigMap in etcd and reads them back', async () => {
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'harness-check' } } });
    await core.createNamespacedConfigMap({
      namespace: 'harness-check',
      body: { metadata: { name: 'greeting' }, data: { hello: 'world' } },
    });
    const read = await core.readNamespacedConfigMap({ namespace: 'harness-check', name: 'greeting' });
    expect(read.data).toEqual({ hello: 'world' });
    expect(read.metadata?.resourceVersion).toMatch(/^\d+$/);
    const names = (await core.listNamespace()).items.map((ns) => ns.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'kube-system', 'harness-check']));
  });

  it('writes a kubeconfig file that another client can load', async () => {
    const fromFile = new KubeConfig();
    fromFile.loadFromFile(cp.kubeconfigPath);
    expect(fromFile.getCurrentUser()?.name).toBe(ADMIN_USER);
    const core = fromFile.makeApiClient(CoreV1Api);
    const read = await core.readNamespacedConfigMap({ namespace: 'harness-check', name: 'greeting' });
    expect(read.data?.hello).toBe('world');
  });

  it('enforces RBAC: a token user without bindings is forbidden, then allowed once bound', async () => {
    const viewer = cp.kubeConfigForToken(viewerToken).makeApiClient(CoreV1Api);
    await expect(viewer.listNamespacedConfigMap({ namespace: 'harness-check' })).rejects.toMatchObject({
      code: 403,
    });

    const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    // A Role of our own: the built-in `view` is aggregated by kube-controller-manager, which is not running.
    await rbac.createNamespacedRole({
      namespace: 'harness-check',
      body: {
        metadata: { name: 'configmap-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: 'harness-check',
      body: {
        metadata: { name: 'viewers-read-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'viewers' }],
      },
    });
    // RBAC reads its cache asynchronously; the binding takes effect within moments.
    let listed: string[] = [];
    for (let i = 0; i < 50 && listed.length === 0; i++) {
      try {
        const list = await viewer.listNamespacedConfigMap({ namespace: 'harness-check' });
        listed = list.items.map((cm) => cm.metadata?.name ?? '');
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(listed).toContain('greeting');
  });

  it('stop() kills both servers and removes the temp dir', async () => {
    const second = await startControlPlane();
    const dir = second.dir;
    const core = second.kubeConfig.makeApiClient(CoreV1Api);
    await core.readNamespace({ name: 'default' });
    const pids = [second.pids.etcd, second.pids.apiServer];
    for (const pid of pids) expect(isAlive(pid)).toBe(true);
    await second.stop();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await expect(core.readNamespace({ name: 'default' })).rejects.toThrow();
    await second.stop(); // idempotent
  });
});

describe('control plane harness when the test process is killed', () => {
  it('a SIGKILLed owner leaves no servers or temp dir behind', async () => {
    const harness = new URL('./control-plane.ts', import.meta.url).href;
    const script = [
      `const { startControlPlane } = await import(${JSON.stringify(harness)});`,
      'const cp = await startControlPlane();',
      'console.log(JSON.stringify({ dir: cp.dir, pids: cp.pids }));',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const started = await new Promise<{ dir: string; pids: { etcd: number; apiServer: number } }>(
      (resolve, reject) => {
        owner.stdout.once('data', (line: Buffer) => resolve(JSON.parse(line.toString())));
        owner.once('exit', (code) => reject(new Error(`owner exited early with ${code}`)));
      },
    );
    expect(isAlive(started.pids.apiServer)).toBe(true);
    owner.kill('SIGKILL');

    let clean = false;
    for (let i = 0; i < 100 && !clean; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      clean = !isAlive(started.pids.etcd) && !isAlive(started.pids.apiServer) && !existsSync(started.dir);
    }
    expect(clean).toBe(true);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
