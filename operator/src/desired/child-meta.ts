import type { DefaultedBrokerCluster, ObjectMeta } from '../api/index.js';
import { type Component, ownerReference, standardLabels } from './metadata.js';

/** metadata of a child: name, namespace, standard labels and the controller owner reference. */
export function childMeta(
  cluster: DefaultedBrokerCluster,
  name: string,
  component: Component,
  group?: number,
  annotations?: Record<string, string>,
): ObjectMeta {
  const meta: ObjectMeta = {
    name,
    namespace: cluster.metadata.namespace,
    labels: standardLabels(cluster.metadata.name ?? '', component, group),
    ownerReferences: [ownerReference(cluster)],
  };
  if (annotations) meta.annotations = annotations;
  return meta;
}
