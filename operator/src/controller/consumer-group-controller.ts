// ConsumerGroup: UPDATE_AND_CREATE_SUBSCRIPTIONGROUP on every master; DELETE_SUBSCRIPTIONGROUP
// (with its offsets) on each when deleted with deletionPolicy Delete.
import {
  type ConsumerGroup,
  type ConsumerGroupStatus,
  defaultConsumerGroup,
  type GroupBrokerResult,
  isRocketMqName,
} from '../api/index.js';
import { groupConfig } from '../desired/index.js';
import type { SyncStatus } from '../status/index.js';
import {
  type BrokerResourceDeps,
  type BrokerResourceKind,
  createBrokerResourceReconciler,
} from './broker-resource.js';
import type { Reconcile } from './ports.js';

export const consumerGroupKind: BrokerResourceKind<ConsumerGroup> = {
  describe: (group) => `subscription group ${defaultConsumerGroup(group).spec.groupName}`,
  validate: (group) => {
    const name = defaultConsumerGroup(group).spec.groupName;
    return isRocketMqName(name)
      ? undefined
      : `spec.groupName ${JSON.stringify(name)} is not a RocketMQ group name (1-127 of letters, digits, %, |, _ and -)`;
  },
  declare: (admin, broker, group) => admin.createOrUpdateGroup(broker, groupConfig(group)),
  remove: (admin, broker, group) => admin.deleteGroup(broker, defaultConsumerGroup(group).spec.groupName),
  status: (group, sync: SyncStatus): ConsumerGroupStatus & Record<string, unknown> => {
    const brokers: GroupBrokerResult[] = sync.brokers;
    const status: ConsumerGroupStatus & Record<string, unknown> = {
      conditions: sync.conditions,
      groupName: defaultConsumerGroup(group).spec.groupName,
      brokers,
    };
    if (sync.observedGeneration !== undefined) status.observedGeneration = sync.observedGeneration;
    return status;
  },
};

export function createConsumerGroupReconciler(deps: BrokerResourceDeps<ConsumerGroup>): Reconcile {
  return createBrokerResourceReconciler(consumerGroupKind, deps);
}
