// Where a cluster's admin calls go: its masters by their stable DNS names (from the BrokerCluster),
// or, for development and tests, a fixed list given to the operator (see parseEndpointOverrides).
import type { BrokerCluster } from '../api/index.js';
import { type BrokerEndpoint, clusterEndpoints } from '../desired/index.js';
import type { ClusterTarget } from './ports.js';

/**
 * Test/dev seam: "the cluster `namespace/name` is these brokers". Lets the operator manage Topics and
 * ConsumerGroups on brokers running outside Kubernetes (a laptop, `startStandalone()` in tests),
 * because the pods of a BrokerCluster only run where a kubelet does. Not for production: whoever
 * configures the operator decides where admin calls go.
 */
export interface EndpointOverride {
  /** RocketMQ brokerClusterName of the brokers (default: the BrokerCluster name). */
  clusterName?: string;
  nameServers: string[];
  masters: BrokerEndpoint[];
}

export type EndpointOverrides = ReadonlyMap<string, EndpointOverride>;

/** The admin target of `namespace/name`: the override if there is one, else the BrokerCluster's pods. */
export function resolveCluster(
  namespace: string,
  name: string,
  cluster: BrokerCluster | undefined,
  overrides: EndpointOverrides,
): ClusterTarget | undefined {
  const override = overrides.get(`${namespace}/${name}`);
  if (override) {
    return {
      clusterName: override.clusterName ?? name,
      nameServers: [...override.nameServers],
      masters: override.masters.map((m) => ({ ...m })),
    };
  }
  if (!cluster) return undefined;
  return { clusterName: name, ...clusterEndpoints(cluster) };
}

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[^:\s/]+):\d{1,5}$/;

function fail(message: string): never {
  throw new Error(`endpoint overrides: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function address(v: unknown, where: string): string {
  if (typeof v !== 'string' || !ADDRESS.test(v))
    fail(`${where} must be "host:port", got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Parses `{"<namespace>/<cluster>": {"nameServers": ["h:p"], "masters": [{"brokerName": "b", "address": "h:p"}],
 * "clusterName": "optional"}}` (the BOLIDE_ENDPOINT_OVERRIDES variable / --endpoint-overrides flag).
 * Throws with the offending path on bad input.
 */
export function parseEndpointOverrides(text: string | undefined): Map<string, EndpointOverride> {
  const out = new Map<string, EndpointOverride>();
  if (!text || text.trim() === '') return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    fail(`not JSON (${(err as Error).message})`);
  }
  if (!isRecord(parsed)) fail('expected a JSON object keyed by "namespace/cluster"');
  for (const [key, raw] of Object.entries(parsed)) {
    if (!/^[^/\s]+\/[^/\s]+$/.test(key)) fail(`key ${JSON.stringify(key)} must be "namespace/cluster"`);
    if (!isRecord(raw)) fail(`${key} must be an object`);
    const { nameServers = [], masters, clusterName } = raw;
    if (!Array.isArray(nameServers)) fail(`${key}.nameServers must be an array`);
    if (!Array.isArray(masters) || masters.length === 0) fail(`${key}.masters must be a non-empty array`);
    if (clusterName !== undefined && typeof clusterName !== 'string')
      fail(`${key}.clusterName must be a string`);
    out.set(key, {
      clusterName: clusterName as string | undefined,
      nameServers: nameServers.map((a, i) => address(a, `${key}.nameServers[${i}]`)),
      masters: masters.map((m, i) => {
        if (!isRecord(m) || typeof m.brokerName !== 'string' || m.brokerName === '') {
          fail(`${key}.masters[${i}] needs a brokerName`);
        }
        return { brokerName: m.brokerName, address: address(m.address, `${key}.masters[${i}].address`) };
      }),
    });
  }
  return out;
}
