import { describe, expect, it } from 'vitest';
import type { WorkloadState } from '../status/index.js';
import { planGroupRollout } from './rollout.js';

const settled: WorkloadState = {
  name: 'g',
  desiredReplicas: 2,
  exists: true,
  specApplied: true,
  rolledOut: true,
  readyReplicas: 2,
  updatedReplicas: 2,
  revisionPending: false,
  ready: true,
};
const outdated = { ...settled, specApplied: false, rolledOut: false };
const rolling = { ...settled, rolledOut: false, revisionPending: true, ready: false, readyReplicas: 1 };
const missing = {
  ...settled,
  exists: false,
  specApplied: false,
  rolledOut: false,
  ready: false,
  readyReplicas: 0,
};

const plan = (...states: WorkloadState[]) =>
  planGroupRollout(states.map((state, index) => ({ index, state })));

describe('planGroupRollout', () => {
  it('creates every missing group at once', () => {
    expect(plan(missing, missing, missing)).toEqual({ apply: [0, 1, 2], held: [] });
  });

  it('changes the first outdated group and holds the later ones', () => {
    expect(plan(outdated, outdated, outdated)).toEqual({ apply: [0], held: [1, 2] });
  });

  it('waits while an earlier group is still rolling or not ready', () => {
    expect(plan(rolling, outdated)).toEqual({ apply: [0], held: [1] });
    expect(plan({ ...settled, ready: false }, outdated)).toEqual({ apply: [0], held: [1] });
  });

  it('moves on to the next group once the earlier ones are settled', () => {
    expect(plan(settled, outdated, outdated)).toEqual({ apply: [0, 1], held: [2] });
    expect(plan(settled, settled, settled)).toEqual({ apply: [0, 1, 2], held: [] });
  });

  it('a new group does not hold a change of an existing one', () => {
    expect(plan(missing, outdated)).toEqual({ apply: [0, 1], held: [] });
  });
});
