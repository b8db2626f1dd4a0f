// `npm run dev:cluster`: the local cluster (pods as local processes, no containers) with the
// examples applied, left running for a person to explore with kubectl until Ctrl-C. Needs root.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import * as yaml from 'js-yaml';
import { layerTools } from '../helm/layer-tools.js';
import { startLocalCluster } from './local-cluster.js';
import { REPO_ROOT } from './node-agent/images.js';

const EXAMPLES = ['brokercluster.yaml', 'topic.yaml', 'consumergroup.yaml', 'consumer-deployment.yaml'];

async function main(): Promise<void> {
  const verbose = process.argv.includes('--verbose');
  const home = join(process.env.BOLIDE_CACHE ?? join(homedir(), '.cache', 'bolide'), 'dev-cluster');
  await mkdir(home, { recursive: true });
  console.log('starting etcd, kube-apiserver, kube-controller-manager, the node agent and the operator…');
  const lc = await startLocalCluster({ log: verbose ? (m) => console.log(`[agent] ${m}`) : undefined });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the local cluster…');
    await lc.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const core = lc.cp.kubeConfig.makeApiClient(CoreV1Api);
  for (let i = 0; i < 120; i++) {
    const sa = await core.listNamespacedServiceAccount({ namespace: 'default' });
    if (sa.items.length > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const api = KubernetesObjectApi.makeApiClient(lc.cp.kubeConfig);
  for (const file of EXAMPLES) {
    const obj = yaml.load(await readFile(join(REPO_ROOT, 'examples', file), 'utf8')) as KubernetesObject;
    obj.metadata = { ...obj.metadata, namespace: 'default' };
    await api.create(obj);
    console.log(`applied examples/${file}`);
  }

  const kubeconfig = join(home, 'kubeconfig');
  await writeFile(kubeconfig, await readFile(lc.cp.kubeconfigPath), { mode: 0o600 });
  const { kubectl } = await layerTools();
  // `bolide` CLI with the cluster DNS, so the examples' names (demo-client:9876, …) resolve.
  const cli = join(home, 'bolide');
  const argv = lc.agent.withClusterDns(['bolide']).map((a) => `'${a.replace(/'/g, `'\\''`)}'`);
  await writeFile(
    cli,
    `#!/bin/sh\nPATH='${lc.agent.shimDir}':"$PATH" NAMESRV_ADDR="\${NAMESRV_ADDR:-demo-client.default.svc:9876}" exec ${argv.join(' ')} "$@"\n`,
  );
  await chmod(cli, 0o755);
  console.log(`
Local cluster running (node ${lc.agent.nodeName}, pod network ${lc.agent.podCidr}, DNS ${lc.agent.nodeIp}:53).

  export KUBECONFIG=${kubeconfig}
  alias kubectl=${kubectl}
  kubectl get brokercluster,topic,consumergroup,statefulsets,pods -o wide
  ${cli} produce --topic orders --count 1000     # the bolide CLI with the cluster DNS
  kubectl get deployment order-processor -w      # the autoscaler reacts to the backlog

Pod logs: ${join(lc.agent.dir, 'pods')}/<namespace>_<pod>_<uid>/<container>.log
Operator log: ${lc.operatorLog}
Ctrl-C stops everything and removes it.`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
