// test/e2e/kind/run.sh needs Docker and kind, which CI lacks, so it cannot run here. This keeps it
// honest by reading: valid bash, the names it waits on are the ones examples/ and the chart create,
// the image targets exist, and without the tools it stops at once with a clear message.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { clientServiceName, NAMESRV_PORT } from '../../../operator/src/desired/index.js';
import { parseDockerfile } from '../../docker/dockerfile.js';
import { chartDefaults, chartMeta, parseManifests } from '../../helm/chart.js';

const execFileAsync = promisify(execFile);
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SCRIPT = join(REPO, 'test', 'e2e', 'kind', 'run.sh');
const text = readFileSync(SCRIPT, 'utf8');

/** The value of a plain `NAME=value` assignment in the script. */
function assigned(name: string): string {
  const match = new RegExp(`^${name}="?([^"\\n]*)"?$`, 'm').exec(text);
  if (!match) throw new Error(`run.sh does not assign ${name}`);
  return match[1];
}

function example(kind: string) {
  const dir = join(REPO, 'examples');
  const objects = [
    'brokercluster.yaml',
    'topic.yaml',
    'consumergroup.yaml',
    'consumer-deployment.yaml',
  ].flatMap((f) => parseManifests(readFileSync(join(dir, f), 'utf8')));
  const found = objects.find((o) => o.kind === kind);
  if (!found) throw new Error(`examples/ has no ${kind}`);
  return found;
}

describe('test/e2e/kind/run.sh (read, not run)', () => {
  it('is valid bash with strict mode', async () => {
    await execFileAsync('bash', ['-n', SCRIPT]);
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toContain('set -euo pipefail');
  });

  it('waits on the objects examples/ and the chart really create', () => {
    const cluster = example('BrokerCluster').metadata.name;
    expect(assigned('CLUSTER_CR')).toBe(cluster);
    expect(assigned('NAMESRV')).toBe(`${clientServiceName(cluster)}:${NAMESRV_PORT}`);
    expect(assigned('TOPIC')).toBe(example('Topic').metadata.name);
    const group = example('ConsumerGroup');
    expect(assigned('GROUP')).toBe(group.metadata.name);
    expect(group.spec.autoscaling.target.name).toBe(assigned('GROUP'));
    expect(group.spec.autoscaling.minReplicas).toBe(0);
    // A backlog large enough to ask for at least two consumers.
    expect(Number(assigned('BACKLOG')) / group.spec.autoscaling.lagPerReplica).toBeGreaterThanOrEqual(2);
    expect(text).toContain('consumer=$BROKER_IMAGE');
    expect(example('Deployment').spec.template.spec.containers[0].name).toBe('consumer');
    // The metrics Service of release "bolide" and its default port.
    expect(assigned('RELEASE')).toBe('bolide');
    expect(text).toContain('svc/$RELEASE-metrics" 18080:8080');
    expect((chartDefaults().http as { port: number }).port).toBe(8080);
    expect(chartMeta().appVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('builds exactly the Dockerfile targets the chart and examples use', () => {
    const stages = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).stages.map((s) => s.name);
    const targets = [...text.matchAll(/docker build --target (\w+) -t "\$(\w+)"/g)].map((m) => [m[1], m[2]]);
    expect(targets).toEqual([
      ['operator', 'OPERATOR_IMAGE'],
      ['broker', 'BROKER_IMAGE'],
    ]);
    for (const [target] of targets) expect(stages).toContain(target);
    expect(assigned('OPERATOR_IMAGE')).toBe('bolide/operator:$TAG');
    expect(assigned('BROKER_IMAGE')).toBe('bolide/broker:$TAG');
    const values = chartDefaults() as { image: { repository: string }; brokerImage: { repository: string } };
    expect(values.image.repository).toBe('bolide/operator');
    expect(values.brokerImage.repository).toBe('bolide/broker');
    expect(example('Deployment').spec.template.spec.containers[0].image).toBe(
      `bolide/broker:${chartMeta().appVersion}`,
    );
  });

  it('stops at once with a clear message where Docker or kind is missing', async () => {
    const result = await execFileAsync('bash', [SCRIPT], {
      env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/FAILED: (docker|kind) is required on PATH|FAILED: no Docker engine/);
  });
});
