// Reconcilers: the order of steps and when to requeue. They talk to interfaces only (ports.ts).
export * from './broker-cluster-controller.js';
export * from './broker-resource.js';
export * from './consumer-group-controller.js';
export * from './endpoints.js';
export * from './ports.js';
export * from './rocketmq-admin.js';
export * from './rollout.js';
export * from './status-diff.js';
export * from './topic-controller.js';
