// Bookkeeping of half messages (protocol.md §3.10) as pure state; the caller passes `now` and does
// the I/O. Half messages live in queue 0 of RMQ_SYS_TRANS_HALF_TOPIC; one is finished once an op
// record (committed, rolled back or discarded) names its queue offset. Progress is two offsets:
// every half offset below `halfOffset` is finished, and every op record below `opOffset` names a
// half offset below `halfOffset` — so a restart reads the op queue from `opOffset` only.

import { parseBodyJson, writeBodyJson } from '../protocol/index.js';

export type CheckDecision =
  /** Finished, or being finished right now. */
  | 'finished'
  /** Too young; so is everything after it (stop the scan). */
  | 'stop'
  /** Not due yet (own immunity time or checked recently); look at the next one. */
  | 'skip'
  /** Ask the producer group. */
  | 'check'
  /** Checked `transactionCheckMax` times without an answer: give up on it. */
  | 'discard';

export interface CheckSettings {
  /** transactionTimeOut (ms): age before the first check and gap between checks. */
  timeoutMs: number;
  /** transactionCheckMax. */
  checkMax: number;
}

interface CheckState {
  count: number;
  /** When the last check went out (this run only). */
  lastAt?: number;
}

export class TransactionBook {
  halfOffset = 0n;
  opOffset = 0n;
  /** Finished half offsets at or above halfOffset → queue offset of their op record. */
  private readonly done = new Map<bigint, bigint>();
  private readonly checks = new Map<bigint, CheckState>();
  /** Half offsets with an outcome being written (END_TRANSACTION or discard in flight). */
  private readonly claimed = new Set<bigint>();
  private changed = false;

  isFinished(halfOffset: bigint): boolean {
    return halfOffset < this.halfOffset || this.done.has(halfOffset);
  }

  /** Reserves a half message for an outcome; false when it is finished or already being finished. */
  claim(halfOffset: bigint): boolean {
    if (this.isFinished(halfOffset) || this.claimed.has(halfOffset)) return false;
    this.claimed.add(halfOffset);
    return true;
  }

  /** The outcome could not be written; the half message is pending again. */
  release(halfOffset: bigint): void {
    this.claimed.delete(halfOffset);
  }

  /** The op record for `halfOffset` is stored at `opQueueOffset` (also used when replaying the op queue). */
  markDone(halfOffset: bigint, opQueueOffset: bigint): void {
    this.claimed.delete(halfOffset);
    this.checks.delete(halfOffset);
    if (halfOffset >= this.halfOffset) this.done.set(halfOffset, opQueueOffset);
    this.changed = true;
  }

  /** Pending half messages known to have been checked (for tests and runtime info). */
  checkCount(halfOffset: bigint): number {
    return this.checks.get(halfOffset)?.count ?? 0;
  }

  decide(
    halfOffset: bigint,
    storeTimestamp: number,
    immunityMs: number | undefined,
    now: number,
    settings: CheckSettings,
  ): CheckDecision {
    if (this.isFinished(halfOffset) || this.claimed.has(halfOffset)) return 'finished';
    const age = now - storeTimestamp;
    const state = this.checks.get(halfOffset);
    const wait = immunityMs ?? settings.timeoutMs;
    if (!state || state.count === 0) {
      // A message with its own immunity may be younger than later ones are old; without one, the
      // queue is in store-time order, so the first young one ends the scan (as in Java).
      if (age < wait) return immunityMs === undefined ? 'stop' : 'skip';
    }
    if (state && state.count >= settings.checkMax) return 'discard';
    if (state?.lastAt !== undefined && now - state.lastAt < settings.timeoutMs) return 'skip';
    return 'check';
  }

  /** A check went out (or was due with no producer online, which counts as well, as in Java). */
  recordCheck(halfOffset: bigint, now: number): number {
    const state = this.checks.get(halfOffset) ?? { count: 0 };
    state.count++;
    state.lastAt = now;
    this.checks.set(halfOffset, state);
    this.changed = true;
    return state.count;
  }

  /**
   * Moves `halfOffset` over the finished prefix, but never below `minOffset` (retention removed
   * what is under it) and never above `maxOffset`; then moves `opOffset` as far as every op record
   * below it is no longer needed. `opMaxOffset` is the op queue's end.
   */
  compact(minOffset: bigint, maxOffset: bigint, opMaxOffset: bigint): void {
    let half = this.halfOffset < minOffset ? minOffset : this.halfOffset;
    while (half < maxOffset && this.done.has(half)) half++;
    if (half !== this.halfOffset) {
      this.halfOffset = half;
      this.changed = true;
    }
    let lowestOp = opMaxOffset;
    for (const [h, op] of this.done) {
      if (h < half) this.done.delete(h);
      else if (op < lowestOp) lowestOp = op;
    }
    for (const h of this.checks.keys()) if (h < half) this.checks.delete(h);
    // An op record being written may already have its offset; keep it readable after a crash.
    if (this.claimed.size === 0 && lowestOp > this.opOffset) {
      this.opOffset = lowestOp;
      this.changed = true;
    }
  }

  /** True once after each change (so the caller writes the file only when needed). */
  takeChanged(): boolean {
    const c = this.changed;
    this.changed = false;
    return c;
  }

  encode(): string {
    const checkTimes = new Map<string, number>();
    for (const [h, s] of [...this.checks].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      checkTimes.set(h.toString(), s.count);
    }
    return writeBodyJson({ halfOffset: this.halfOffset, opOffset: this.opOffset, checkTimes });
  }

  /** Restores the progress and check counts written by `encode` (the done set is replayed from the op queue). */
  load(text: string): void {
    const parsed = parseBodyJson(text) as {
      halfOffset?: number | bigint;
      opOffset?: number | bigint;
      checkTimes?: Record<string, number | bigint>;
    } | null;
    if (!parsed || typeof parsed !== 'object') return;
    const offset = (v: unknown) => {
      if (typeof v !== 'number' && typeof v !== 'bigint') return 0n;
      const n = BigInt(v);
      return n < 0n ? 0n : n;
    };
    this.halfOffset = offset(parsed.halfOffset);
    this.opOffset = offset(parsed.opOffset);
    for (const [key, count] of Object.entries(parsed.checkTimes ?? {})) {
      if (!/^\d{1,19}$/.test(key)) continue;
      const n = Number(count);
      if (Number.isInteger(n) && n > 0) this.checks.set(BigInt(key), { count: n });
    }
  }
}
