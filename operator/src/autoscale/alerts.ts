// Alertmanager webhook (JSON version 4) → which ConsumerGroups to evaluate now. An alert names a
// group by the labels `namespace` and `consumergroup` (the ConsumerGroup resource's name), as the
// chart's BolideConsumerGroupLagHigh rule does; alerts without them are ignored.

/** Thrown for a request the handler refuses; `status` is the HTTP status to answer with. */
export class AlertRequestError extends Error {
  override name = 'AlertRequestError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function labelsAt(v: unknown, where: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw new AlertRequestError(`${where} must be an object of strings`, 400);
  for (const [k, value] of Object.entries(v)) {
    if (typeof value !== 'string')
      throw new AlertRequestError(`${where}.${k} must be a string, got ${JSON.stringify(value)}`, 400);
  }
  return v as Record<string, string>;
}

/**
 * The `namespace/name` keys of the ConsumerGroups the alerts name, each once, in order. An alert's
 * own labels win; the group's common labels fill in (Alertmanager groups by these labels).
 * Throws AlertRequestError(400) for a body that is not a webhook payload.
 */
export function groupKeysFromAlerts(payload: unknown): string[] {
  if (!isRecord(payload)) throw new AlertRequestError('expected a JSON object', 400);
  const { alerts, version } = payload;
  if (version !== undefined && version !== '4')
    throw new AlertRequestError(`unsupported webhook version ${JSON.stringify(version)}; want "4"`, 400);
  if (!Array.isArray(alerts)) throw new AlertRequestError('expected an "alerts" array', 400);
  const common = {
    ...labelsAt(payload.groupLabels, 'groupLabels'),
    ...labelsAt(payload.commonLabels, 'commonLabels'),
  };
  const keys = new Set<string>();
  alerts.forEach((alert, i) => {
    if (!isRecord(alert)) throw new AlertRequestError(`alerts[${i}] must be an object`, 400);
    const labels = { ...common, ...labelsAt(alert.labels, `alerts[${i}].labels`) };
    const namespace = labels.namespace;
    const name = labels.consumergroup;
    if (namespace === undefined || name === undefined) return;
    if (!NAMESPACE.test(namespace))
      throw new AlertRequestError(`alerts[${i}]: ${JSON.stringify(namespace)} is not a namespace`, 400);
    if (!OBJECT_NAME.test(name))
      throw new AlertRequestError(`alerts[${i}]: ${JSON.stringify(name)} is not a ConsumerGroup name`, 400);
    keys.add(`${namespace}/${name}`);
  });
  return [...keys];
}

export interface AlertHandlerOptions {
  /** Queues an immediate evaluation of `namespace/name`. */
  enqueue(key: string): void;
  /** Only the leader evaluates; other replicas answer 503 so Alertmanager retries (on the leader, eventually). */
  isLeader(): boolean;
  /** Called with the keys queued by one webhook (logging). */
  onAlert?(keys: string[]): void;
}

/** The handler for OperatorHttpServer.mountAlerts: validates, then queues the named groups. */
export function alertHandler(opts: AlertHandlerOptions): (payload: unknown) => void {
  return (payload) => {
    const keys = groupKeysFromAlerts(payload);
    if (!opts.isLeader())
      throw new AlertRequestError('not the leader; retry (another replica evaluates)', 503);
    for (const key of keys) opts.enqueue(key);
    opts.onAlert?.(keys);
  };
}
