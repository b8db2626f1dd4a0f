// Full protocol conversations over in-memory duplex pairs (no ports): server.handle(one side),
// a client Channel or raw frames on the other. TCP behaviour is covered in test/remoting/.

import { Buffer } from 'node:buffer';
import { type Duplex, duplexPair } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRequest,
  createResponse,
  decodeCommand,
  decodeHeader,
  encodeCommand,
  FrameDecoder,
  markOneway,
  type RemotingCommand,
  ResponseCode,
} from '../protocol/index.js';
import { Channel } from './channel.js';
import { RemotingClosedError, RemotingSendError, RemotingTimeoutError } from './errors.js';
import { RemotingServer, type RemotingServerOptions } from './server.js';
import type { CloseReason, RemotingLogger } from './types.js';

function recordingLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const log =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, fields });
    };
  const logger: RemotingLogger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  };
  return { logger, lines };
}

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `predicate` holds (polling), failing after `ms`. */
async function until(predicate: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await tick(2);
  }
}

const opened: { close(): unknown }[] = [];
afterEach(() => {
  for (const o of opened.splice(0)) o.close();
});

function setup(options: RemotingServerOptions = {}) {
  const { logger, lines } = recordingLogger();
  const server = new RemotingServer({ logger, ...options });
  const [serverSide, clientSide] = duplexPair();
  const closes: CloseReason[] = [];
  server.on('channelClose', (_channel, reason) => closes.push(reason));
  const serverChannel = server.handle(serverSide, { remoteAddress: '10.0.0.9:5555' });
  const clientRequests: RemotingCommand[] = [];
  const client = new Channel(
    'test-client',
    clientSide,
    async (request) => {
      clientRequests.push(request);
      return createResponse(request, ResponseCode.SUCCESS, { remark: `client saw ${request.code}` });
    },
    { logger },
  );
  opened.push(client, server);
  return { server, serverChannel, client, clientSide, lines, closes, clientRequests };
}

/** Raw access to the peer side: write bytes, collect decoded frames. */
function rawPeer(stream: Duplex) {
  const received: RemotingCommand[] = [];
  const decoder = new FrameDecoder();
  stream.on('data', (chunk: Buffer) => decoder.push(chunk, (frame) => received.push(decodeCommand(frame))));
  return {
    received,
    send(command: RemotingCommand) {
      stream.write(encodeCommand(command));
    },
  };
}

describe('request/response over a channel', () => {
  it('answers in the serialization type of the request, whatever the processor set', async () => {
    const { server, client } = setup();
    server.registerProcessor(105, async (request) => {
      const response = createResponse(request, ResponseCode.SUCCESS, {
        body: Buffer.from(request.extFields.topic),
      });
      response.serializeTypeCurrentRPC = 'JSON';
      return response;
    });
    for (const serializeType of ['JSON', 'ROCKETMQ'] as const) {
      const response = await client.invoke(
        createRequest(105, { extFields: { topic: 'T1' }, serializeType }),
        1000,
      );
      expect(response).toMatchObject({ code: 0, flag: 1, serializeTypeCurrentRPC: serializeType });
      expect(response.body?.toString()).toBe('T1');
    }
  });

  it('gives processors the remote address, channel id and channel', async () => {
    const { server, client, serverChannel } = setup();
    let seen: unknown;
    server.registerProcessor(34, async (request, context) => {
      seen = [context.remoteAddress, context.channelId, context.channel === serverChannel];
      return createResponse(request);
    });
    await client.invoke(createRequest(34), 1000);
    expect(seen).toEqual(['10.0.0.9:5555', serverChannel.id, true]);
  });

  it('matches 500 concurrent responses to their requests by opaque, whatever the completion order', async () => {
    const { server, client } = setup();
    server.registerProcessor(11, async (request) => {
      await tick(Math.floor(Math.random() * 5));
      return createResponse(request, ResponseCode.SUCCESS, { extFields: { echo: request.extFields.n } });
    });
    const responses = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        client.invoke(createRequest(11, { extFields: { n: String(i) } }), 5000),
      ),
    );
    expect(responses.map((r) => r.extFields.echo)).toEqual(Array.from({ length: 500 }, (_, i) => String(i)));
  });

  it('keeps frames intact and in order when one tick queues small and large frames together', async () => {
    const { server, client } = setup();
    server.registerProcessor(10, async (request) => createResponse(request, 0, { body: request.body }));
    // Sizes straddle the 16 KiB inline-body and 64 KiB coalescing limits.
    const sizes = [0, 1, 100, 16 * 1024, 16 * 1024 + 1, 60 * 1024, 64 * 1024, 200 * 1024, 3, 70 * 1024, 5];
    const bodies = Array.from({ length: 120 }, (_, i) => Buffer.alloc(sizes[i % sizes.length], i));
    const responses = await Promise.all(
      bodies.map((body) =>
        client.invoke(createRequest(10, { body: body.length ? body : undefined }), 10_000),
      ),
    );
    expect(responses.map((r) => r.body?.length ?? 0)).toEqual(bodies.map((b) => b.length));
    expect(responses.every((r, i) => (r.body ?? Buffer.alloc(0)).equals(bodies[i]))).toBe(true);
  });

  it('answers an unknown code with REQUEST_CODE_NOT_SUPPORTED and Java remark', async () => {
    const { client } = setup();
    const response = await client.invoke(createRequest(777), 1000);
    expect(response.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    expect(response.remark).toBe(' request type 777 not supported');
  });

  it('routes unregistered codes to the default processor when one is set', async () => {
    const { server, client } = setup();
    server.setDefaultProcessor(async (request) => createResponse(request, ResponseCode.SYSTEM_BUSY));
    expect((await client.invoke(createRequest(777), 1000)).code).toBe(ResponseCode.SYSTEM_BUSY);
  });

  it('turns a throwing processor into SYSTEM_ERROR with the message as remark, and keeps serving', async () => {
    const { server, client, lines } = setup();
    server.registerProcessor(1, async () => {
      throw new Error('disk on fire');
    });
    server.registerProcessor(2, async (request) => {
      decodeHeader(request.extFields, { topic: 'string' });
      return createResponse(request);
    });
    server.registerProcessor(3, async (request) => createResponse(request));
    expect(await client.invoke(createRequest(1), 1000)).toMatchObject({ code: 1, remark: 'disk on fire' });
    expect(await client.invoke(createRequest(2), 1000)).toMatchObject({
      code: 1,
      remark: 'the custom field <topic> is null',
    });
    expect((await client.invoke(createRequest(3), 1000)).code).toBe(0);
    expect(lines.filter((l) => l.message === 'processor failed').map((l) => l.fields?.error)).toEqual([
      'disk on fire',
    ]);
  });

  it('sends nothing for oneway requests, even when the processor returns a response', async () => {
    const { server, client } = setup();
    const [serverSide, peerSide] = duplexPair();
    server.handle(serverSide);
    const peer = rawPeer(peerSide);
    const seen: number[] = [];
    server.registerProcessor(15, async (request) => {
      seen.push(request.opaque);
      return createResponse(request);
    });
    client.invokeOneway(createRequest(15));
    peer.send(markOneway(createRequest(15)));
    peer.send(createRequest(15));
    await until(() => peer.received.length === 1 && seen.length === 3);
    await tick(20);
    expect(peer.received).toHaveLength(1); // only the two-way request was answered
    peerSide.destroy();
  });

  it('sends no response when the processor resolves null; the caller times out', async () => {
    const { server, client, serverChannel } = setup();
    server.registerProcessor(5, async () => null);
    await expect(client.invoke(createRequest(5), 50)).rejects.toBeInstanceOf(RemotingTimeoutError);
    expect(client.pendingRequests).toBe(0);
    expect(serverChannel.inFlightRequests).toBe(0);
  });

  it('drops a response that arrives after the timeout', async () => {
    const { server, client } = setup();
    server.registerProcessor(6, async (request) => {
      await tick(100);
      return createResponse(request);
    });
    server.registerProcessor(7, async (request) => createResponse(request, 0, { remark: 'fresh' }));
    await expect(client.invoke(createRequest(6), 20)).rejects.toThrow(
      /no response to UNKNOWN\(6\).*within 20 ms/,
    );
    await tick(150);
    expect((await client.invoke(createRequest(7), 1000)).remark).toBe('fresh');
  });

  it('refuses to send a frame larger than maxFrameLength', async () => {
    const { client } = setup();
    const small = new Channel('small', duplexPair()[0], async () => null, { maxFrameLength: 1024 });
    opened.push(small);
    await expect(small.invoke(createRequest(10, { body: Buffer.alloc(2000) }), 1000)).rejects.toBeInstanceOf(
      RemotingSendError,
    );
    expect(small.pendingRequests).toBe(0);
    expect(() => small.invokeOneway(createRequest(10, { body: Buffer.alloc(2000) }))).toThrow(
      RemotingSendError,
    );
    expect(client.closed).toBe(false);
  });

  it('answers SYSTEM_ERROR when the processor response is over maxFrameLength', async () => {
    const { server, client } = setup({ maxFrameLength: 4096 });
    server.registerProcessor(11, async (request) => createResponse(request, 0, { body: Buffer.alloc(8192) }));
    const response = await client.invoke(createRequest(11), 1000);
    expect(response.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(response.remark).toMatch(/exceeds maxFrameLength 4096/);
  });
});

describe('server-initiated requests', () => {
  it('lets a processor call back the client on the same connection before answering (307-style relay)', async () => {
    const { server, client, clientRequests } = setup();
    server.registerProcessor(34, async (request, context) => {
      context.invokeOneway(createRequest(40, { extFields: { consumerGroup: 'CG' } }));
      const info = await context.invoke(createRequest(307, { extFields: { clientId: 'c1' } }), 1000);
      return createResponse(request, 0, { remark: info.remark });
    });
    const response = await client.invoke(createRequest(34), 1000);
    expect(response.remark).toBe('client saw 307');
    expect(clientRequests.map((r) => [r.code, r.flag])).toEqual([
      [40, 2],
      [307, 0],
    ]);
  });

  it('lets the owner keep a channel and notify it later', async () => {
    const { serverChannel, clientRequests } = setup();
    serverChannel.invokeOneway(createRequest(39, { extFields: { msgId: 'm1' } }));
    await until(() => clientRequests.length === 1);
    expect(clientRequests[0].extFields.msgId).toBe('m1');
  });
});

describe('read backpressure', () => {
  it('stops reading at maxInFlightRequests and resumes as processors finish', async () => {
    const { server } = setup({ maxInFlightRequests: 4 });
    const [serverSide, peerSide] = duplexPair();
    const channel = server.handle(serverSide);
    const peer = rawPeer(peerSide);
    const releases: (() => void)[] = [];
    let started = 0;
    server.registerProcessor(11, (request) => {
      started++;
      return new Promise((resolve) => releases.push(() => resolve(createResponse(request))));
    });
    for (let i = 0; i < 20; i++) peer.send(createRequest(11));
    await until(() => started === 4);
    await tick(30);
    expect(started).toBe(4); // the other 16 frames wait unread in the stream
    expect(channel.inFlightRequests).toBe(4);
    releases.shift()?.();
    await until(() => started === 5);
    await tick(30);
    expect(started).toBe(5);
    while (peer.received.length < 20) {
      releases.shift()?.();
      await tick(1);
    }
    expect(started).toBe(20);
    peerSide.destroy();
  });

  it('hands out maxFramesPerTurn frames of one read per turn, answering them before the rest', async () => {
    const answeredWhenStarted = async (maxFramesPerTurn: number) => {
      const { server } = setup({ maxFramesPerTurn });
      const [serverSide, peerSide] = duplexPair();
      server.handle(serverSide);
      const peer = rawPeer(peerSide);
      const seen: number[] = [];
      server.registerProcessor(11, async (request) => {
        seen.push(peer.received.length);
        return createResponse(request);
      });
      // Twelve requests in one write: the server reads them as one chunk.
      peerSide.write(Buffer.concat(Array.from({ length: 12 }, () => encodeCommand(createRequest(11)))));
      await until(() => peer.received.length === 12);
      peerSide.destroy();
      return seen;
    };
    // Responses already at the peer when each request started: the first four go out before
    // requests 5–8 are handed out, and so on.
    expect(await answeredWhenStarted(4)).toEqual([0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8]);
    expect(await answeredWhenStarted(0)).toEqual(Array(12).fill(0));
  });

  it('does not count requests that detached from flow control (held pulls)', async () => {
    const { server, client } = setup({ maxInFlightRequests: 2 });
    const held: (() => void)[] = [];
    server.registerProcessor(11, (request, context) => {
      context.detachFromFlowControl();
      return new Promise((resolve) => held.push(() => resolve(createResponse(request))));
    });
    server.registerProcessor(34, async (request) => createResponse(request));
    const pulls = [1, 2, 3].map(() => client.invoke(createRequest(11), 5000));
    expect((await client.invoke(createRequest(34), 1000)).code).toBe(0);
    await until(() => held.length === 3);
    for (const release of held) release();
    expect((await Promise.all(pulls)).map((r) => r.code)).toEqual([0, 0, 0]);
  });
});

describe('closing', () => {
  it('rejects pending invocations when the connection closes, and reports the close once', async () => {
    const { server, client, closes } = setup();
    server.registerProcessor(11, () => new Promise(() => {}));
    const pending = client.invoke(createRequest(11), 5000);
    await tick(10);
    client.close();
    await expect(pending).rejects.toBeInstanceOf(RemotingClosedError);
    await until(() => closes.length === 1);
    expect(closes).toEqual(['peer']);
    expect(server.channels.size).toBe(0);
    await expect(client.invoke(createRequest(11), 100)).rejects.toBeInstanceOf(RemotingClosedError);
    expect(() => client.invokeOneway(createRequest(11))).toThrow(RemotingClosedError);
  });

  it('closes a connection whose frame is over the limit, logging the reason', async () => {
    const { closes, lines, clientSide } = setup({ maxFrameLength: 1024 });
    const length = Buffer.alloc(4);
    length.writeInt32BE(5000, 0);
    clientSide.write(length);
    await until(() => closes.length === 1);
    expect(closes).toEqual(['frame-too-large']);
    const log = lines.find((l) => l.message === 'closing remoting connection');
    expect(log?.fields).toMatchObject({ reason: 'frame-too-large', remote: '10.0.0.9:5555' });
    expect(String(log?.fields?.error)).toMatch(/frame length 5004 exceeds the maximum 1024/);
  });

  it('closes a connection that sends garbage, as a protocol error', async () => {
    const { closes, clientSide } = setup();
    clientSide.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await until(() => closes.length === 1);
    // "GET " is 0x47455420 ≈ 1.2 GB: rejected by the size check before anything is buffered.
    expect(closes).toEqual(['frame-too-large']);
  });

  it('closes on a malformed header inside a well-framed frame', async () => {
    const { closes, clientSide } = setup();
    const frame = Buffer.alloc(12);
    frame.writeInt32BE(8, 0);
    frame.writeInt32BE(4, 4);
    frame.write('{{{{', 8);
    clientSide.write(frame);
    await until(() => closes.length === 1);
    expect(closes).toEqual(['protocol-error']);
  });

  it('closes an idle connection, but not a busy one', async () => {
    const { server, closes, client } = setup({ idleTimeoutMs: 150 });
    server.registerProcessor(34, async (request) => createResponse(request));
    for (let i = 0; i < 6; i++) {
      await tick(50);
      await client.invoke(createRequest(34), 1000);
    }
    expect(closes).toEqual([]);
    await until(() => closes.length === 1, 2000);
    expect(closes).toEqual(['idle']);
  });
});
