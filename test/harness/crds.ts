// Installs the project's CRDs (crds/*.yaml) into a test control plane and waits until they are served.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  type KubeConfig,
  loadYaml,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';

export const CRD_DIR = fileURLToPath(new URL('../../crds/', import.meta.url));

/**
 * Every CRD in crds/, parsed into client-node's model. The typed API calls serialize from model
 * names (`_default`, `_enum`, `xKubernetesValidations`), so plain YAML passed to them would lose
 * defaults, enums and CEL rules without any error; loadYaml converts the names.
 */
export function loadCrds(dir = CRD_DIR): V1CustomResourceDefinition[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => loadYaml<V1CustomResourceDefinition>(readFileSync(`${dir}/${file}`, 'utf8')));
}

/**
 * Creates (or replaces) the CRDs and resolves when each is Established with its names accepted,
 * i.e. the API server serves the new resources. Returns the stored CRDs.
 */
export async function installCrds(
  kubeConfig: KubeConfig,
  crds = loadCrds(),
  timeoutMs = 30_000,
): Promise<V1CustomResourceDefinition[]> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds) {
    const name = crd.metadata?.name ?? '';
    try {
      await api.createCustomResourceDefinition({ body: crd });
    } catch (error) {
      const { code, body } = error as { code?: number; body?: unknown };
      if (code !== 409) throw new Error(`installing CRD ${name} failed (HTTP ${code}): ${body ?? error}`);
      const existing = await api.readCustomResourceDefinition({ name });
      await api.replaceCustomResourceDefinition({
        name,
        body: { ...crd, metadata: { ...crd.metadata, resourceVersion: existing.metadata?.resourceVersion } },
      });
    }
  }
  const deadline = Date.now() + timeoutMs;
  const stored: V1CustomResourceDefinition[] = [];
  for (const crd of crds) {
    const name = crd.metadata?.name ?? '';
    for (;;) {
      const current = await api.readCustomResourceDefinition({ name });
      const conditions = current.status?.conditions ?? [];
      const isTrue = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
      if (isTrue('Established') && isTrue('NamesAccepted')) {
        stored.push(current);
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`CRD ${name} not established after ${timeoutMs} ms: ${JSON.stringify(conditions)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return stored;
}
