// ScaleTarget over the Kubernetes /scale subresource, for any kind that has one (Deployment,
// StatefulSet, custom resources). Typed structurally so this module does not import kube.

import type { ScaleTarget, TargetRef } from './autoscaler.js';

/** The part of kube's KubeClient used here. */
export interface ScaleApi<R> {
  resolve(apiVersion: string, kind: string): Promise<R>;
  getScale(type: R, name: string, namespace?: string): Promise<{ spec?: { replicas?: number } }>;
  setScale(type: R, name: string, namespace: string | undefined, replicas: number): Promise<unknown>;
}

export function kubeScaleTarget<R>(api: ScaleApi<R>): ScaleTarget {
  return {
    async getReplicas(namespace: string, target: TargetRef): Promise<number> {
      const type = await api.resolve(target.apiVersion, target.kind);
      const scale = await api.getScale(type, target.name, namespace);
      return scale.spec?.replicas ?? 0;
    },
    async setReplicas(namespace: string, target: TargetRef, replicas: number): Promise<void> {
      const type = await api.resolve(target.apiVersion, target.kind);
      await api.setScale(type, target.name, namespace, replicas);
    },
  };
}
