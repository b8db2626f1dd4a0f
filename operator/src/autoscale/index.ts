// Autoscaling of consumer workloads from lag (design.md §5 Autoscaler): the pure decision, lag
// summaries, the reconciler, the Alertmanager webhook handler, metrics, and the RocketMQ and /scale
// adapters main.ts wires in.
export { readAlertToken } from './alert-token.js';
export { type AlertHandlerOptions, AlertRequestError, alertHandler, groupKeysFromAlerts } from './alerts.js';
export {
  type AutoscaleObserver,
  type Autoscaler,
  type AutoscalerDeps,
  createAutoscaler,
  type LagReader,
  type ScaleTarget,
  type TargetRef,
} from './autoscaler.js';
export {
  ConsumeStatsReader,
  type ConsumeStatsReaderOptions,
  parseConsumeStats,
} from './consume-stats-reader.js';
export {
  type AutoscalePolicy,
  type Decision,
  decide,
  grownQueues,
  type Observation,
  policyOf,
  type QueueGrowth,
  type ScaleChange,
  type ScaleState,
  type TopicObservation,
} from './decide.js';
export {
  type LagSummary,
  lagTopics,
  type QueueProgress,
  RETRY_TOPIC_PREFIX,
  retryTopicOf,
  summarizeLag,
  type TopicLag,
} from './lag.js';
export { AutoscaleMetrics } from './metrics.js';
export { kubeScaleTarget, type ScaleApi } from './scale-target.js';
