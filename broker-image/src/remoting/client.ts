// The remoting client: one lazily opened connection per "host:port", requests correlated by
// opaque, and a processor table for requests the server initiates (NOTIFY_CONSUMER_IDS_CHANGED,
// CHECK_TRANSACTION_STATE, GET_CONSUMER_RUNNING_INFO, …).

import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { createLogger } from '../common/index.js';
import type { RemotingCommand, SerializeTypeName } from '../protocol/index.js';
import { Channel } from './channel.js';
import { RemotingConnectError } from './errors.js';
import { ProcessorTable } from './processor-table.js';
import { formatAddress } from './server.js';
import type { ChannelOptions, CloseReason, Processor, RemotingLogger } from './types.js';

export interface RemotingClientOptions extends ChannelOptions {
  /** Connect timeout in ms (also bounded by each call's own timeout). Default 3000. */
  connectTimeoutMs?: number;
  /** When set, every request this client sends uses this header serialization. */
  serializeType?: SerializeTypeName;
  /** Prefix of channel ids in logs. */
  name?: string;
}

export interface RemotingClientEvents {
  channelClose: [address: string, channel: Channel, reason: CloseReason, error: Error | undefined];
}

/** Splits "host:port" / "[v6]:port". */
export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new RemotingConnectError(`bad address "${address}", expected host:port`);
  }
  return { host, port };
}

export class RemotingClient extends EventEmitter<RemotingClientEvents> {
  private readonly options: RemotingClientOptions;
  private readonly logger: RemotingLogger;
  private readonly table: ProcessorTable;
  private readonly connections = new Map<string, Promise<Channel>>();
  /** The same connections once established, for the synchronous fast path. */
  private readonly openChannels = new Map<string, Channel>();
  private channelCounter = 0;
  private closed = false;

  constructor(options: RemotingClientOptions = {}) {
    super();
    this.options = options;
    this.logger = options.logger ?? createLogger(options.name ?? 'remoting-client');
    this.table = new ProcessorTable(this.logger);
  }

  /** Handles server-initiated requests with `code`; unknown ones get REQUEST_CODE_NOT_SUPPORTED. */
  registerProcessor(code: number, processor: Processor): void {
    this.table.register(code, processor);
  }

  setDefaultProcessor(processor: Processor | null): void {
    this.table.setDefault(processor);
  }

  /**
   * Sends `request` to `address` ("host:port"), connecting first if needed, and resolves with the
   * response. `timeoutMs` covers connecting and waiting. Rejects with RemotingConnectError,
   * RemotingTimeoutError, RemotingClosedError or RemotingSendError.
   */
  invoke(address: string, request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    if (this.options.serializeType) request.serializeTypeCurrentRPC = this.options.serializeType;
    const open = this.openChannels.get(address);
    // Hot path: an open connection needs no extra promise hop.
    if (open !== undefined && !open.closed) return open.invoke(request, timeoutMs);
    return this.invokeAfterConnect(address, request, timeoutMs);
  }

  private async invokeAfterConnect(
    address: string,
    request: RemotingCommand,
    timeoutMs: number,
  ): Promise<RemotingCommand> {
    const started = Date.now();
    const channel = await this.getChannel(address, timeoutMs);
    return channel.invoke(request, Math.max(1, timeoutMs - (Date.now() - started)));
  }

  /** Sends `request` oneway; resolves once it is queued on the connection. */
  async invokeOneway(address: string, request: RemotingCommand, connectTimeoutMs?: number): Promise<void> {
    if (this.options.serializeType) request.serializeTypeCurrentRPC = this.options.serializeType;
    const open = this.openChannels.get(address);
    const channel =
      open !== undefined && !open.closed ? open : await this.getChannel(address, connectTimeoutMs);
    channel.invokeOneway(request);
  }

  /** The open connection to `address`, opening it if needed (concurrent callers share one attempt). */
  getChannel(address: string, timeoutMs?: number): Promise<Channel> {
    if (this.closed) return Promise.reject(new RemotingConnectError('RemotingClient is closed'));
    let connection = this.connections.get(address);
    if (connection === undefined) {
      connection = this.open(address, Math.min(timeoutMs ?? Infinity, this.options.connectTimeoutMs ?? 3000));
      this.connections.set(address, connection);
      connection.catch(() => {
        if (this.connections.get(address) === connection) this.connections.delete(address);
      });
    }
    return connection;
  }

  /** Closes the connection to `address` if there is one (the next call reconnects). */
  closeChannel(address: string): void {
    const connection = this.connections.get(address);
    this.connections.delete(address);
    this.openChannels.delete(address);
    connection?.then(
      (channel) => channel.close('local'),
      () => {},
    );
  }

  /** Closes every connection; later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.connections.values()];
    this.connections.clear();
    this.openChannels.clear();
    await Promise.allSettled(all.map((c) => c.then((channel) => channel.close('local'))));
  }

  private open(address: string, timeoutMs: number): Promise<Channel> {
    let target: { host: string; port: number };
    try {
      target = parseAddress(address);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Channel>((resolve, reject) => {
      const socket: Socket = connect({ host: target.host, port: target.port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RemotingConnectError(`connect to ${address} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (error: Error) => {
        clearTimeout(timer);
        reject(new RemotingConnectError(`connect to ${address} failed: ${error.message}`));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        const id = `${this.options.name ?? 'client'}-${++this.channelCounter}`;
        const channel = new Channel(id, socket, this.table.dispatch, {
          ...this.options,
          logger: this.logger,
          remoteAddress: address,
          localAddress: formatAddress(socket.localAddress, socket.localPort),
        });
        const connection = this.connections.get(address);
        this.openChannels.set(address, channel);
        channel.once('close', (reason, error) => {
          if (this.connections.get(address) === connection) this.connections.delete(address);
          if (this.openChannels.get(address) === channel) this.openChannels.delete(address);
          this.emit('channelClose', address, channel, reason, error);
        });
        if (this.closed) channel.close('local');
        resolve(channel);
      });
    });
  }
}
