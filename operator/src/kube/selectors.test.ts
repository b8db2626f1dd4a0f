import { describe, expect, it } from 'vitest';
import {
  formatLabelSelector,
  matchesLabels,
  parseLabelSelector,
  requirementsOf,
  toRequirements,
} from './selectors.js';

const labels = { app: 'bolide', role: 'broker', 'bolide.dev/cluster': 'c1' };

describe('label selectors', () => {
  it.each([
    ['', true],
    ['app=bolide', true],
    ['app==bolide', true],
    ['app=other', false],
    ['app!=other', true],
    ['app!=bolide', false],
    ['missing!=x', true],
    ['role in (broker,namesrv)', true],
    ['role in (namesrv)', false],
    ['role notin (namesrv, x)', true],
    ['missing notin (a)', true],
    ['bolide.dev/cluster', true],
    ['!bolide.dev/cluster', false],
    ['!missing', true],
    ['missing', false],
    ['app=bolide,role in (broker, namesrv),!missing', true],
    ['app = bolide , role=namesrv', false],
  ])('%j matches: %s', (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it('reads structured selectors the way the API server does', () => {
    const reqs = requirementsOf({
      matchLabels: { app: 'bolide' },
      matchExpressions: [
        { key: 'role', operator: 'In', values: ['broker'] },
        { key: 'gone', operator: 'DoesNotExist' },
      ],
    });
    expect(matchesLabels(reqs, labels)).toBe(true);
    expect(matchesLabels(reqs, { app: 'bolide' })).toBe(false);
    expect(matchesLabels(requirementsOf({}), {})).toBe(true);
  });

  it('formats to the query string form and parses back to the same meaning', () => {
    const s = formatLabelSelector({
      matchLabels: { app: 'bolide' },
      matchExpressions: [
        { key: 'role', operator: 'NotIn', values: ['a', 'b'] },
        { key: 'x', operator: 'Exists' },
        { key: 'y', operator: 'DoesNotExist' },
      ],
    });
    expect(s).toBe('app=bolide,role notin (a,b),x,!y');
    expect(toRequirements(s)).toEqual(toRequirements(formatLabelSelector(s)));
  });

  it.each(['app=(x', 'app)', 'a,,b', 'app=bad value', 'in (a)', '-bad-=x', 'app in (a b)'])(
    'rejects %j with a message naming the selector',
    (selector) => {
      expect(() => parseLabelSelector(selector)).toThrow(/selector/);
    },
  );

  it('rejects structured selectors with missing or extra values', () => {
    expect(() => requirementsOf({ matchExpressions: [{ key: 'a', operator: 'In' }] })).toThrow(
      /needs values/,
    );
    expect(() =>
      requirementsOf({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
    ).toThrow(/takes no values/);
  });
});
