// Public surface of the pure RocketMQ remoting codec. No sockets, files or timers here.

export { binaryHeaderLength, decodeBinaryHeader, writeBinaryHeader } from './binary-header.js';
export {
  type BodyParseOptions,
  encodeBodyJson,
  parseBodyJson,
  parseObjectKey,
  writeBodyJson,
} from './body-json.js';
export { decodeCommand, encodeCommand, encodeCommandParts } from './codec.js';
export {
  BOLIDE_VERSION,
  BrokerRequestCode,
  LANGUAGES,
  type LanguageName,
  MQVersion,
  NamesrvRequestCode,
  RemotingFlag,
  RequestCode,
  type RequestCodeName,
  ResponseCode,
  type ResponseCodeName,
  requestCodeName,
  SerializeType,
  type SerializeTypeName,
} from './codes.js';
export {
  type CommandInit,
  createErrorResponse,
  createRequest,
  createResponse,
  type ExtFields,
  isOneway,
  isResponse,
  markOneway,
  type RemotingCommand,
} from './command.js';
export { BodyParseError, FrameTooLargeError, HeaderFieldError, ProtocolError } from './errors.js';
export { DEFAULT_MAX_FRAME_LENGTH, FrameDecoder, type FrameDecoderOptions } from './frame-decoder.js';
export {
  type DecodedHeader,
  decodeHeader,
  encodeHeader,
  type HeaderFieldKind,
  type HeaderFieldSpec,
  type HeaderSpec,
  type HeaderValue,
  optionalBoolean,
  optionalInt,
  optionalLong,
  optionalString,
  parseBooleanField,
  parseIntField,
  parseLongField,
  requiredBoolean,
  requiredInt,
  requiredLong,
  requiredString,
} from './headers.js';
export { decodeJsonHeader, encodeJsonHeader, normalizeExtFields } from './json-header.js';
export type { BrokerData, QueueData } from './route-data.js';
