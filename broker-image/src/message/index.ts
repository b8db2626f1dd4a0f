// RocketMQ's message format pieces shared by the store (disk), the broker and the client (wire):
// the properties string, tag hashes, born/store hosts and offset message ids. Pure functions only.
export {
  checkHost,
  formatHost,
  type HostAddress,
  HostAddressError,
  hostBytes,
  hostEncodedLength,
  isIPv6Host,
  normalizeAddress,
  parseHost,
  readHost,
  writeHost,
} from './host-address.js';
export { javaHashOfUtf8, javaStringHashCode, tagsCodeOf } from './java-hash.js';
export { createOffsetMessageId, MessageIdError, parseOffsetMessageId } from './message-id.js';
export {
  checkProperties,
  decodeProperties,
  encodeProperties,
  KEY_SEPARATOR,
  MessageProperty,
  NAME_VALUE_SEPARATOR,
  PROPERTY_SEPARATOR,
  splitKeys,
} from './properties.js';
