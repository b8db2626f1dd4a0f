import { describe, expect, it } from 'vitest';
import { BrokerStats, DailyCounter, RateWindow } from './broker-stats.js';

describe('RateWindow', () => {
  it('averages whole past seconds over 10, 60 and 600 s windows', () => {
    const w = new RateWindow();
    const t0 = 1_000_000_000;
    for (let s = 0; s < 10; s++) w.add(10, t0 + s * 1000);
    const now = t0 + 10_000;
    expect(w.rate(10, now)).toBe(10);
    expect(w.rate(60, now)).toBeCloseTo(100 / 60);
    expect(w.tpsString(now)).toBe('10.00 1.67 0.17');
    expect(w.total).toBe(100);
    // Old buckets fall out of the window even when their slot is reused.
    expect(w.rate(10, now + 700_000)).toBe(0);
    expect(new RateWindow().tpsString(now)).toBe('0.00 0.00 0.00');
  });
});

describe('DailyCounter', () => {
  it('rolls today into yesterday at local midnight', () => {
    const c = new DailyCounter();
    const day1 = new Date(2024, 0, 1, 10).getTime();
    c.observe(100, day1);
    expect([c.yesterdayMorning, c.todayMorning]).toEqual([100, 100]);
    c.observe(150, day1 + 3600_000);
    expect(c.todayMorning).toBe(100);
    c.observe(200, new Date(2024, 0, 2, 0, 1).getTime());
    expect([c.yesterdayMorning, c.todayMorning]).toEqual([100, 200]);
  });
});

describe('BrokerStats', () => {
  it('serves TOPIC_PUT_NUMS and GROUP_GET_NUMS views', () => {
    const s = new BrokerStats();
    const t = 5_000_000;
    s.recordPut('T', 3, 300, 1, t);
    s.recordGet('T', 'G', 2, 200, t);
    const later = t + 1000;
    expect(s.view('TOPIC_PUT_NUMS', 'T', later)!.statsDay.sum).toBe(3);
    expect(s.view('GROUP_GET_NUMS', 'T@G', later)!.statsMinute.sum).toBe(2);
    expect(s.view('TOPIC_PUT_NUMS', 'nope', later)).toBeUndefined();
    expect(s.view('NO_SUCH_STATS', 'T', later)).toBeUndefined();
    expect(s.groupGetTps('T', 'G', later)).toBeCloseTo(2 / 60);
  });
});
