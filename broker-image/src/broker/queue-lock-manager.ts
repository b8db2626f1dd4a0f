// Queue locks for orderly consumption (protocol.md §3.7) as pure state; the caller passes `now`.
// Per (group, queue): granted when free, held by the same client (a renewal), or held by a client
// that has not renewed for `lockMaxLiveTimeMs` (60 s, Java's rocketmq.broker.rebalance.lockMaxLiveTime).
// Locks are not released when a connection drops; they expire, as in Java.

export interface MessageQueueRef {
  topic: string;
  brokerName: string;
  queueId: number;
}

interface LockEntry {
  clientId: string;
  lastUpdate: number;
}

export const DEFAULT_LOCK_MAX_LIVE_TIME_MS = 60_000;

function queueKey(mq: MessageQueueRef): string {
  return `${mq.topic}\u0000${mq.brokerName}\u0000${mq.queueId}`;
}

export class QueueLockManager {
  private readonly groups = new Map<string, Map<string, LockEntry>>();
  readonly lockMaxLiveTimeMs: number;

  constructor(lockMaxLiveTimeMs = DEFAULT_LOCK_MAX_LIVE_TIME_MS) {
    this.lockMaxLiveTimeMs = lockMaxLiveTimeMs;
  }

  private expired(entry: LockEntry, now: number): boolean {
    return now - entry.lastUpdate > this.lockMaxLiveTimeMs;
  }

  /** Locks (or renews) what it can; returns the queues now held by `clientId`, in request order. */
  tryLockBatch(
    group: string,
    mqs: readonly MessageQueueRef[],
    clientId: string,
    now: number,
  ): MessageQueueRef[] {
    let table = this.groups.get(group);
    if (!table) {
      table = new Map();
      this.groups.set(group, table);
    }
    const granted: MessageQueueRef[] = [];
    const seen = new Set<string>();
    for (const mq of mqs) {
      const key = queueKey(mq);
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = table.get(key);
      if (!entry || entry.clientId === clientId || this.expired(entry, now)) {
        table.set(key, { clientId, lastUpdate: now });
        granted.push(mq);
      }
    }
    return granted;
  }

  /** Releases the listed queues held by `clientId`; others' locks are left alone. */
  unlockBatch(group: string, mqs: readonly MessageQueueRef[], clientId: string): number {
    const table = this.groups.get(group);
    if (!table) return 0;
    let released = 0;
    for (const mq of mqs) {
      const key = queueKey(mq);
      if (table.get(key)?.clientId === clientId) {
        table.delete(key);
        released++;
      }
    }
    if (table.size === 0) this.groups.delete(group);
    return released;
  }

  /** Holder of a queue's live lock, if any. */
  holder(group: string, mq: MessageQueueRef, now: number): string | undefined {
    const entry = this.groups.get(group)?.get(queueKey(mq));
    return entry && !this.expired(entry, now) ? entry.clientId : undefined;
  }

  /** Drops expired locks (bounded memory for groups that went away). */
  sweep(now: number): void {
    for (const [group, table] of this.groups) {
      for (const [key, entry] of table) if (this.expired(entry, now)) table.delete(key);
      if (table.size === 0) this.groups.delete(group);
    }
  }
}
