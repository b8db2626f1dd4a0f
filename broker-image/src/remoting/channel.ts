// One connection, either side: frames in, commands out, opaque correlation of our own requests,
// dispatch of the peer's requests, read backpressure by in-flight count, per-tick write batching,
// idle close. Transport-agnostic: anything Duplex works (net.Socket, stream.duplexPair()).

import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { createLogger } from '../common/index.js';
import {
  DEFAULT_MAX_FRAME_LENGTH,
  decodeCommand,
  encodeCommandParts,
  FrameDecoder,
  FrameTooLargeError,
  ProtocolError,
  type RemotingCommand,
  RemotingFlag,
  ResponseCode,
  requestCodeName,
} from '../protocol/index.js';
import { RemotingClosedError, RemotingSendError, RemotingTimeoutError } from './errors.js';
import type { ChannelOptions, CloseReason, RemotingLogger, RequestContext } from './types.js';

/** How a channel hands a peer request to its owner (server or client processor table). */
export type RequestDispatcher = (
  request: RemotingCommand,
  context: RequestContext,
) => Promise<RemotingCommand | null>;

interface PendingRequest {
  resolve(response: RemotingCommand): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  code: number;
}

export interface ChannelEvents {
  close: [reason: CloseReason, error: Error | undefined];
}

export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_IN_FLIGHT_REQUESTS = 1024;
export const DEFAULT_MAX_WRITE_BUFFER_BYTES = 64 * 1024 * 1024;
/**
 * A read of 32 pipelined requests handled in one go answers all 32 at once, and the peer, idle
 * until then, sends its next 32 at once: the two sides take turns instead of working side by
 * side. Handing out a few frames per turn lets their answers leave while the rest are read.
 */
export const DEFAULT_MAX_FRAMES_PER_TURN = 16;
/** How long a locally closed connection may take to flush before it is destroyed. */
const CLOSE_GRACE_MS = 1000;
/** Frames queued in one tick are concatenated up to this many bytes per stream write. */
const COALESCE_LIMIT = 64 * 1024;

const EMPTY = Buffer.alloc(0);

function flushOutbox(channel: Channel): void {
  channel.flush();
}

/**
 * Two hops: a frame's work (say a store append) is often scheduled with setImmediate during
 * this turn, so the rest of the read waits for the turn after that one, when the answers are out.
 */
function resumeNextTurn(channel: Channel): void {
  setImmediate(resumeFrames, channel);
}

function resumeFrames(channel: Channel): void {
  channel.resumeFrames();
}

export class Channel extends EventEmitter<ChannelEvents> {
  readonly id: string;
  readonly remoteAddress: string;
  readonly localAddress: string;
  private readonly stream: Duplex;
  private readonly decoder: FrameDecoder;
  private readonly dispatch: RequestDispatcher;
  private readonly logger: RemotingLogger;
  private readonly maxFrameLength: number;
  private readonly idleTimeoutMs: number;
  private readonly maxInFlight: number;
  private readonly maxWriteBuffer: number;
  private readonly maxFramesPerTurn: number;
  private readonly pending = new Map<number, PendingRequest>();
  private nextOpaque = 0;
  private inFlight = 0;
  private paused = false;
  /** Frames handed out since this turn began. */
  private turnFrames = 0;
  /** The per-turn budget ran out; decoding resumes on a later turn. */
  private yielded = false;
  private outbox: Buffer[] = [];
  private outboxBytes = 0;
  private closedReason: CloseReason | null = null;
  private lastActivity = Date.now();
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    id: string,
    stream: Duplex,
    dispatch: RequestDispatcher,
    options: ChannelOptions & { remoteAddress?: string; localAddress?: string } = {},
  ) {
    super();
    this.id = id;
    this.stream = stream;
    this.dispatch = dispatch;
    this.logger = options.logger ?? createLogger('remoting');
    this.maxFrameLength = options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.maxInFlight = options.maxInFlightRequests ?? DEFAULT_MAX_IN_FLIGHT_REQUESTS;
    this.maxWriteBuffer = options.maxWriteBufferBytes ?? DEFAULT_MAX_WRITE_BUFFER_BYTES;
    this.maxFramesPerTurn = options.maxFramesPerTurn ?? DEFAULT_MAX_FRAMES_PER_TURN;
    this.decoder = new FrameDecoder({ maxFrameLength: this.maxFrameLength });
    this.remoteAddress = options.remoteAddress ?? 'unknown';
    this.localAddress = options.localAddress ?? 'unknown';

    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => this.close('peer'));
    stream.on('close', () => this.close('peer'));
    stream.on('error', (error: Error) => this.close('error', error));
    if (this.idleTimeoutMs > 0) this.armIdleTimer(this.idleTimeoutMs);
  }

  /** True once the channel has closed, for whatever reason. */
  get closed(): boolean {
    return this.closedReason !== null;
  }

  /** Requests of ours still waiting for a response. */
  get pendingRequests(): number {
    return this.pending.size;
  }

  /** Peer requests being processed (not counting detached ones). */
  get inFlightRequests(): number {
    return this.inFlight;
  }

  /**
   * Sends `request` (its opaque is replaced by ours) and resolves with the peer's response, or
   * rejects with RemotingTimeoutError / RemotingClosedError / RemotingSendError.
   */
  invoke(request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    if (this.closedReason !== null) {
      return Promise.reject(new RemotingClosedError(`channel ${this.id} to ${this.remoteAddress} is closed`));
    }
    const opaque = this.allocateOpaque();
    request.opaque = opaque;
    request.flag &= ~(RemotingFlag.RESPONSE | RemotingFlag.ONEWAY);
    return new Promise<RemotingCommand>((resolve, reject) => {
      const timer = setTimeout(expirePending, timeoutMs, this, opaque, timeoutMs);
      this.pending.set(opaque, { resolve, reject, timer, code: request.code });
      try {
        this.send(request);
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(opaque);
        reject(error);
      }
    });
  }

  /** @internal Timer callback of `invoke`. */
  expire(opaque: number, timeoutMs: number): void {
    const pending = this.pending.get(opaque);
    if (pending === undefined) return;
    this.pending.delete(opaque);
    pending.reject(
      new RemotingTimeoutError(
        `no response to ${requestCodeName(pending.code)} from ${this.remoteAddress} within ${timeoutMs} ms`,
      ),
    );
  }

  /** Sends `request` as a oneway request (flag bit 1); no response is expected. Throws if it cannot be sent. */
  invokeOneway(request: RemotingCommand): void {
    if (this.closedReason !== null) {
      throw new RemotingClosedError(`channel ${this.id} to ${this.remoteAddress} is closed`);
    }
    request.opaque = this.allocateOpaque();
    request.flag = (request.flag & ~RemotingFlag.RESPONSE) | RemotingFlag.ONEWAY;
    this.send(request);
  }

  /** Closes the connection; pending invocations reject with RemotingClosedError. Idempotent. */
  close(reason: CloseReason = 'local', error?: Error): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    for (const [opaque, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(
        new RemotingClosedError(
          `channel to ${this.remoteAddress} closed (${reason}) before the response to ${requestCodeName(pending.code)}`,
        ),
      );
      this.pending.delete(opaque);
    }
    if (reason !== 'peer' && reason !== 'local') {
      this.logger.warn('closing remoting connection', {
        channel: this.id,
        remote: this.remoteAddress,
        reason,
        error: error?.message,
      });
    }
    if (reason === 'local') {
      // Our own decision: let queued responses go out and tell the peer (FIN), then make sure
      // the stream is gone even if the peer never finishes its side.
      const stream = this.stream;
      this.flush();
      stream.end();
      const timer = setTimeout(() => stream.destroy(), CLOSE_GRACE_MS);
      timer.unref();
      stream.once('close', () => clearTimeout(timer));
    } else {
      this.stream.destroy();
    }
    this.emit('close', reason, error);
  }

  /** Encodes and queues a command; writes of one tick go out together (cork/uncork). */
  private send(command: RemotingCommand): void {
    const [head, body] = encodeCommandParts(command);
    const size = head.length + (body ? body.length : 0);
    if (size > this.maxFrameLength) {
      throw new RemotingSendError(
        `${requestCodeName(command.code)} frame of ${size} bytes exceeds maxFrameLength ${this.maxFrameLength}`,
      );
    }
    this.write(head, body);
  }

  /**
   * Queues a frame; everything queued in one tick goes out together on the next one: runs of
   * small frames as one concatenated buffer (one stream write instead of one per frame), large
   * bodies as their own uncopied writes.
   */
  private write(head: Buffer, body: Buffer | undefined): void {
    if (this.closedReason !== null) return;
    if (this.outbox.length === 0) process.nextTick(flushOutbox, this);
    this.outbox.push(head);
    this.outboxBytes += head.length;
    if (body) {
      this.outbox.push(body);
      this.outboxBytes += body.length;
    }
    this.lastActivity = Date.now();
    if (this.stream.writableLength + this.outboxBytes > this.maxWriteBuffer) {
      this.close(
        'write-buffer-full',
        new Error(
          `${this.stream.writableLength + this.outboxBytes} bytes unwritten, above maxWriteBufferBytes ${this.maxWriteBuffer}`,
        ),
      );
    }
  }

  /** @internal Writes what `write` queued during the last tick. */
  flush(): void {
    const outbox = this.outbox;
    const bytes = this.outboxBytes;
    this.outbox = [];
    this.outboxBytes = 0;
    if (outbox.length === 0 || this.stream.writableEnded) return;
    if (this.closedReason !== null && this.closedReason !== 'local') return;
    const stream = this.stream;
    if (outbox.length === 1) {
      stream.write(outbox[0]);
      return;
    }
    if (bytes <= COALESCE_LIMIT) {
      stream.write(Buffer.concat(outbox, bytes));
      return;
    }
    stream.cork();
    let runStart = 0;
    let runBytes = 0;
    for (let i = 0; i <= outbox.length; i++) {
      const buffer = outbox[i];
      if (
        buffer !== undefined &&
        buffer.length <= COALESCE_LIMIT &&
        runBytes + buffer.length <= COALESCE_LIMIT
      ) {
        runBytes += buffer.length;
        continue;
      }
      if (i - runStart === 1) stream.write(outbox[runStart]);
      else if (i > runStart) stream.write(Buffer.concat(outbox.slice(runStart, i), runBytes));
      if (buffer === undefined) break;
      if (buffer.length > COALESCE_LIMIT) {
        stream.write(buffer);
        runStart = i + 1;
        runBytes = 0;
      } else {
        runStart = i;
        runBytes = buffer.length;
      }
    }
    stream.uncork();
  }

  private allocateOpaque(): number {
    const opaque = this.nextOpaque;
    this.nextOpaque = (this.nextOpaque + 1) | 0;
    return opaque;
  }

  private onData(chunk: Buffer): void {
    if (this.closedReason !== null) return;
    this.lastActivity = Date.now();
    if (!this.yielded) this.turnFrames = 0;
    this.decode(chunk);
  }

  /** @internal A later turn: hand out what the last one left in the decoder, then read again. */
  resumeFrames(): void {
    this.yielded = false;
    this.turnFrames = 0;
    if (this.closedReason !== null) return;
    this.decode(EMPTY);
    if (!this.yielded && !this.paused && this.closedReason === null) this.stream.resume();
  }

  /** Feeds the decoder; stops handing out frames the moment the in-flight limit pauses us. */
  private decode(chunk: Buffer): void {
    try {
      this.decoder.push(chunk, this.frameHandler);
    } catch (error) {
      if (error instanceof FrameTooLargeError) this.close('frame-too-large', error);
      else if (error instanceof ProtocolError) this.close('protocol-error', error);
      else this.close('error', error as Error);
    }
  }

  private readonly frameHandler = (frame: Buffer): boolean => {
    this.onFrame(frame);
    if (this.paused || this.closedReason !== null) return false;
    if (this.maxFramesPerTurn > 0 && ++this.turnFrames >= this.maxFramesPerTurn) {
      if (this.decoder.bufferedBytes === 0) return true;
      this.yielded = true;
      this.stream.pause();
      setImmediate(resumeNextTurn, this);
      return false;
    }
    return true;
  };

  private onFrame(frame: Buffer): void {
    if (this.closedReason !== null) return;
    const command = decodeCommand(frame);
    if ((command.flag & RemotingFlag.RESPONSE) !== 0) {
      const pending = this.pending.get(command.opaque);
      if (pending === undefined) return; // late response after a timeout, or not ours
      this.pending.delete(command.opaque);
      clearTimeout(pending.timer);
      pending.resolve(command);
      return;
    }
    this.handleRequest(command);
  }

  private handleRequest(request: RemotingCommand): void {
    this.inFlight++;
    if (this.inFlight >= this.maxInFlight && !this.paused) {
      this.paused = true;
      this.stream.pause();
    }
    void new InboundRequest(this, request).run();
  }

  /** @internal Called once per request when it stops counting towards the in-flight limit. */
  releaseSlot(): void {
    this.inFlight--;
    if (this.paused && this.inFlight < this.maxInFlight && this.closedReason === null) {
      this.paused = false;
      // Frames that arrived while paused are already buffered in the decoder: hand them out
      // first (this may pause us again), then let the stream flow.
      if (this.yielded) return; // resumeFrames hands out the rest
      this.decode(EMPTY);
      if (!this.paused && !this.yielded && this.closedReason === null) this.stream.resume();
    }
  }

  /** @internal Runs the dispatcher for one request and writes its response (unless oneway or null). */
  async process(inbound: InboundRequest): Promise<void> {
    const request = inbound.request;
    let response: RemotingCommand | null;
    try {
      response = await this.dispatch(request, inbound);
    } catch (error) {
      // The dispatcher turns processor errors into SYSTEM_ERROR; reaching here is a bug in it.
      inbound.detachFromFlowControl();
      this.logger.error('request dispatch failed', { channel: this.id, error: (error as Error)?.message });
      return;
    }
    inbound.detachFromFlowControl();
    if (response === null || (request.flag & RemotingFlag.ONEWAY) !== 0 || this.closedReason !== null) return;
    this.respond(request, response);
  }

  /** @internal Writes `response` as the answer to `request`. */
  respond(request: RemotingCommand, response: RemotingCommand): void {
    response.opaque = request.opaque;
    response.flag = (response.flag | RemotingFlag.RESPONSE) & ~RemotingFlag.ONEWAY;
    response.serializeTypeCurrentRPC = request.serializeTypeCurrentRPC;
    try {
      this.send(response);
    } catch (error) {
      this.logger.warn('response could not be encoded; answering SYSTEM_ERROR', {
        channel: this.id,
        code: requestCodeName(request.code),
        error: (error as Error).message,
      });
      this.send({
        code: ResponseCode.SYSTEM_ERROR,
        language: 'JAVA',
        version: response.version,
        opaque: request.opaque,
        flag: RemotingFlag.RESPONSE,
        remark: `response could not be sent: ${(error as Error).message}`,
        extFields: {},
        serializeTypeCurrentRPC: request.serializeTypeCurrentRPC,
      });
    }
  }

  private armIdleTimer(delayMs: number): void {
    this.idleTimer = setTimeout(() => {
      if (this.closedReason !== null) return;
      const idleFor = Date.now() - this.lastActivity;
      if (idleFor >= this.idleTimeoutMs) {
        this.close('idle', new Error(`no traffic for ${idleFor} ms`));
      } else {
        this.armIdleTimer(this.idleTimeoutMs - idleFor);
      }
    }, delayMs);
    this.idleTimer.unref();
  }
}

function expirePending(channel: Channel, opaque: number, timeoutMs: number): void {
  channel.expire(opaque, timeoutMs);
}

/** The RequestContext of one peer request; a class so the hot path allocates no closures. */
class InboundRequest implements RequestContext {
  private counted = true;

  constructor(
    readonly channel: Channel,
    readonly request: RemotingCommand,
  ) {}

  get channelId(): string {
    return this.channel.id;
  }

  get remoteAddress(): string {
    return this.channel.remoteAddress;
  }

  invoke(request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    return this.channel.invoke(request, timeoutMs);
  }

  invokeOneway(request: RemotingCommand): void {
    this.channel.invokeOneway(request);
  }

  detachFromFlowControl(): void {
    if (!this.counted) return;
    this.counted = false;
    this.channel.releaseSlot();
  }

  run(): Promise<void> {
    return this.channel.process(this);
  }
}
