import { describe, expect, it } from 'vitest';
import { findCondition, listForHumans, setCondition, setConditions } from './conditions.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:05:00Z';

describe('setCondition', () => {
  it('adds a new type with lastTransitionTime = now and the generation', () => {
    const list = setCondition(
      undefined,
      { type: 'Ready', status: 'False', reason: 'A', message: 'a' },
      4,
      T0,
    );
    expect(list).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'A',
        message: 'a',
        lastTransitionTime: T0,
        observedGeneration: 4,
      },
    ]);
  });

  it('keeps lastTransitionTime while the status stays, but takes the new reason, message and generation', () => {
    const first = setCondition(
      undefined,
      { type: 'Ready', status: 'False', reason: 'A', message: 'a' },
      1,
      T0,
    );
    const second = setCondition(first, { type: 'Ready', status: 'False', reason: 'B', message: 'b' }, 2, T1);
    expect(second[0]).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'B',
      message: 'b',
      lastTransitionTime: T0,
      observedGeneration: 2,
    });
    expect(first[0].reason).toBe('A');
  });

  it('moves lastTransitionTime when the status flips, and keeps other types and their order', () => {
    const start = setConditions(
      undefined,
      [
        { type: 'Ready', status: 'False', reason: 'A', message: '' },
        { type: 'Degraded', status: 'False', reason: 'OK', message: '' },
      ],
      1,
      T0,
    );
    const next = setCondition(start, { type: 'Ready', status: 'True', reason: 'Up', message: '' }, 1, T1);
    expect(next.map((c) => c.type)).toEqual(['Ready', 'Degraded']);
    expect(findCondition(next, 'Ready')?.lastTransitionTime).toBe(T1);
    expect(findCondition(next, 'Degraded')?.lastTransitionTime).toBe(T0);
  });
});

describe('listForHumans', () => {
  it('cuts long lists with a count', () => {
    expect(listForHumans(['a', 'b'])).toBe('a, b');
    expect(listForHumans(['a', 'b', 'c', 'd'], 2)).toBe('a, b and 2 more');
  });
});
