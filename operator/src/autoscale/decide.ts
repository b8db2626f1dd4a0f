// The autoscaler's decision, as a pure function: (policy, what was measured, state carried from the
// last evaluation) → replicas to set now, queues to add, and the state for the next evaluation.
// No clock of its own: `now` comes in with the observation.

import type { DefaultedAutoscaling } from '../api/index.js';

export interface AutoscalePolicy {
  /** 0 allows scaling to zero. */
  minReplicas: number;
  maxReplicas: number;
  lagPerReplica: number;
  /** At or below this lag the workload runs minReplicas. */
  activationLag: number;
  /** Lag must stay low this long before replicas are reduced. */
  scaleDownStabilizationMs: number;
  /** Most replicas added in one step; undefined = no limit. */
  maxScaleUpStep?: number;
  queueExpansion: {
    enabled: boolean;
    /** Per master; expansion never goes beyond it (and is off without it). */
    maxQueues?: number;
    /** How long lag must keep growing at full replicas before queues are added. */
    afterMs: number;
  };
}

/** One subscribed topic (the retry topic is not one: it adds lag, not queues). */
export interface TopicObservation {
  topic: string;
  lag: number;
  /** Readable queues across all masters: the most consumers this topic can keep busy. */
  queues: number;
  /** Queues on each master (what a Topic's `queues` counts). */
  queuesPerMaster: number;
  /** Queue expansion may grow it (the operator manages it through a Topic resource). */
  expandable: boolean;
}

export interface Observation {
  /** Total lag, retry topic included. */
  lag: number;
  topics: readonly TopicObservation[];
  /** spec.replicas of the target as read now. */
  currentReplicas: number;
  /** Milliseconds since the epoch. */
  now: number;
}

/** Carried from one evaluation to the next (persisted in part in the ConsumerGroup's status). */
export interface ScaleState {
  /** Since when the recommendation has stayed below the current replicas. */
  lowLagSince?: number;
  /** Highest recommendation seen since lowLagSince: what a scale-down goes to. */
  lowLagPeak?: number;
  /** Since when replicas have been at the queue count with lag not shrinking. */
  saturatedSince?: number;
  /** Lag at the previous evaluation. */
  lastLag?: number;
}

export interface ScaleChange {
  from: number;
  to: number;
  direction: 'up' | 'down';
  reason: string;
}

export interface QueueGrowth {
  topic: string;
  /** Queues per master now and after growth. */
  from: number;
  to: number;
}

export interface Decision {
  /** ceil(lag / lagPerReplica) before any bound (0 at or below activationLag). */
  rawReplicas: number;
  /** The recommendation within [minReplicas, min(maxReplicas, queues)]. */
  desiredReplicas: number;
  /** Replicas to run after this evaluation (= currentReplicas when unchanged). */
  replicas: number;
  change?: ScaleChange;
  /** Most consumers the subscribed topics can keep busy (the largest topic's queue count). */
  queueBound: number;
  /** Topics whose queues to grow, when the workload is capped by queues and lag keeps growing. */
  grow: QueueGrowth[];
  /** Why queue expansion is waiting or was skipped (for status and logs); undefined when not relevant. */
  growNote?: string;
  state: ScaleState;
}

/** The defaulted spec in the units decide() works in. */
export function policyOf(spec: DefaultedAutoscaling): AutoscalePolicy {
  return {
    minReplicas: spec.minReplicas,
    maxReplicas: spec.maxReplicas,
    lagPerReplica: spec.lagPerReplica,
    activationLag: spec.activationLag,
    scaleDownStabilizationMs: spec.scaleDownStabilizationSeconds * 1000,
    maxScaleUpStep: spec.maxScaleUpStep,
    queueExpansion: {
      enabled: spec.queueExpansion.enabled,
      maxQueues: spec.queueExpansion.maxQueues,
      afterMs: spec.queueExpansion.afterSeconds * 1000,
    },
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Growth of one topic: double the queues per master, capped at maxQueues. */
export function grownQueues(perMaster: number, maxQueues: number): number {
  return Math.min(maxQueues, Math.max(perMaster * 2, perMaster + 1));
}

export function decide(policy: AutoscalePolicy, obs: Observation, state: ScaleState): Decision {
  const { minReplicas, maxReplicas, lagPerReplica, activationLag } = policy;
  const lag = Math.max(0, obs.lag);
  const current = obs.currentReplicas;
  const queueBound = obs.topics.reduce((m, t) => Math.max(m, t.queues), 0);
  // minReplicas is the user's explicit floor and wins over the queue bound.
  const upper = Math.max(minReplicas, Math.min(maxReplicas, queueBound));
  const rawReplicas = lag <= activationLag ? 0 : Math.ceil(lag / lagPerReplica);
  const desiredReplicas = Math.min(upper, Math.max(minReplicas, rawReplicas));

  const why = (): string => {
    if (rawReplicas === 0) return `lag ${lag} at or below activationLag ${activationLag}`;
    let text = `lag ${lag} needs ${plural(rawReplicas, 'replica')} at ${lagPerReplica} per replica`;
    if (desiredReplicas < rawReplicas) {
      text +=
        desiredReplicas === maxReplicas && maxReplicas <= queueBound
          ? `, capped by maxReplicas ${maxReplicas}`
          : `, capped by ${plural(queueBound, 'queue')}`;
    } else if (desiredReplicas > rawReplicas) {
      text += `, raised to minReplicas ${minReplicas}`;
    }
    return text;
  };

  let replicas = current;
  let change: ScaleChange | undefined;
  let lowLagSince: number | undefined;
  let lowLagPeak: number | undefined;
  if (current > upper) {
    // Above a hard bound (maxReplicas lowered, queues removed, manual scaling): no stabilization.
    replicas = upper;
    const bound = upper === maxReplicas ? `maxReplicas ${maxReplicas}` : `the ${plural(queueBound, 'queue')}`;
    change = { from: current, to: replicas, direction: 'down', reason: `above ${bound}; ${why()}` };
  } else if (desiredReplicas > current) {
    const step = policy.maxScaleUpStep;
    replicas = step === undefined ? desiredReplicas : Math.min(desiredReplicas, current + step);
    const limited = replicas < desiredReplicas ? `; limited to +${step} per step` : '';
    change = { from: current, to: replicas, direction: 'up', reason: `${why()}${limited}` };
  } else if (desiredReplicas < current) {
    lowLagSince = state.lowLagSince ?? obs.now;
    lowLagPeak = Math.max(state.lowLagPeak ?? desiredReplicas, desiredReplicas);
    if (obs.now - lowLagSince >= policy.scaleDownStabilizationMs) {
      replicas = lowLagPeak;
      const held = Math.round((obs.now - lowLagSince) / 1000);
      change = {
        from: current,
        to: replicas,
        direction: 'down',
        reason: `${why()}; low for ${held}s (window ${policy.scaleDownStabilizationMs / 1000}s)`,
      };
      lowLagSince = undefined;
      lowLagPeak = undefined;
    }
  }

  const grow: QueueGrowth[] = [];
  let growNote: string | undefined;
  let saturatedSince: number | undefined;
  const qe = policy.queueExpansion;
  if (qe.enabled && qe.maxQueues !== undefined && rawReplicas > queueBound && queueBound > 0) {
    const maxQueues = qe.maxQueues;
    const candidates = obs.topics.filter(
      (t) => t.expandable && t.lag > 0 && t.queues <= current && t.queuesPerMaster < maxQueues,
    );
    const atQueues = current >= queueBound && queueBound < maxReplicas;
    const shrinking = state.lastLag !== undefined && lag < state.lastLag;
    if (!atQueues) {
      // Replicas can still rise within the queues: scale first, grow later.
    } else if (candidates.length === 0) {
      growNote = `at ${plural(queueBound, 'queue')} but no subscribed Topic can grow (maxQueues ${maxQueues})`;
    } else if (shrinking) {
      growNote = `lag fell from ${state.lastLag} to ${lag}; not adding queues`;
    } else {
      saturatedSince = state.saturatedSince ?? obs.now;
      const elapsed = obs.now - saturatedSince;
      const growing = state.lastLag !== undefined && lag > state.lastLag;
      if (elapsed >= qe.afterMs && growing) {
        for (const t of candidates) {
          grow.push({
            topic: t.topic,
            from: t.queuesPerMaster,
            to: grownQueues(t.queuesPerMaster, maxQueues),
          });
        }
        saturatedSince = undefined;
      } else {
        growNote = `at ${plural(queueBound, 'queue')} with lag growing for ${Math.round(elapsed / 1000)}s of ${qe.afterMs / 1000}s`;
      }
    }
  }

  return {
    rawReplicas,
    desiredReplicas,
    replicas,
    change,
    queueBound,
    grow,
    growNote,
    state: { lowLagSince, lowLagPeak, saturatedSince, lastLag: lag },
  };
}
