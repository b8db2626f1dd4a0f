// Status of a Topic or ConsumerGroup: what happened on each master, and the conditions that sum it up.
import type { BrokerSyncState, Condition } from '../api/index.js';
import { type ConditionUpdate, listForHumans, setConditions } from './conditions.js';

/** What one admin call on one master did this pass. */
export interface BrokerOutcome {
  brokerName: string;
  address: string;
  state: BrokerSyncState;
  /** Failed because the broker could not be reached (as opposed to answering with an error). */
  unreachable?: boolean;
  message?: string;
}

/** Why no broker was even tried. */
export interface Blocked {
  reason: 'ClusterNotFound' | 'InvalidSpec' | 'NoMasters';
  message: string;
}

export interface SyncObservation {
  /** e.g. `topic Payments` or `subscription group billing`. */
  what: string;
  generation?: number;
  oldConditions?: Condition[];
  oldObservedGeneration?: number;
  /** Old per-broker results, to keep lastAttemptTime of unchanged outcomes. */
  oldBrokers?: { brokerName: string; state: string; message?: string; lastAttemptTime?: string }[];
  now: string;
  blocked?: Blocked;
  outcomes: BrokerOutcome[];
}

export interface SyncStatus {
  conditions: Condition[];
  observedGeneration?: number;
  brokers: (Omit<BrokerOutcome, 'unreachable'> & { lastAttemptTime: string })[];
}

function describe(o: BrokerOutcome): string {
  return `${o.brokerName} (${o.address})${o.message ? `: ${o.message}` : ''}`;
}

function decide(o: SyncObservation): ConditionUpdate[] {
  if (o.blocked) {
    return [
      { type: 'Ready', status: 'False', reason: o.blocked.reason, message: o.blocked.message },
      {
        type: 'Progressing',
        status: 'False',
        reason: o.blocked.reason,
        message: 'nothing to do until that changes',
      },
      { type: 'Degraded', status: 'True', reason: o.blocked.reason, message: o.blocked.message },
    ];
  }
  const failed = o.outcomes.filter((x) => x.state === 'Failed');
  const synced = o.outcomes.filter((x) => x.state === 'Synced');
  const total = o.outcomes.length;
  if (failed.length === 0) {
    return [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Synced',
        message: `${o.what} is in place on ${synced.length}/${total} masters`,
      },
      { type: 'Progressing', status: 'False', reason: 'Complete', message: 'every master is up to date' },
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problems' },
    ];
  }
  const unreachable = failed.filter((x) => x.unreachable);
  const reason = unreachable.length > 0 ? 'BrokerUnreachable' : 'BrokerError';
  const what =
    unreachable.length > 0
      ? `unreachable: ${listForHumans(unreachable.map(describe))}`
      : `refused: ${listForHumans(failed.map(describe))}`;
  const others = failed.filter((x) => !x.unreachable);
  const extra =
    unreachable.length > 0 && others.length > 0 ? `; refused: ${listForHumans(others.map(describe))}` : '';
  return [
    {
      type: 'Ready',
      status: 'False',
      reason,
      message: `${o.what} is in place on ${synced.length}/${total} masters`,
    },
    {
      type: 'Progressing',
      status: 'True',
      reason: 'Retrying',
      message: 'retrying the failed masters with backoff',
    },
    { type: 'Degraded', status: 'True', reason, message: `${what}${extra}` },
  ];
}

/** Pure: conditions, per-broker results and observedGeneration (set only when every master succeeded). */
export function syncStatus(o: SyncObservation): SyncStatus {
  const conditions = setConditions(o.oldConditions, decide(o), o.generation, o.now);
  const brokers = o.outcomes.map(({ unreachable: _unreachable, ...rest }) => {
    const old = o.oldBrokers?.find((b) => b.brokerName === rest.brokerName);
    const same = old && old.state === rest.state && (old.message ?? '') === (rest.message ?? '');
    return { ...rest, lastAttemptTime: same && old.lastAttemptTime ? old.lastAttemptTime : o.now };
  });
  const ok = !o.blocked && o.outcomes.every((x) => x.state !== 'Failed');
  const observedGeneration = ok ? o.generation : o.oldObservedGeneration;
  const status: SyncStatus = { conditions, brokers };
  if (observedGeneration !== undefined) status.observedGeneration = observedGeneration;
  return status;
}
