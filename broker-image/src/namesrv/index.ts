export { KvConfig, loadKvConfig, ORDER_TOPIC_CONFIG, saveKvConfig } from './kv-config.js';
export { NameServer, type NameServerOptions } from './name-server.js';
export { decodeRegisterBody, type RegisterBrokerBody } from './register-body.js';
export {
  type BrokerData,
  type BrokerRegistration,
  type ClusterInfo,
  type DataVersion,
  type QueueData,
  type RegisteredTopicConfig,
  type RegisterResult,
  RouteTable,
  type TopicRouteData,
} from './route-table.js';
