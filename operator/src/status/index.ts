// Pure status computation: (CR, observed children, old status) → new status. No I/O, no clock.
export * from './broker-cluster.js';
export * from './broker-sync.js';
export * from './conditions.js';
export * from './topic-queues.js';
export * from './workload.js';
