// The operator's only door to the Kubernetes API (and the only importer of @kubernetes/client-node).
export {
  type Applier,
  type ApplyOptions,
  type DeleteOptions,
  FIELD_MANAGER,
  KubeClient,
  type KubeClientOptions,
  type ListOptions,
  type ListWatcher,
  type PatchType,
  type Scale,
  type StatusWriter,
  type WatchOptions,
} from './client.js';
export { type Clock, ManualClock, sleep, systemClock } from './clock.js';
export {
  ApiError,
  type ApiStatus,
  apiErrorFrom,
  ConflictError,
  GoneError,
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  TerminalError,
} from './errors.js';
export {
  EventRecorder,
  type EventRecorderOptions,
  type Events,
  type EventType,
  rfc3339,
  rfc3339Micro,
} from './events.js';
export {
  enqueueMapped,
  enqueueObject,
  enqueueOwner,
  ignoreStatusOnlyUpdates,
  type KeySink,
  ownerKey,
} from './handlers.js';
export { type EventHandler, Informer, type InformerOptions, type ObjectCache } from './informer.js';
export { type LeaderElectionOptions, LeaderElector, type Lease } from './leader.js';
export { jsonLogger, type Logger, silentLogger } from './log.js';
export {
  ControllerManager,
  type ControllerSpec,
  type ManagerObserver,
  type ManagerOptions,
} from './manager.js';
export {
  controllerOf,
  deepFreeze,
  groupOf,
  type KubeList,
  type KubeObject,
  type ObjectMeta,
  type OwnerReference,
  objectKey,
  splitKey,
  type WatchEvent,
} from './objects.js';
export {
  defaultRateLimiter,
  ExponentialBackoffLimiter,
  MaxOfLimiter,
  type RateLimiter,
  TokenBucketLimiter,
} from './rate-limit.js';
export { allows, diffRules, expandRules, OPERATOR_RBAC_RULES, type PolicyRule } from './rbac.js';
export {
  type ReconcileContext,
  ReconcileLoop,
  type ReconcileLoopOptions,
  type ReconcileObserver,
  type ReconcileOutcome,
  type ReconcileResult,
  type Reconciler,
} from './reconcile-loop.js';
export { apiVersionOf, BuiltinResources, objectPath, type ResourceType, resourcePath } from './resources.js';
export {
  formatLabelSelector,
  type LabelRequirement,
  type LabelSelector,
  matchesLabels,
  parseLabelSelector,
  toRequirements,
} from './selectors.js';
export { HttpsTransport, type KubeRequest, type KubeTransport, type StreamRequest } from './transport.js';
export { WorkQueue, type WorkQueueOptions } from './workqueue.js';
