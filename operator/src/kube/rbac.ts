import { deepFreeze } from './objects.js';

/**
 * Every API permission the operator uses, in one table (there are no kubebuilder markers to generate
 * it from). The Helm chart's ClusterRole must grant exactly these; a test compares them with
 * `diffRules`. When a controller starts watching or writing a new kind, add its row here.
 */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const READ = ['get', 'list', 'watch'];
/** Server-side apply is a PATCH that may create; deletes are for explicit recreation and pod rolls. */
const MANAGE = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

export const OPERATOR_RBAC_RULES: readonly PolicyRule[] = deepFreeze([
  // Our own kinds: read, finalizers (update/patch of the object), status.
  {
    apiGroups: ['bolide.dev'],
    resources: ['brokerclusters', 'topics', 'consumergroups'],
    verbs: ['get', 'list', 'watch', 'update', 'patch'],
  },
  {
    apiGroups: ['bolide.dev'],
    resources: ['brokerclusters/status', 'topics/status', 'consumergroups/status'],
    verbs: ['get', 'update', 'patch'],
  },
  // Owner references with blockOwnerDeletion need update on the owner's finalizers subresource.
  {
    apiGroups: ['bolide.dev'],
    resources: ['brokerclusters/finalizers', 'topics/finalizers', 'consumergroups/finalizers'],
    verbs: ['update'],
  },
  // Children of a BrokerCluster, applied with server-side apply and watched for owner fan-in.
  { apiGroups: [''], resources: ['configmaps', 'services'], verbs: MANAGE },
  { apiGroups: ['apps'], resources: ['statefulsets'], verbs: MANAGE },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: MANAGE },
  // Pods: readiness during rolls, and deleting one pod at a time to roll it.
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] },
  { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: [...READ, 'patch'] },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  // Autoscaling of consumer workloads through /scale.
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'statefulsets/scale', 'deployments/scale'],
    verbs: ['get', 'list', 'watch', 'update', 'patch'],
  },
  // Events for users (core/v1, created and count-patched by EventRecorder).
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  // Leader election.
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
]);

/** Flattens rules into `group|resource|verb` triples, so differently grouped rule lists compare equal. */
export function expandRules(rules: readonly PolicyRule[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules) {
    for (const g of r.apiGroups)
      for (const res of r.resources) for (const v of r.verbs) out.add(`${g}|${res}|${v}`);
  }
  return out;
}

/**
 * What `actual` lacks (`missing`) and grants beyond `expected` (`extra`), as `group|resource|verb`.
 * Wildcards in `actual` are reported as extra rather than expanded: a chart must not grant `*`.
 */
export function diffRules(
  expected: readonly PolicyRule[],
  actual: readonly PolicyRule[],
): { missing: string[]; extra: string[] } {
  const want = expandRules(expected);
  const have = expandRules(actual);
  return {
    missing: [...want].filter((t) => !have.has(t)).sort(),
    extra: [...have].filter((t) => !want.has(t)).sort(),
  };
}

/** Whether `rules` allow `verb` on `group`/`resource` (honouring `*`, as the RBAC authorizer does). */
export function allows(rules: readonly PolicyRule[], group: string, resource: string, verb: string): boolean {
  return rules.some(
    (r) =>
      (r.apiGroups.includes(group) || r.apiGroups.includes('*')) &&
      (r.resources.includes(resource) || r.resources.includes('*')) &&
      (r.verbs.includes(verb) || r.verbs.includes('*')),
  );
}
