// Rates and counters for GET_BROKER_RUNTIME_INFO and VIEW_BROKER_STATS_DATA (protocol.md §3.8):
// per-second buckets over the last 10 minutes, plus "today"/"yesterday morning" totals.
// Pure state; the caller passes `now`.

const WINDOW_SECONDS = 600;

/** Counts events per second over a sliding 600 s window. */
export class RateWindow {
  private readonly buckets = new Float64Array(WINDOW_SECONDS + 1);
  private readonly stamps = new Float64Array(WINDOW_SECONDS + 1).fill(-1);
  total = 0;

  add(count: number, now: number): void {
    const second = Math.floor(now / 1000);
    const slot = second % this.buckets.length;
    if (this.stamps[slot] !== second) {
      this.stamps[slot] = second;
      this.buckets[slot] = 0;
    }
    this.buckets[slot] += count;
    this.total += count;
  }

  /** Average events per second over the last `seconds` whole seconds. */
  rate(seconds: number, now: number): number {
    const current = Math.floor(now / 1000);
    let sum = 0;
    for (let s = current - seconds; s < current; s++) {
      const slot = ((s % this.buckets.length) + this.buckets.length) % this.buckets.length;
      if (this.stamps[slot] === s) sum += this.buckets[slot];
    }
    return sum / seconds;
  }

  /** The "10 s 60 s 600 s" string of the runtime info (never empty fields). */
  tpsString(now: number): string {
    return [10, 60, 600].map((w) => this.rate(w, now).toFixed(2)).join(' ');
  }
}

/** Totals at the start of today and yesterday (local midnight), as the Java broker reports them. */
export class DailyCounter {
  private day = -1;
  todayMorning = 0;
  yesterdayMorning = 0;

  /** Call with the running total before reading the morning values. */
  observe(total: number, now: number): void {
    const d = new Date(now);
    const day = new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
    if (this.day === -1) {
      this.day = day;
      this.todayMorning = total;
      this.yesterdayMorning = total;
    } else if (day !== this.day) {
      this.yesterdayMorning = this.todayMorning;
      this.todayMorning = total;
      this.day = day;
    }
  }
}

interface KeyedStats {
  nums: RateWindow;
  size: RateWindow;
}

/** Per-key put/get statistics (TOPIC_PUT_NUMS, GROUP_GET_NUMS, …) and broker totals. */
export class BrokerStats {
  readonly put = new RateWindow();
  readonly get = new RateWindow();
  /** Pull requests answered (found or not), for getTotalTps. */
  readonly pullRequests = new RateWindow();
  readonly pullFound = new RateWindow();
  readonly pullMiss = new RateWindow();
  readonly putDaily = new DailyCounter();
  readonly getDaily = new DailyCounter();
  private readonly keyed = new Map<string, KeyedStats>();
  putSizeTotal = 0;
  putTimesTotal = 0;
  putLatencyMaxMs = 0;

  private statsOf(name: string, key: string): KeyedStats {
    const id = `${name}\u0000${key}`;
    let s = this.keyed.get(id);
    if (!s) {
      s = { nums: new RateWindow(), size: new RateWindow() };
      this.keyed.set(id, s);
    }
    return s;
  }

  recordPut(topic: string, count: number, bytes: number, latencyMs: number, now: number): void {
    this.put.add(count, now);
    this.putSizeTotal += bytes;
    this.putTimesTotal += 1;
    if (latencyMs > this.putLatencyMaxMs) this.putLatencyMaxMs = latencyMs;
    const s = this.statsOf('TOPIC_PUT', topic);
    s.nums.add(count, now);
    s.size.add(bytes, now);
    this.statsOf('BROKER_PUT', '').nums.add(count, now);
  }

  recordGet(topic: string, group: string, count: number, bytes: number, now: number): void {
    this.get.add(count, now);
    this.pullRequests.add(1, now);
    if (count > 0) this.pullFound.add(1, now);
    else this.pullMiss.add(1, now);
    const s = this.statsOf('GROUP_GET', `${topic}@${group}`);
    s.nums.add(count, now);
    s.size.add(bytes, now);
    this.statsOf('BROKER_GET', '').nums.add(count, now);
  }

  /** VIEW_BROKER_STATS_DATA: {statsMinute, statsHour, statsDay} or undefined when unknown. */
  view(statsName: string, statsKey: string, now: number) {
    const map: Record<string, [string, 'nums' | 'size']> = {
      TOPIC_PUT_NUMS: ['TOPIC_PUT', 'nums'],
      TOPIC_PUT_SIZE: ['TOPIC_PUT', 'size'],
      GROUP_GET_NUMS: ['GROUP_GET', 'nums'],
      GROUP_GET_SIZE: ['GROUP_GET', 'size'],
      BROKER_PUT_NUMS: ['BROKER_PUT', 'nums'],
      BROKER_GET_NUMS: ['BROKER_GET', 'nums'],
    };
    const target = map[statsName];
    if (!target) return undefined;
    const key = statsName.startsWith('BROKER_') ? '' : statsKey;
    const s = this.keyed.get(`${target[0]}\u0000${key}`);
    if (!s) return undefined;
    const w = s[target[1]];
    const minute = { sum: Math.round(w.rate(60, now) * 60), tps: w.rate(60, now), avgpt: 0 };
    const hour = { sum: Math.round(w.rate(600, now) * 600), tps: w.rate(600, now), avgpt: 0 };
    const day = { sum: w.total, tps: w.rate(600, now), avgpt: 0 };
    return { statsMinute: minute, statsHour: hour, statsDay: day };
  }

  /** Pull rate of a group over the last minute (consumeTps of GET_CONSUME_STATS). */
  groupGetTps(topic: string, group: string, now: number): number {
    const s = this.keyed.get(`GROUP_GET\u0000${topic}@${group}`);
    return s ? s.nums.rate(60, now) : 0;
  }
}
