// The conditions a Topic's queue plan adds: QueueShrinkPending while read queues wait for the removed
// queues to drain (and Progressing with it), False with the outcome once the shrink ends. Pure.
import type { Condition } from '../api/index.js';
import type { QueuePlan } from '../desired/index.js';
import { type ConditionUpdate, findCondition, setConditions } from './conditions.js';

export const QUEUE_SHRINK_CONDITION = 'QueueShrinkPending';

export function topicQueueConditions(
  conditions: readonly Condition[],
  plan: QueuePlan,
  generation: number | undefined,
  now: string,
): Condition[] {
  const updates: ConditionUpdate[] = [];
  const pending = findCondition(conditions, QUEUE_SHRINK_CONDITION)?.status === 'True';
  if (plan.shrink && plan.wait) {
    updates.push({
      type: QUEUE_SHRINK_CONDITION,
      status: 'True',
      reason: plan.wait.reason,
      message: plan.wait.message,
    });
    // Failed masters already say Progressing=True (Retrying); do not hide that.
    if (findCondition(conditions, 'Progressing')?.status !== 'True') {
      updates.push({
        type: 'Progressing',
        status: 'True',
        reason: 'QueueShrinkPending',
        message: plan.summary,
      });
    }
  } else if (plan.transition === 'completed' || (plan.transition === 'cleared' && pending)) {
    updates.push({
      type: QUEUE_SHRINK_CONDITION,
      status: 'False',
      reason: 'Completed',
      message: plan.summary,
    });
  } else if (plan.transition === 'abandoned') {
    updates.push({
      type: QUEUE_SHRINK_CONDITION,
      status: 'False',
      reason: 'Abandoned',
      message: plan.summary,
    });
  }
  return updates.length === 0 ? [...conditions] : setConditions(conditions, updates, generation, now);
}
