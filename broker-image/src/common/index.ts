export {
  type BrokerConfig,
  brokerConfigSchema,
  IGNORED_BROKER_KEYS,
  loadBrokerConfig,
} from './broker-config.js';
export {
  ConfigError,
  type ConfigOrigin,
  type ConfigSchema,
  type ConfigSources,
  checkAddressList,
  configEntries,
  ENV_PREFIX,
  type FieldSpec,
  type LoadedConfig,
  type LoadOptions,
  loadConfig,
  splitAddressList,
} from './config.js';
export {
  type HealthReport,
  type HttpEndpoint,
  type HttpEndpointOptions,
  startHttpEndpoint,
} from './http-endpoint.js';
export {
  createLogger,
  isLogLevel,
  LOG_LEVELS,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  type LogSink,
  silentLogger,
} from './logger.js';
export {
  IGNORED_NAMESRV_KEYS,
  loadNamesrvConfig,
  type NamesrvConfig,
  namesrvConfigSchema,
} from './namesrv-config.js';
export { formatProperties, type PropertyEntry, parseProperties, propertiesToMap } from './properties.js';
