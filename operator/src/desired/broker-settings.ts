// What the operator sends to the brokers for a Topic or a ConsumerGroup (admin codes 17 and 200),
// and where: the masters of the referenced cluster. Pure; the shapes match the admin client's.
import {
  type BrokerCluster,
  type ConsumerGroup,
  defaultBrokerCluster,
  defaultConsumerGroup,
  defaultTopic,
  effectiveQueues,
  TOPIC_PERM_BITS,
  type Topic,
} from '../api/index.js';
import { brokerGroupName, brokerPodAddress, MASTER_BROKER_ID, nameServerAddresses } from './names.js';

/** RocketMQ TopicConfig as UPDATE_AND_CREATE_TOPIC takes it. */
export interface BrokerTopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: 'SINGLE_TAG';
  topicSysFlag: number;
  order: boolean;
}

/** RocketMQ SubscriptionGroupConfig as UPDATE_AND_CREATE_SUBSCRIPTIONGROUP takes it. */
export interface BrokerGroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  consumeBroadcastEnable: boolean;
  retryQueueNums: number;
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
  notifyConsumerIdsChangedEnable: boolean;
}

/** Same queue count for reading and writing; FIFO topics carry the order flag. */
export function topicConfig(topic: Topic): BrokerTopicConfig {
  const t = defaultTopic(topic);
  const queues = effectiveQueues(t);
  return {
    topicName: t.spec.topicName,
    readQueueNums: queues,
    writeQueueNums: queues,
    perm: TOPIC_PERM_BITS[t.spec.perm],
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: t.spec.messageType === 'FIFO',
  };
}

/** RocketMQ's defaults, with broadcast consumption allowed only for Broadcasting groups. */
export function groupConfig(group: ConsumerGroup): BrokerGroupConfig {
  const g = defaultConsumerGroup(group);
  return {
    groupName: g.spec.groupName,
    consumeEnable: true,
    consumeFromMinEnable: true,
    consumeBroadcastEnable: g.spec.consumeMode === 'Broadcasting',
    retryQueueNums: 1,
    retryMaxTimes: g.spec.retryMaxTimes,
    brokerId: MASTER_BROKER_ID,
    whichBrokerWhenConsumeSlowly: 1,
    notifyConsumerIdsChangedEnable: true,
  };
}

export interface BrokerEndpoint {
  brokerName: string;
  /** host:port of the broker's remoting port. */
  address: string;
}

/** Where a cluster's admin calls go. */
export interface ClusterEndpoints {
  nameServers: string[];
  masters: BrokerEndpoint[];
}

/** The masters (ordinal 0 of every group) and name servers of a cluster, by their stable DNS names. */
export function clusterEndpoints(cluster: BrokerCluster): ClusterEndpoints {
  const c = defaultBrokerCluster(cluster);
  const name = c.metadata.name ?? '';
  const namespace = c.metadata.namespace ?? '';
  return {
    nameServers: nameServerAddresses(name, namespace, c.spec.nameServers.replicas),
    masters: Array.from({ length: c.spec.brokers.groups }, (_, g) => ({
      brokerName: brokerGroupName(name, g),
      address: brokerPodAddress(name, namespace, g, MASTER_BROKER_ID),
    })),
  };
}
