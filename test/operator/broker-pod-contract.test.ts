// The contract between the operator's broker pods and the `bolide broker` program, without a kubelet:
// the container command (BROKER_START_SCRIPT, run by a real /bin/sh) with the env a pod would get,
// the rendered broker.conf, and the broker's own config loader must give each pod the right identity.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRoleArgs, resolveBrokerConfig, resolveNamesrvConfig } from '../../broker-image/src/main.js';
import { BROKER_CONF_PATH, desiredBrokerCluster } from '../../operator/src/desired/index.js';

const run = promisify(execFile);

describe('broker pod command and broker.conf', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bolide-pod-'));
    // Stands in for the image's `bolide`: prints what it was started with.
    await writeFile(
      join(dir, 'bolide'),
      `#!/bin/sh\nexec "${process.execPath}" -e 'console.log(JSON.stringify({ argv: process.argv.slice(1), env: process.env }))' -- "$@"\n`,
    );
    await chmod(join(dir, 'bolide'), 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const desired = desiredBrokerCluster(
    {
      apiVersion: 'bolide.dev/v1alpha1',
      kind: 'BrokerCluster',
      metadata: { name: 'orders', namespace: 'shop', uid: 'u1' },
      spec: { brokers: { groups: 2, replicasPerGroup: 2 }, flushMode: 'Sync', replicationMode: 'Sync' },
    },
    { defaultImage: 'img' },
  );

  async function startPod(group: number, ordinal: number) {
    const g = desired.groups[group];
    const container = g.statefulSet.spec.template.spec.containers[0];
    const pod = `${g.name}-${ordinal}`;
    // What the kubelet would resolve for the env entries.
    const env: Record<string, string> = { PATH: `${dir}:${process.env.PATH}` };
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.fieldRef.fieldPath === 'metadata.name') env[e.name] = pod;
      else if (e.valueFrom?.fieldRef.fieldPath === 'status.podIP')
        env[e.name] = `10.1.${group}.${ordinal + 10}`;
    }
    const [shell, ...args] = container.command ?? [];
    const { stdout } = await run(shell, args, { env });
    const started = JSON.parse(stdout) as { argv: string[]; env: Record<string, string> };
    // The broker reads the mounted ConfigMap; here the same text from a temp file.
    const confFile = join(dir, `${g.name}.conf`);
    await writeFile(confFile, g.configMap.data['broker.conf']);
    const [role, ...roleArgs] = started.argv;
    const options = parseRoleArgs(roleArgs.map((a) => (a === BROKER_CONF_PATH ? confFile : a)));
    return { role, options, config: resolveBrokerConfig(options, started.env).config };
  }

  it('the master (ordinal 0) runs as SYNC_MASTER with brokerId 0 and its pod IP', async () => {
    const { role, options, config } = await startPod(0, 0);
    expect(role).toBe('broker');
    expect(options.httpPort).toBe('10913');
    expect(config).toMatchObject({
      brokerClusterName: 'orders',
      brokerName: 'orders-broker-0',
      brokerId: 0,
      brokerRole: 'SYNC_MASTER',
      brokerIP1: '10.1.0.10',
      flushDiskType: 'SYNC_FLUSH',
      listenPort: 10911,
      httpPort: 10913,
      storePathRootDir: '/var/lib/bolide/store',
      namesrvAddr: 'orders-namesrv-0.orders-namesrv.shop.svc:9876',
    });
  });

  it('a replica (ordinal 1) of group 1 runs as SLAVE with brokerId 1 under its group’s brokerName', async () => {
    const { config } = await startPod(1, 1);
    expect(config).toMatchObject({
      brokerName: 'orders-broker-1',
      brokerId: 1,
      brokerRole: 'SLAVE',
      brokerIP1: '10.1.1.11',
      flushDiskType: 'SYNC_FLUSH',
    });
  });

  it('the name-server container arguments are ones `bolide namesrv` accepts: ports 9876 and 9877', () => {
    const container = desired.nameServer.spec.template.spec.containers[0];
    expect(container.command).toEqual(['bolide']);
    const [role, ...args] = container.args ?? [];
    expect(role).toBe('namesrv');
    const { config } = resolveNamesrvConfig(parseRoleArgs(args), {}, true);
    expect(config.listenPort).toBe(9876);
    expect(config.httpPort).toBe(9877);
    expect(config.kvConfigPath).toBe('/var/lib/bolide/namesrv/kvConfig.json');
  });
});
