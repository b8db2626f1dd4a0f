// Long polling (protocol.md §3.3.4): pulls that found nothing wait here, keyed by topic@queueId,
// until a matching message arrives, the queue grows past their offset, or their hold expires.
// Pure state: time comes in as `now`; the caller re-runs whatever the methods hand back.

export interface HeldPull<T> {
  topic: string;
  queueId: number;
  /** The offset the pull asked for; a queue whose max offset exceeds it has news. */
  offset: bigint;
  /** When the hold ends and the pull must be answered anyway (ms). */
  deadline: number;
  /** The connection that sent the pull (dropped holds when it closes). */
  channelId: string;
  /** Tag match for arrival notifications; returns true when the new record is of interest. */
  matches: (tagsCode: bigint) => boolean;
  payload: T;
}

function keyOf(topic: string, queueId: number): string {
  return `${topic}@${queueId}`;
}

export class PullHoldTable<T> {
  private readonly holds = new Map<string, HeldPull<T>[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  hold(pull: HeldPull<T>): void {
    const key = keyOf(pull.topic, pull.queueId);
    let list = this.holds.get(key);
    if (!list) {
      list = [];
      this.holds.set(key, list);
    }
    list.push(pull);
    this.count++;
  }

  /**
   * A record was dispatched to (topic, queueId), whose max offset is now `maxOffset`. Returns (and
   * removes) the held pulls that should run again: those behind `maxOffset` whose subscription
   * matches the record's tag, and those whose hold has expired.
   */
  onArrival(topic: string, queueId: number, maxOffset: bigint, tagsCode: bigint, now: number): HeldPull<T>[] {
    const key = keyOf(topic, queueId);
    const list = this.holds.get(key);
    if (!list) return [];
    const wake: HeldPull<T>[] = [];
    const keep: HeldPull<T>[] = [];
    for (const pull of list) {
      if ((maxOffset > pull.offset && pull.matches(tagsCode)) || now >= pull.deadline) wake.push(pull);
      else keep.push(pull);
    }
    this.replace(key, keep);
    this.count -= wake.length;
    return wake;
  }

  /**
   * The periodic check: returns (and removes) pulls whose hold expired, and pulls whose queue grew
   * past their offset (tags not considered — the re-run may answer "retry immediately").
   */
  due(now: number, maxOffsetOf: (topic: string, queueId: number) => bigint): HeldPull<T>[] {
    const wake: HeldPull<T>[] = [];
    for (const [key, list] of this.holds) {
      const first = list[0];
      const max = first ? maxOffsetOf(first.topic, first.queueId) : -1n;
      const keep: HeldPull<T>[] = [];
      for (const pull of list) {
        if (now >= pull.deadline || max > pull.offset) wake.push(pull);
        else keep.push(pull);
      }
      this.replace(key, keep);
    }
    this.count -= wake.length;
    return wake;
  }

  /** Removes (and returns) every pull held for a closed connection. */
  removeChannel(channelId: string): HeldPull<T>[] {
    const removed: HeldPull<T>[] = [];
    for (const [key, list] of this.holds) {
      const keep = list.filter((pull) => {
        if (pull.channelId !== channelId) return true;
        removed.push(pull);
        return false;
      });
      this.replace(key, keep);
    }
    this.count -= removed.length;
    return removed;
  }

  /** Removes and returns everything (shutdown). */
  drain(): HeldPull<T>[] {
    const all = [...this.holds.values()].flat();
    this.holds.clear();
    this.count = 0;
    return all;
  }

  /** The earliest deadline among held pulls, or undefined when none are held. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const list of this.holds.values()) {
      for (const pull of list) if (next === undefined || pull.deadline < next) next = pull.deadline;
    }
    return next;
  }

  private replace(key: string, keep: HeldPull<T>[]): void {
    if (keep.length === 0) this.holds.delete(key);
    else this.holds.set(key, keep);
  }
}
