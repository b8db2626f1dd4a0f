// Shared setup for the operator's integration tests: a real kube-apiserver with the CRDs installed,
// an admin KubeClient, and the operator itself started in this process against it.

import {
  BuiltinResources,
  HttpsTransport,
  KubeClient,
  type KubeObject,
} from '../../operator/src/kube/index.js';
import {
  BolideResources,
  type OperatorOptions,
  type RunningOperator,
  startOperator,
} from '../../operator/src/main.js';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.js';
import { installCrds } from '../harness/crds.js';

export { BolideResources, BuiltinResources };

export async function eventually<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for: ${what}${lastError ? ` (last error: ${lastError})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface OperatorTestEnv {
  cp: ControlPlane;
  client: KubeClient;
  namespace: string;
  /** The operator started by the setup (absent with `inProcess: false`). */
  operator: RunningOperator;
  startOperator(extra?: Partial<OperatorOptions>): Promise<RunningOperator>;
  stop(): Promise<void>;
}

/** Control plane + CRDs + a namespace + one operator (leader election off unless asked for). */
export async function startOperatorTestEnv(
  namespace: string,
  extra: Partial<OperatorOptions> = {},
  setup: { inProcess?: boolean } = {},
): Promise<OperatorTestEnv> {
  const cp = await startControlPlane();
  const operators: RunningOperator[] = [];
  let client: KubeClient | undefined;
  try {
    await installCrds(cp.kubeConfig);
    client = new KubeClient(new HttpsTransport(cp.kubeConfig), { resources: Object.values(BolideResources) });
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    const start = async (more: Partial<OperatorOptions> = {}) => {
      const op = await startOperator({
        kubeconfig: cp.kubeconfigPath,
        namespace,
        metricsPort: 0,
        metricsHost: '127.0.0.1',
        leaderElection: false,
        leaseName: 'bolide-operator',
        leaseNamespace: namespace,
        identity: `test-${operators.length}`,
        defaultImage: 'bolide/broker:test',
        resyncMs: 300_000,
        adminTimeoutMs: 2000,
        endpointOverrides: new Map(),
        retryMaxDelayMs: 2000,
        ...extra,
        ...more,
      });
      operators.push(op);
      return op;
    };
    const operator = (setup.inProcess ?? true) ? await start() : (undefined as unknown as RunningOperator);
    const c = client;
    return {
      cp,
      client: c,
      namespace,
      operator,
      startOperator: start,
      stop: async () => {
        for (const op of operators) await op.stop();
        c.close();
        await cp.stop();
      },
    };
  } catch (err) {
    for (const op of operators) await op.stop().catch(() => {});
    client?.close();
    await cp.stop();
    throw err;
  }
}

export async function getObject<T extends KubeObject>(
  client: KubeClient,
  type: keyof typeof BuiltinResources | keyof typeof BolideResources,
  name: string,
  namespace: string,
): Promise<T | undefined> {
  const resource =
    type in BolideResources
      ? BolideResources[type as keyof typeof BolideResources]
      : BuiltinResources[type as keyof typeof BuiltinResources];
  return client.get<T>(resource, name, namespace);
}
