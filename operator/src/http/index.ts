export { OperatorMetrics, type OperatorMetricsOptions, type ReconcileOutcomeLabel } from './metrics.js';
export {
  type AlertHandler,
  type AlertmanagerWebhook,
  OperatorHttpServer,
  type OperatorHttpServerOptions,
} from './server.js';
