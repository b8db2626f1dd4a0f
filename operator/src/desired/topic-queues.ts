// The read and write queue counts each master gets for a Topic. Growth applies both at once; a shrink
// follows RocketMQ's safe order: lower the write queues first, keep serving reads from the removed
// queues until producers had time to refresh their routes and every consumer group has consumed
// them, then lower the read queues. Pure: the controller observes, this decides.
import type { TopicQueueShrink, TopicStatus } from '../api/index.js';

export interface QueueCounts {
  readQueues: number;
  writeQueues: number;
}

/** One consumer group's progress on one queue of the topic on one master (a GET_CONSUME_STATS row). */
export interface QueueConsumeProgress {
  group: string;
  queueId: number;
  /** The queue's max offset. */
  brokerOffset: number;
  /** The group's committed offset. */
  consumerOffset: number;
}

/** What the controller saw of the topic on one master this pass. */
export type MasterQueueObservation =
  | { state: 'absent' }
  | {
      state: 'present';
      counts: QueueCounts;
      /** Every known group's progress; read only when the master serves more read queues than wanted. */
      progress?: readonly QueueConsumeProgress[];
      /** Why `progress` is missing. */
      progressError?: string;
    }
  | { state: 'failed'; message: string };

export interface QueuePlanInput {
  /** Queues per master the Topic asks for (effectiveQueues). */
  target: number;
  /** Master names, in cluster order. */
  masters: readonly string[];
  /** The shrink recorded in status by an earlier pass. */
  recorded?: TopicQueueShrink;
  /** Per master; absent when the brokers were not asked (see needsQueueObservation). */
  observed?: ReadonlyMap<string, MasterQueueObservation>;
  now: number;
  /** How long after the write queues were lowered producers may still use their old routes. */
  graceMs: number;
}

export type QueueShrinkWaitReason = 'WaitingForRouteRefresh' | 'WaitingForConsumers' | 'BrokersUnobserved';

export type QueuePlanTransition =
  /** No shrink before or now. */
  | 'none'
  /** Write queues are lowered this pass (a new shrink, or a lower target during one). */
  | 'started'
  | 'pending'
  /** Read queues are lowered this pass: the removed queues are drained. */
  | 'completed'
  /** The count was raised back to at least the served read queues; read = write = new count. */
  | 'abandoned'
  /** Status still recorded a shrink the brokers no longer show (already completed). */
  | 'cleared';

export interface QueuePlan {
  target: number;
  /** What to declare per master; absent for a master that could not be observed (declare nothing). */
  counts: Map<string, QueueCounts>;
  /** The shrink to record in status; undefined when none is pending. */
  shrink?: TopicQueueShrink;
  transition: QueuePlanTransition;
  /** While pending: what the read queues wait for. */
  wait?: { reason: QueueShrinkWaitReason; message: string };
  /** For events and conditions: e.g. `read queues lowered from 8 to 4 …`. */
  summary: string;
  /** While pending: when the route-refresh grace ends (ms). */
  graceEndsAt?: number;
}

/** RFC 3339 rounded UP to whole seconds, so the stored time never makes the grace shorter. */
function rfc3339Ceil(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function parseTime(value: string): number {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/** `4-7`, `4`, or `4,6` for the queue ids a range of queues covers. */
export function queueRange(from: number, to: number): string {
  if (to - from <= 1) return String(from);
  return `${from}-${to - 1}`;
}

/**
 * True when this pass must look at the brokers before declaring: a shrink is recorded, the spec
 * changed since the last complete pass, or some master is (or may be) above the target. A steady
 * resync of a Topic that never shrinks costs no extra broker call.
 */
export function needsQueueObservation(
  status: TopicStatus | undefined,
  generation: number | undefined,
  target: number,
): boolean {
  if (!status) return false;
  if (status.queueShrink) return true;
  const brokers = status.brokers ?? [];
  if (brokers.length === 0) return false;
  if (generation !== undefined && status.observedGeneration !== generation) return true;
  return brokers.some(
    (b) => b.state !== 'Synced' || (b.readQueues ?? 0) > target || (b.writeQueues ?? 0) > target,
  );
}

interface Shrinking {
  brokerName: string;
  counts: QueueCounts;
  progress?: readonly QueueConsumeProgress[];
  progressError?: string;
}

/** Groups with messages left in the removed queues of one master, e.g. `GID_a 12 in broker-a queues 4,5`. */
function undrained(s: Shrinking, target: number): string[] {
  if (!s.progress) return [`${s.brokerName}: consume progress unknown (${s.progressError ?? 'not read'})`];
  const byGroup = new Map<string, { left: number; queues: number[] }>();
  for (const row of s.progress) {
    if (row.queueId < target || row.queueId >= s.counts.readQueues) continue;
    const left = row.brokerOffset - row.consumerOffset;
    if (left <= 0) continue;
    const entry = byGroup.get(row.group) ?? { left: 0, queues: [] };
    entry.left += left;
    entry.queues.push(row.queueId);
    byGroup.set(row.group, entry);
  }
  return [...byGroup.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([group, e]) =>
        `${group} has ${e.left} unconsumed in ${s.brokerName} queue${e.queues.length === 1 ? '' : 's'} ${e.queues.sort((x, y) => x - y).join(',')}`,
    );
}

/** Decides the counts per master and the shrink bookkeeping for one pass. */
export function planTopicQueues(input: QueuePlanInput): QueuePlan {
  const { target, recorded, observed, now, graceMs } = input;
  const both = { readQueues: target, writeQueues: target };
  const counts = new Map<string, QueueCounts>();
  const shrinking: Shrinking[] = [];
  const unobserved: string[] = [];
  for (const name of input.masters) {
    const obs = observed?.get(name);
    if (observed && !obs) {
      unobserved.push(`${name} (not observed)`);
      continue;
    }
    if (obs?.state === 'failed') {
      unobserved.push(`${name} (${obs.message})`);
      continue;
    }
    if (obs?.state === 'present' && obs.counts.readQueues > target) {
      shrinking.push({
        brokerName: name,
        counts: obs.counts,
        progress: obs.progress,
        progressError: obs.progressError,
      });
      continue;
    }
    counts.set(name, { ...both });
  }

  if (shrinking.length === 0) {
    if (!recorded) return { target, counts, transition: 'none', summary: `${target} read and write queues` };
    if (unobserved.length > 0) {
      // A master we could not see may still serve the removed queues: keep the record, change nothing there.
      return {
        target,
        counts,
        shrink: recorded,
        transition: 'pending',
        wait: {
          reason: 'BrokersUnobserved',
          message: `write queues lowered from ${recorded.fromQueues} to ${recorded.toQueues}; read queues stay until the masters can be checked: ${unobserved.join(', ')}`,
        },
        summary: `shrink from ${recorded.fromQueues} to ${recorded.toQueues} queues pending`,
      };
    }
    if (target >= recorded.fromQueues) {
      return {
        target,
        counts,
        transition: 'abandoned',
        summary: `queue shrink from ${recorded.fromQueues} to ${recorded.toQueues} abandoned: the count is ${target} again, read and write queues are ${target}`,
      };
    }
    return {
      target,
      counts,
      transition: 'cleared',
      summary: `read queues are at ${target}; the shrink from ${recorded.fromQueues} queues is done`,
    };
  }

  const from = Math.max(...shrinking.map((s) => s.counts.readQueues));
  const removed = `queue${from - target === 1 ? '' : 's'} ${queueRange(target, from)}`;
  // Writes to every removed queue stopped at the recorded time only if each master already shows the
  // lowered write count and the removed range is inside the one recorded; otherwise they stop now.
  const writesStopped = shrinking.every((s) => s.counts.writeQueues <= target);
  const keepsTime = recorded !== undefined && writesStopped && target >= recorded.toQueues;
  const writeLoweredTime = keepsTime ? recorded.writeLoweredTime : rfc3339Ceil(now);
  const graceEndsAt = parseTime(writeLoweredTime) + graceMs;
  const graceOver = keepsTime && now >= graceEndsAt;
  const left = shrinking.flatMap((s) => undrained(s, target));

  if (graceOver && unobserved.length === 0 && left.length === 0) {
    for (const s of shrinking) counts.set(s.brokerName, { ...both });
    return {
      target,
      counts,
      transition: 'completed',
      summary: `read queues lowered from ${from} to ${target}: every consumer group consumed ${removed}`,
    };
  }

  for (const s of shrinking) {
    counts.set(s.brokerName, { readQueues: s.counts.readQueues, writeQueues: target });
  }
  const head = `write queues lowered from ${from} to ${target}; read queues stay at ${from} until ${removed} are drained`;
  let wait: QueuePlan['wait'];
  if (!graceOver) {
    wait = {
      reason: 'WaitingForRouteRefresh',
      message: `${head}: producers may use their old routes until ${new Date(graceEndsAt).toISOString().replace('.000Z', 'Z')}${left.length > 0 ? `; ${left.join('; ')}` : ''}`,
    };
  } else if (unobserved.length > 0) {
    wait = { reason: 'BrokersUnobserved', message: `${head}: cannot check ${unobserved.join(', ')}` };
  } else {
    wait = { reason: 'WaitingForConsumers', message: `${head}: ${left.join('; ')}` };
  }
  // A lower target during a shrink stops more writes: a new start. A higher one only narrows the range.
  const started = !recorded || target < recorded.toQueues;
  return {
    target,
    counts,
    shrink: { fromQueues: from, toQueues: target, writeLoweredTime },
    transition: started ? 'started' : 'pending',
    wait,
    summary: `write queues lowered from ${from} to ${target} on every master; read queues stay at ${from} until ${removed} are consumed`,
    graceEndsAt,
  };
}

/**
 * The plan as it stands after declaring: a completion whose read-queue change failed on some master
 * stays pending under the old record, so the next pass lowers the read queues there (no new grace).
 */
export function settleQueuePlan(
  plan: QueuePlan,
  recorded: TopicQueueShrink | undefined,
  failedMasters: readonly string[],
): QueuePlan {
  if (plan.transition !== 'completed' || failedMasters.length === 0 || !recorded) return plan;
  return {
    ...plan,
    transition: 'pending',
    shrink: recorded,
    wait: {
      reason: 'BrokersUnobserved',
      message: `read queues could not be lowered from ${recorded.fromQueues} to ${plan.target} on ${failedMasters.join(', ')}; retrying`,
    },
    summary: `lowering read queues from ${recorded.fromQueues} to ${plan.target}`,
  };
}
