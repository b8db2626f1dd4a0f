// Pure helpers turning a pod spec into what a process needs: env (with the downward API and
// $(VAR) expansion), probe targets, restart decisions. No I/O.
import type { V1Container, V1Pod, V1Probe } from '@kubernetes/client-node';

/** Reads a downward-API fieldPath of `pod` (the fields Kubernetes allows in env). */
export function fieldRefValue(pod: V1Pod, fieldPath: string): string {
  const labelOrAnnotation = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (labelOrAnnotation) {
    const map = labelOrAnnotation[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[labelOrAnnotation[2] ?? ''] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return pod.status?.podIP ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return pod.status?.hostIP ?? '';
    default:
      throw new Error(`unsupported fieldRef ${fieldPath}`);
  }
}

/** Kubernetes' $(VAR) expansion: defined names are replaced, $$ escapes, others stay as written. */
export function expandVars(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && name in vars ? (vars[name] ?? '') : match;
  });
}

export interface EnvSources {
  configMapKey(namespace: string, name: string, key: string): Promise<string | undefined>;
  secretKey(namespace: string, name: string, key: string): Promise<string | undefined>;
  configMapData(namespace: string, name: string): Promise<Record<string, string>>;
}

/** The container's environment from env and envFrom, in Kubernetes' order (later wins). */
export async function containerEnv(
  pod: V1Pod,
  container: V1Container,
  sources: EnvSources,
): Promise<Record<string, string>> {
  const ns = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef?.name) {
      const data = await sources.configMapData(ns, from.configMapRef.name);
      for (const [k, v] of Object.entries(data)) env[`${from.prefix ?? ''}${k}`] = v;
    }
  }
  for (const item of container.env ?? []) {
    const ref = item.valueFrom;
    let value: string | undefined;
    if (!ref) value = expandVars(item.value ?? '', env);
    else if (ref.fieldRef) value = fieldRefValue(pod, ref.fieldRef.fieldPath);
    else if (ref.configMapKeyRef)
      value = await sources.configMapKey(ns, ref.configMapKeyRef.name ?? '', ref.configMapKeyRef.key);
    else if (ref.secretKeyRef)
      value = await sources.secretKey(ns, ref.secretKeyRef.name ?? '', ref.secretKeyRef.key);
    else if (ref.resourceFieldRef) value = '0';
    if (value === undefined) {
      const optional = ref?.configMapKeyRef?.optional || ref?.secretKeyRef?.optional;
      if (!optional) throw new Error(`env ${item.name}: referenced key not found`);
      continue;
    }
    env[item.name] = value;
  }
  return env;
}

/** The port number a probe's `port` (number or container port name) refers to. */
export function probePort(container: V1Container, port: number | string | undefined): number {
  if (typeof port === 'number') return port;
  if (port !== undefined && /^\d+$/.test(port)) return Number(port);
  const named = container.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`container ${container.name} has no port named ${port}`);
  return named.containerPort;
}

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
}

export function probeTiming(probe: V1Probe): ProbeTiming {
  return {
    initialDelayMs: (probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: (probe.periodSeconds ?? 10) * 1000,
    timeoutMs: (probe.timeoutSeconds ?? 1) * 1000,
    failureThreshold: probe.failureThreshold ?? 3,
    successThreshold: probe.successThreshold ?? 1,
  };
}

/** Whether a container that exited with `exitCode` starts again under the pod's restartPolicy. */
export function shouldRestart(restartPolicy: string | undefined, exitCode: number): boolean {
  if (restartPolicy === 'Never') return false;
  if (restartPolicy === 'OnFailure') return exitCode !== 0;
  return true;
}

/** Crash-loop back-off: 1 s doubling, capped at 10 s (kubelet caps at 5 min; tests want speed). */
export function restartDelayMs(restartCount: number): number {
  return Math.min(10_000, 1000 * 2 ** Math.min(restartCount, 10));
}
