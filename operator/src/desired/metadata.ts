// Labels, annotations and owner references shared by every child object.
import { API_VERSION, type OwnerReference } from '../api/index.js';

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_BROKER_GROUP = 'bolide.dev/broker-group';

export const APP_NAME = 'bolide';
export const MANAGER = 'bolide-operator';

/** Hash of broker.conf on the pod template: a conf change changes the template, which rolls the pods. */
export const ANNOTATION_CONFIG_HASH = 'bolide.dev/config-hash';
/** Hash of the whole desired StatefulSet spec: lets the controller tell "up to date" from "not yet applied". */
export const ANNOTATION_SPEC_HASH = 'bolide.dev/spec-hash';

export type Component = 'name-server' | 'broker' | 'client';

/** Labels that select pods; they go into immutable selectors, so they never change for a child. */
export function selectorLabels(
  cluster: string,
  component: Component,
  group?: number,
): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL_NAME]: APP_NAME,
    [LABEL_INSTANCE]: cluster,
    [LABEL_COMPONENT]: component,
  };
  if (group !== undefined) labels[LABEL_BROKER_GROUP] = String(group);
  return labels;
}

/** The full standard label set of a child. */
export function standardLabels(
  cluster: string,
  component: Component,
  group?: number,
): Record<string, string> {
  return {
    ...selectorLabels(cluster, component, group),
    [LABEL_PART_OF]: APP_NAME,
    [LABEL_MANAGED_BY]: MANAGER,
  };
}

/** What a builder needs of the owning custom resource. */
export interface Owner {
  kind: string;
  metadata: { name?: string; namespace?: string; uid?: string };
}

/** The controller owner reference: garbage collection deletes the child with its owner. */
export function ownerReference(owner: Owner): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}
