// The bolide.dev/v1alpha1 API as TypeScript: types, enums and defaulting that mirror crds/*.yaml.
export * from './broker-cluster.js';
export * from './common.js';
export * from './consumer-group.js';
export * from './topic.js';
