// Which broker groups may take a new spec now. A StatefulSet rolls its own pods one at a time, each
// after the previous one is ready; across groups the operator adds the same rule: a changed group is
// only updated when every earlier group is settled (rolled out and ready), so at most one broker pod
// of the whole cluster restarts at a time.
import { isSettled, type WorkloadState } from '../status/index.js';

export interface GroupPlan {
  /** Groups whose objects are applied this pass. */
  apply: number[];
  /** Groups with a pending change that waits for an earlier group. */
  held: number[];
}

export function planGroupRollout(groups: readonly { index: number; state: WorkloadState }[]): GroupPlan {
  const apply: number[] = [];
  const held: number[] = [];
  let busy = false;
  for (const { index, state } of [...groups].sort((a, b) => a.index - b.index)) {
    if (!state.exists) {
      // A new group disturbs no running broker; create it at once.
      apply.push(index);
    } else if (state.specApplied) {
      // Re-applying the same spec is a no-op (or repairs drift); it still blocks later changes until settled.
      apply.push(index);
      if (!isSettled(state)) busy = true;
    } else if (busy) {
      held.push(index);
    } else {
      apply.push(index);
      busy = true;
    }
  }
  return { apply, held };
}
