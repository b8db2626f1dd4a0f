import type { KubeObject } from './objects.js';

/** Where a kind lives in the REST API. */
export interface ResourceType {
  /** API group, `` for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The lower-case plural used in URLs (`statefulsets`). */
  readonly plural: string;
  readonly namespaced: boolean;
}

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export interface PathParts {
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** `/api/v1/namespaces/ns/configmaps/name`, `/apis/apps/v1/statefulsets`, `…/name/status`. */
export function resourcePath(type: ResourceType, parts: PathParts = {}): string {
  const segments = [type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`];
  if (type.namespaced && parts.namespace) segments.push('namespaces', encodeURIComponent(parts.namespace));
  if (!type.namespaced && parts.namespace) {
    throw new Error(`${type.kind} is cluster-scoped; got namespace ${JSON.stringify(parts.namespace)}`);
  }
  segments.push(type.plural);
  if (parts.name !== undefined) {
    if (!parts.name) throw new Error(`empty name for ${type.kind}`);
    segments.push(encodeURIComponent(parts.name));
  } else if (parts.subresource) {
    throw new Error(`subresource ${parts.subresource} needs a name`);
  }
  if (parts.subresource) segments.push(parts.subresource);
  return segments.join('/');
}

/** The path of an existing object, from its own apiVersion/kind/metadata. */
export function objectPath(type: ResourceType, obj: KubeObject, subresource?: string): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`${type.kind} has no metadata.name`);
  const namespace = obj.metadata?.namespace;
  if (type.namespaced && !namespace)
    throw new Error(`${type.kind} ${name} is namespaced but has no metadata.namespace`);
  return resourcePath(type, { namespace: type.namespaced ? namespace : undefined, name, subresource });
}

function core(kind: string, plural: string, namespaced = true): ResourceType {
  return Object.freeze({ group: '', version: 'v1', kind, plural, namespaced });
}

function grouped(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced = true,
): ResourceType {
  return Object.freeze({ group, version, kind, plural, namespaced });
}

/** The built-in kinds the operator touches (so no discovery round trip is needed for them). */
export const BuiltinResources = Object.freeze({
  ConfigMap: core('ConfigMap', 'configmaps'),
  Secret: core('Secret', 'secrets'),
  Service: core('Service', 'services'),
  Pod: core('Pod', 'pods'),
  PersistentVolumeClaim: core('PersistentVolumeClaim', 'persistentvolumeclaims'),
  Event: core('Event', 'events'),
  Namespace: core('Namespace', 'namespaces', false),
  StatefulSet: grouped('apps', 'v1', 'StatefulSet', 'statefulsets'),
  Deployment: grouped('apps', 'v1', 'Deployment', 'deployments'),
  PodDisruptionBudget: grouped('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets'),
  Lease: grouped('coordination.k8s.io', 'v1', 'Lease', 'leases'),
  EventsV1Event: grouped('events.k8s.io', 'v1', 'Event', 'events'),
  EndpointSlice: grouped('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices'),
  CustomResourceDefinition: grouped(
    'apiextensions.k8s.io',
    'v1',
    'CustomResourceDefinition',
    'customresourcedefinitions',
    false,
  ),
});

export function typeKey(apiVersion: string, kind: string): string {
  return `${apiVersion}|${kind}`;
}
