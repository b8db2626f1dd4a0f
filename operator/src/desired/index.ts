// Pure builders: what the cluster should contain for a CR. No I/O, no clock, no randomness.
export * from './broker-cluster.js';
export * from './broker-conf.js';
export * from './broker-settings.js';
export * from './configmap.js';
export * from './hash.js';
export type * from './k8s-types.js';
export * from './metadata.js';
export * from './names.js';
export * from './pdb.js';
export * from './problems.js';
export * from './services.js';
export * from './statefulsets.js';
export * from './topic-queues.js';
