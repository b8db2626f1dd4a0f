// RemotingServer and RemotingClient over real TCP sockets on loopback.

import { Buffer } from 'node:buffer';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRequest,
  createResponse,
  decodeCommand,
  encodeCommand,
  FrameDecoder,
  type RemotingCommand,
  RequestCode,
  ResponseCode,
} from '../../broker-image/src/protocol/index.js';
import {
  type Channel,
  type CloseReason,
  RemotingClient,
  RemotingClosedError,
  RemotingConnectError,
  type RemotingLogger,
  RemotingServer,
  type RemotingServerOptions,
  RemotingTimeoutError,
} from '../../broker-image/src/remoting/index.js';

function recordingLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
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
async function until(predicate: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await tick(5);
  }
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startServer(options: RemotingServerOptions = {}) {
  const { logger, lines } = recordingLogger();
  const server = new RemotingServer({ logger, name: 'test', ...options });
  const closes: { channel: Channel; reason: CloseReason }[] = [];
  server.on('channelClose', (channel, reason) => closes.push({ channel, reason }));
  server.registerProcessor(RequestCode.GET_ROUTEINFO_BY_TOPIC, async (request) =>
    createResponse(request, ResponseCode.SUCCESS, {
      body: Buffer.from(`route of ${request.extFields.topic}`),
    }),
  );
  const port = await server.listen(0, '127.0.0.1');
  cleanup.push(() => server.close());
  return { server, port, address: `127.0.0.1:${port}`, lines, closes };
}

function newClient(options: ConstructorParameters<typeof RemotingClient>[0] = {}) {
  const client = new RemotingClient({ logger: recordingLogger().logger, ...options });
  cleanup.push(() => client.close());
  return client;
}

/** A raw TCP peer: write arbitrary bytes, collect whatever frames come back. */
async function rawSocket(port: number) {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const frames: Buffer[] = [];
  const decoder = new FrameDecoder();
  let closed = false;
  socket.on('data', (chunk: Buffer) => decoder.push(chunk, (frame) => frames.push(Buffer.from(frame))));
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
  });
  cleanup.push(() => socket.destroy());
  return { socket, frames, isClosed: () => closed };
}

describe('RemotingServer + RemotingClient over TCP', () => {
  it('invokes with JSON and with ROCKETMQ headers; responses come back in kind', async () => {
    const { address } = await startServer();
    for (const serializeType of ['JSON', 'ROCKETMQ'] as const) {
      const client = newClient({ serializeType });
      const response = await client.invoke(
        address,
        createRequest(105, { extFields: { topic: 'TopicTest' } }),
        3000,
      );
      expect(response.code).toBe(0);
      expect(response.serializeTypeCurrentRPC).toBe(serializeType);
      expect(response.body?.toString()).toBe('route of TopicTest');
    }
  });

  it('answers the golden protocol.md frames byte-compatibly (type byte 0 for JSON, 1 for binary)', async () => {
    const { port } = await startServer();
    const raw = await rawSocket(port);
    const jsonHeader =
      '{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":0,"serializeTypeCurrentRPC":"JSON","version":409}';
    raw.socket.write(Buffer.concat([Buffer.from('0000008700000083', 'hex'), Buffer.from(jsonHeader)]));
    raw.socket.write(
      Buffer.concat([
        Buffer.from(
          '0000002d 01000029 0069 00 0199 00000001 00000000 00000000 00000014 0005'.replaceAll(' ', ''),
          'hex',
        ),
        Buffer.from('topic'),
        Buffer.from('00000009', 'hex'),
        Buffer.from('TopicTest'),
      ]),
    );
    await until(() => raw.frames.length === 2);
    const [first, second] = raw.frames;
    expect(first[0]).toBe(0); // ali-ons reads this word unmasked
    expect(second[0]).toBe(1);
    const [jsonResponse, binaryResponse] = raw.frames.map((frame) => decodeCommand(frame));
    expect(jsonResponse).toMatchObject({ code: 0, opaque: 0, flag: 1, serializeTypeCurrentRPC: 'JSON' });
    expect(binaryResponse).toMatchObject({
      code: 0,
      opaque: 1,
      flag: 1,
      serializeTypeCurrentRPC: 'ROCKETMQ',
    });
    expect(jsonResponse.body?.toString()).toBe('route of TopicTest');
  });

  it('reuses one connection per address and reconnects after the server restarts', async () => {
    const first = await startServer();
    const client = newClient();
    const channels = new Set<Channel>();
    first.server.on('connection', (channel) => channels.add(channel));
    await Promise.all([1, 2, 3].map(() => client.invoke(first.address, createRequest(105), 3000)));
    expect(channels.size).toBe(1);

    const closedOnClient: CloseReason[] = [];
    client.on('channelClose', (_address, _channel, reason) => closedOnClient.push(reason));
    await first.server.close();
    await until(() => closedOnClient.length === 1);
    await expect(client.invoke(first.address, createRequest(105), 1000)).rejects.toBeInstanceOf(
      RemotingConnectError,
    );

    const again = new RemotingServer({ logger: recordingLogger().logger });
    again.registerProcessor(105, async (request) => createResponse(request, 0, { remark: 'second life' }));
    await again.listen(first.port, '127.0.0.1');
    cleanup.push(() => again.close());
    expect((await client.invoke(first.address, createRequest(105), 3000)).remark).toBe('second life');
  });

  it('rejects with RemotingConnectError when nothing listens and with a bad address', async () => {
    const { server, port } = await startServer();
    await server.close();
    const client = newClient();
    await expect(client.invoke(`127.0.0.1:${port}`, createRequest(105), 1000)).rejects.toThrow(
      RemotingConnectError,
    );
    await expect(client.invoke('no-port', createRequest(105), 1000)).rejects.toThrow(/bad address/);
  });

  it('times out a request the server never answers', async () => {
    const { server, address } = await startServer();
    server.registerProcessor(11, () => new Promise(() => {}));
    const client = newClient();
    await expect(client.invoke(address, createRequest(11), 100)).rejects.toBeInstanceOf(RemotingTimeoutError);
    expect((await client.invoke(address, createRequest(105), 1000)).code).toBe(0);
  });

  it('delivers oneway requests without a response', async () => {
    const { server, address } = await startServer();
    const offsets: string[] = [];
    server.registerProcessor(RequestCode.UPDATE_CONSUMER_OFFSET, async (request) => {
      offsets.push(request.extFields.commitOffset);
      return createResponse(request);
    });
    const client = newClient();
    await client.invokeOneway(address, createRequest(15, { extFields: { commitOffset: '42' } }));
    await until(() => offsets.length === 1);
    expect(offsets).toEqual(['42']);
  });

  it('sends server-initiated requests to clients: oneway notifications and request/response', async () => {
    const { server, address } = await startServer();
    const members: Channel[] = [];
    server.registerProcessor(RequestCode.HEART_BEAT, async (request, context) => {
      members.push(context.channel);
      return createResponse(request);
    });
    const received: RemotingCommand[] = [];
    const client = newClient();
    client.registerProcessor(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, async (request) => {
      received.push(request);
      return null;
    });
    client.registerProcessor(RequestCode.CHECK_TRANSACTION_STATE, async (request) => {
      received.push(request);
      return null;
    });
    client.registerProcessor(RequestCode.GET_CONSUMER_RUNNING_INFO, async (request) =>
      createResponse(request, 0, { body: Buffer.from('{"running":true}') }),
    );
    await client.invoke(address, createRequest(34), 3000);
    const [member] = members;
    member.invokeOneway(createRequest(40, { extFields: { consumerGroup: 'CG' } }));
    member.invokeOneway(createRequest(39, { extFields: { msgId: 'M1' } }));
    const info = await member.invoke(createRequest(307, { extFields: { clientId: 'x' } }), 3000);
    expect(info.body?.toString()).toBe('{"running":true}');
    await until(() => received.length === 2);
    expect(received.map((r) => [r.code, r.flag])).toEqual([
      [40, 2],
      [39, 2],
    ]);
    // A code the client has no processor for is answered REQUEST_CODE_NOT_SUPPORTED.
    expect((await member.invoke(createRequest(220), 3000)).code).toBe(
      ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
    );
  });

  it('reports a closed client connection to the server, so registrations can be dropped', async () => {
    const { server, address, closes } = await startServer();
    const client = newClient();
    await client.invoke(address, createRequest(105), 3000);
    expect(server.channels.size).toBe(1);
    client.closeChannel(address);
    await until(() => closes.length === 1);
    expect(closes[0].reason).toBe('peer');
    expect(server.channels.size).toBe(0);
  });

  it('rejects in-flight calls when the server goes away', async () => {
    const { server, address } = await startServer();
    server.registerProcessor(11, () => new Promise(() => {}));
    const client = newClient();
    const rejected = expect(client.invoke(address, createRequest(11), 10_000)).rejects.toBeInstanceOf(
      RemotingClosedError,
    );
    await until(() => server.channels.size === 1);
    await server.close();
    await rejected;
  });
});

describe('bad peers over TCP', () => {
  it('closes a connection sending an over-limit frame, logs why, and keeps serving others', async () => {
    const { address, port, lines, closes } = await startServer();
    const good = newClient();
    await good.invoke(address, createRequest(105), 3000);
    const raw = await rawSocket(port);
    const header = Buffer.alloc(8);
    header.writeInt32BE(16 * 1024 * 1024 + 1, 0);
    raw.socket.write(header);
    await until(raw.isClosed);
    expect(closes.map((c) => c.reason)).toEqual(['frame-too-large']);
    expect(lines.find((l) => l.message === 'closing remoting connection')?.fields).toMatchObject({
      reason: 'frame-too-large',
      error: 'frame length 16777221 exceeds the maximum 16777216',
    });
    expect((await good.invoke(address, createRequest(105), 3000)).code).toBe(0);
  });

  it('accepts a frame just under the configured maximum', async () => {
    const { server, address } = await startServer({ maxFrameLength: 2 * 1024 * 1024 });
    server.registerProcessor(10, async (request) =>
      createResponse(request, 0, { remark: String(request.body?.length) }),
    );
    const client = newClient({ maxFrameLength: 4 * 1024 * 1024 });
    const overhead = encodeCommand(createRequest(10)).length;
    const body = Buffer.alloc(2 * 1024 * 1024 - overhead, 1);
    expect((await client.invoke(address, createRequest(10, { body }), 10_000)).remark).toBe(
      String(body.length),
    );
  });

  it('closes a peer that does not read its responses once the write buffer limit is passed', async () => {
    const { server, port, closes } = await startServer({ maxWriteBufferBytes: 4 * 1024 * 1024 });
    server.registerProcessor(12, async (request) =>
      createResponse(request, 0, { body: Buffer.alloc(512 * 1024) }),
    );
    const raw = await rawSocket(port);
    raw.socket.pause(); // never read
    const request = encodeCommand(createRequest(12));
    for (let i = 0; i < 400; i++) raw.socket.write(request);
    await until(() => closes.length === 1, 20_000);
    expect(closes[0].reason).toBe('write-buffer-full');
  });

  it('pauses reading from a connection with too many requests in flight', async () => {
    const { server, address } = await startServer({ maxInFlightRequests: 8 });
    let running = 0;
    let maxRunning = 0;
    let gate: () => void = () => {};
    let opened = new Promise<void>((resolve) => {
      gate = resolve;
    });
    server.registerProcessor(10, async (request) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await opened;
      running--;
      return createResponse(request);
    });
    const client = newClient();
    const body = Buffer.alloc(1024); // dozens of frames per socket read
    const calls = Array.from({ length: 2000 }, () =>
      client.invoke(address, createRequest(10, { body }), 30_000),
    );
    await until(() => running >= 8);
    await tick(100);
    // Exactly at the limit, although each socket read carries dozens of frames: the decoder
    // stops handing out frames the moment the connection pauses.
    expect(maxRunning).toBe(8);
    gate();
    opened = Promise.resolve();
    expect((await Promise.all(calls)).every((r) => r.code === 0)).toBe(true);
    expect(maxRunning).toBe(8);
  });
});
