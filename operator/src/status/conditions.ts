// metav1.Condition bookkeeping: one entry per type, lastTransitionTime kept unless the status flips.
import type { Condition, ConditionStatus } from '../api/index.js';

/** A condition as a status function decides it; time and generation are filled in by `setCondition`. */
export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  /** CamelCase, e.g. BrokerUnreachable. */
  reason: string;
  message: string;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * Returns a new list with `update` in place of the condition of the same type. lastTransitionTime is
 * `now` when the status changes (or the type is new), else the old one; reason, message and
 * observedGeneration always follow the update. Other types are kept in their order.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  observedGeneration: number | undefined,
  now: string,
): Condition[] {
  const old = findCondition(conditions, update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message,
    lastTransitionTime: old && old.status === update.status ? old.lastTransitionTime : now,
  };
  if (observedGeneration !== undefined) next.observedGeneration = observedGeneration;
  const list = [...(conditions ?? [])];
  const at = list.findIndex((c) => c.type === update.type);
  if (at >= 0) list[at] = next;
  else list.push(next);
  return list;
}

/** Applies several updates in order. */
export function setConditions(
  conditions: readonly Condition[] | undefined,
  updates: readonly ConditionUpdate[],
  observedGeneration: number | undefined,
  now: string,
): Condition[] {
  let list = [...(conditions ?? [])];
  for (const u of updates) list = setCondition(list, u, observedGeneration, now);
  return list;
}

/** Condition messages are for people; long lists are cut with a count of what was left out. */
export function listForHumans(items: readonly string[], max = 5): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
