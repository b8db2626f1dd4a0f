// Shapes shared by the remoting server and client.

import type { Logger } from '../common/index.js';
import type { RemotingCommand } from '../protocol/index.js';
import type { Channel } from './channel.js';

/** Where remoting reports what it does to connections; common's `Logger` fits. */
export type RemotingLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** What a processor gets besides the request: the connection it came on. */
export interface RequestContext {
  /** The connection; keep it to send requests to this peer later (e.g. NOTIFY_CONSUMER_IDS_CHANGED). */
  readonly channel: Channel;
  /** Stable id of the connection, unique within the process ("c1", "c2", …). */
  readonly channelId: string;
  /** Peer address as "ip:port" (IPv4-mapped IPv6 kept as Node reports it). */
  readonly remoteAddress: string;
  /** Sends a request to the same peer and waits for its response. */
  invoke(request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand>;
  /** Sends a oneway request to the same peer. */
  invokeOneway(request: RemotingCommand): void;
  /**
   * Stops counting this request towards the connection's in-flight limit (read backpressure).
   * Call it before parking a request for a long time (a long-polled pull), so held pulls do not
   * stall heartbeats and offset commits on the same connection.
   */
  detachFromFlowControl(): void;
}

/**
 * Handles one request. Resolve with the response (opaque, flag and serialization type are set
 * by remoting), or null for no response. Oneway requests' results are discarded. A rejection
 * becomes SYSTEM_ERROR with the error message as remark.
 */
export type Processor = (
  request: RemotingCommand,
  context: RequestContext,
) => Promise<RemotingCommand | null>;

/** Why a connection was closed (passed to close listeners and logged). */
export type CloseReason =
  | 'peer' // the peer closed or reset the connection
  | 'local' // closed by our own code (close(), server shutdown)
  | 'idle' // no traffic in either direction for idleTimeoutMs
  | 'frame-too-large' // a frame above maxFrameLength
  | 'protocol-error' // bytes that are not a valid frame/header
  | 'write-buffer-full' // the peer does not read its responses
  | 'error'; // socket error

export interface ChannelOptions {
  /** Largest frame accepted or sent, length field included. Default 16 MiB. */
  maxFrameLength?: number;
  /** Close after this long without reads or writes. Default 120 000 (Java); 0 disables. */
  idleTimeoutMs?: number;
  /** Pause reading while this many requests from the peer are being processed. Default 1024. */
  maxInFlightRequests?: number;
  /** Close the connection when more than this many bytes wait to be written. Default 64 MiB. */
  maxWriteBufferBytes?: number;
  /**
   * Frames handed out per turn of the event loop; the rest of a large read waits for a later
   * turn, after the answers to the first ones went out. Default 16; 0 means no limit.
   */
  maxFramesPerTurn?: number;
  logger?: RemotingLogger;
}
