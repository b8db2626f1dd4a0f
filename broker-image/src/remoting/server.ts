// The remoting server: a processor table plus the connections it serves. `handle(duplex)` is the
// seam (any Duplex, e.g. stream.duplexPair() in tests); `listen()` wraps it in a TCP server.

import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createLogger } from '../common/index.js';
import { Channel } from './channel.js';
import { ProcessorTable } from './processor-table.js';
import type { ChannelOptions, CloseReason, Processor, RemotingLogger } from './types.js';

export interface RemotingServerOptions extends ChannelOptions {
  /** Prefix of channel ids and log lines, e.g. "broker" or "namesrv". */
  name?: string;
}

export interface RemotingServerEvents {
  connection: [channel: Channel];
  channelClose: [channel: Channel, reason: CloseReason, error: Error | undefined];
}

/** "ip:port" of a socket side; IPv6 in brackets. */
export function formatAddress(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return 'unknown';
  return `${address.includes(':') ? `[${address}]` : address}:${port ?? 0}`;
}

export class RemotingServer extends EventEmitter<RemotingServerEvents> {
  private readonly options: RemotingServerOptions;
  private readonly logger: RemotingLogger;
  private readonly table: ProcessorTable;
  private readonly liveChannels = new Map<string, Channel>();
  private channelCounter = 0;
  private server: Server | null = null;

  constructor(options: RemotingServerOptions = {}) {
    super();
    this.options = options;
    this.logger = options.logger ?? createLogger(options.name ?? 'remoting');
    this.table = new ProcessorTable(this.logger);
  }

  /** Routes requests with `code` to `processor` (replacing an earlier registration). */
  registerProcessor(code: number, processor: Processor): void {
    this.table.register(code, processor);
  }

  /** Handles every code without a registered processor; null restores REQUEST_CODE_NOT_SUPPORTED. */
  setDefaultProcessor(processor: Processor | null): void {
    this.table.setDefault(processor);
  }

  /** Live connections by channel id. */
  get channels(): ReadonlyMap<string, Channel> {
    return this.liveChannels;
  }

  /** Port the TCP listener is bound to (after `listen`). */
  get port(): number {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : 0;
  }

  /** Serves one connection; returns its channel. */
  handle(stream: Duplex, addresses: { remoteAddress?: string; localAddress?: string } = {}): Channel {
    const id = `${this.options.name ?? 'server'}-${++this.channelCounter}`;
    const channel = new Channel(id, stream, this.table.dispatch, {
      ...this.options,
      logger: this.logger,
      ...addresses,
    });
    this.liveChannels.set(id, channel);
    channel.once('close', (reason, error) => {
      this.liveChannels.delete(id);
      this.emit('channelClose', channel, reason, error);
    });
    this.emit('connection', channel);
    return channel;
  }

  /** Starts a TCP listener; resolves with the bound port (pass 0 for an ephemeral one). */
  listen(port: number, host = '0.0.0.0'): Promise<number> {
    if (this.server) return Promise.reject(new Error('RemotingServer is already listening'));
    const server = createServer({ noDelay: true }, (socket: Socket) => {
      this.handle(socket, {
        remoteAddress: formatAddress(socket.remoteAddress, socket.remotePort),
        localAddress: formatAddress(socket.localAddress, socket.localPort),
      });
    });
    this.server = server;
    server.on('error', (error) => this.logger.error('remoting listener error', { error: error.message }));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(this.port);
      });
    });
  }

  /** Stops accepting, closes every connection, resolves when the listener is down. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const channel of [...this.liveChannels.values()]) channel.close('local');
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
