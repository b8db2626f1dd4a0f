// Sample CRs for the desired, status, controller and autoscale unit tests (not imported by product code).
import type { BrokerCluster, ConsumerGroup, Topic } from './index.js';

export function sampleCluster(overrides: Partial<BrokerCluster['spec']> = {}): BrokerCluster {
  return {
    apiVersion: 'bolide.dev/v1alpha1',
    kind: 'BrokerCluster',
    metadata: { name: 'orders', namespace: 'shop', uid: 'uid-orders', generation: 3 },
    spec: { ...overrides },
  };
}

export function sampleTopic(overrides: Partial<Topic['spec']> = {}, name = 'payments'): Topic {
  return {
    apiVersion: 'bolide.dev/v1alpha1',
    kind: 'Topic',
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, generation: 1 },
    spec: { clusterRef: { name: 'orders' }, ...overrides },
  };
}

export function sampleGroup(overrides: Partial<ConsumerGroup['spec']> = {}, name = 'billing'): ConsumerGroup {
  return {
    apiVersion: 'bolide.dev/v1alpha1',
    kind: 'ConsumerGroup',
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, generation: 1 },
    spec: { clusterRef: { name: 'orders' }, ...overrides },
  };
}
