import { describe, expect, it } from 'vitest';
import { type HeldPull, PullHoldTable } from './pull-hold-table.js';

function pull(over: Partial<HeldPull<string>> = {}): HeldPull<string> {
  return {
    topic: 'T',
    queueId: 0,
    offset: 5n,
    deadline: 15_000,
    channelId: 'c1',
    matches: () => true,
    payload: 'p',
    ...over,
  };
}

describe('PullHoldTable', () => {
  it('wakes a held pull when a record arrives past its offset on its queue', () => {
    const t = new PullHoldTable<string>();
    t.hold(pull({ payload: 'a' }));
    t.hold(pull({ payload: 'other-queue', queueId: 1 }));
    expect(t.size).toBe(2);
    expect(t.onArrival('T', 0, 5n, 0n, 100)).toEqual([]); // not past the requested offset
    expect(t.onArrival('X', 0, 9n, 0n, 100)).toEqual([]);
    const woken = t.onArrival('T', 0, 6n, 0n, 100);
    expect(woken.map((p) => p.payload)).toEqual(['a']);
    expect(t.size).toBe(1);
    expect(t.onArrival('T', 0, 7n, 0n, 100)).toEqual([]);
  });

  it('keeps a pull whose subscription does not match the new tag', () => {
    const t = new PullHoldTable<string>();
    t.hold(pull({ matches: (code) => code === 42n }));
    expect(t.onArrival('T', 0, 6n, 7n, 100)).toEqual([]);
    expect(t.size).toBe(1);
    expect(t.onArrival('T', 0, 7n, 42n, 100)).toHaveLength(1);
    expect(t.size).toBe(0);
  });

  it('answers expired holds and queues that grew in the periodic check', () => {
    const t = new PullHoldTable<string>();
    t.hold(pull({ payload: 'expires', deadline: 1000 }));
    t.hold(pull({ payload: 'grew', queueId: 1, deadline: 60_000, matches: () => false }));
    t.hold(pull({ payload: 'waits', queueId: 2, deadline: 60_000 }));
    const max = (_t: string, q: number) => (q === 1 ? 6n : 5n);
    expect(t.due(999, max).map((p) => p.payload)).toEqual(['grew']);
    expect(t.due(1000, max).map((p) => p.payload)).toEqual(['expires']);
    expect(t.size).toBe(1);
    expect(t.nextDeadline()).toBe(60_000);
  });

  it('drops the holds of a closed connection', () => {
    const t = new PullHoldTable<string>();
    t.hold(pull({ channelId: 'c1', payload: 'a' }));
    t.hold(pull({ channelId: 'c2', payload: 'b' }));
    expect(t.removeChannel('c1').map((p) => p.payload)).toEqual(['a']);
    expect(t.size).toBe(1);
    expect(t.drain().map((p) => p.payload)).toEqual(['b']);
    expect(t.size).toBe(0);
    expect(t.nextDeadline()).toBeUndefined();
  });
});
