// Public surface of the remoting layer: TCP server and client over the protocol codec.

export {
  Channel,
  type ChannelEvents,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_IN_FLIGHT_REQUESTS,
  DEFAULT_MAX_WRITE_BUFFER_BYTES,
} from './channel.js';
export {
  parseAddress,
  RemotingClient,
  type RemotingClientEvents,
  type RemotingClientOptions,
} from './client.js';
export {
  RemotingClosedError,
  RemotingConnectError,
  RemotingError,
  RemotingSendError,
  RemotingTimeoutError,
} from './errors.js';
export {
  formatAddress,
  RemotingServer,
  type RemotingServerEvents,
  type RemotingServerOptions,
} from './server.js';
export type {
  ChannelOptions,
  CloseReason,
  Processor,
  RemotingLogger,
  RequestContext,
} from './types.js';
