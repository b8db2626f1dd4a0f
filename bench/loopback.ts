// The ceiling a remoting server is measured against: bare request/response over loopback TCP
// with RocketMQ-sized frames and a fixed number of requests outstanding on one connection, and
// a server that only cuts frames by their length prefix and writes a canned response per frame.
// `measureLoopback` is what the broker benchmark calls to compute `loopback_limit_msgs_per_s`;
// bench/remoting.ts compares it with the remoting layer.

import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';

export interface LoopbackOptions {
  /** Size of each request frame, length field included (a 1 KiB send is ≈ 1300 bytes). */
  requestBytes: number;
  /** Size of each response frame (a send response is ≈ 250 bytes). Default 250. */
  responseBytes?: number;
  /** Requests kept outstanding on the connection. */
  concurrency: number;
  /** Measured time after warm-up. Default 5000. */
  durationMs?: number;
  /** Unmeasured warm-up. Default 1000. */
  warmupMs?: number;
}

export interface LoopbackResult {
  msgsPerSec: number;
  requests: number;
  durationMs: number;
  p50Ms: number;
  p99Ms: number;
  requestBytes: number;
  responseBytes: number;
  concurrency: number;
}

// Plain JS so the child needs no TypeScript loader. It reads frames by their length prefix
// and answers each with the same canned frame; all answers to one chunk go out in one write.
const SERVER_SOURCE = `
const net = require('node:net');
const responseBytes = Number(process.argv[1]);
const response = Buffer.alloc(responseBytes, 0x61);
response.writeInt32BE(responseBytes - 4, 0);
response.writeInt32BE(responseBytes - 8, 4);
const server = net.createServer({ noDelay: true }, (socket) => {
  let need = -1;
  let pending = [];
  let buffered = 0;
  socket.on('data', (chunk) => {
    pending.push(chunk);
    buffered += chunk.length;
    let answers = 0;
    for (;;) {
      if (need < 0) {
        if (buffered < 4) break;
        const head = pending.length === 1 ? pending[0] : Buffer.concat(pending);
        pending = [head];
        need = head.readInt32BE(0) + 4;
      }
      if (buffered < need) break;
      const all = pending.length === 1 ? pending[0] : Buffer.concat(pending);
      const rest = all.subarray(need);
      pending = rest.length ? [rest] : [];
      buffered -= need;
      need = -1;
      answers++;
    }
    if (answers === 1) socket.write(response);
    else if (answers > 1) socket.write(Buffer.concat(Array(answers).fill(response)));
  });
  socket.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
// Exit with the parent: it holds our stdin open.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

interface RunningServer {
  port: number;
  stop(): Promise<void>;
}

async function startChildServer(responseBytes: number): Promise<RunningServer> {
  const child: ChildProcess = spawn(process.execPath, ['-e', SERVER_SOURCE, String(responseBytes)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const match = /PORT (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`loopback server exited with ${code}`)));
  });
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Measures bare TCP request/response throughput and latency (see the file comment). */
export async function measureLoopback(options: LoopbackOptions): Promise<LoopbackResult> {
  const requestBytes = Math.max(8, options.requestBytes);
  const responseBytes = Math.max(8, options.responseBytes ?? 250);
  const durationMs = options.durationMs ?? 5000;
  const warmupMs = options.warmupMs ?? 1000;
  const concurrency = Math.max(1, options.concurrency);
  // The server runs in its own process, as a broker does, so the two do not share an event loop.
  const server = await startChildServer(responseBytes);
  const socket: Socket = connect({ host: '127.0.0.1', port: server.port, noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));

  const request = Buffer.alloc(requestBytes, 0x62);
  request.writeInt32BE(requestBytes - 4, 0);
  request.writeInt32BE(Math.min(200, requestBytes - 8), 4);

  // Responses come back in order, so send times form a FIFO ring.
  const sentAt = new Float64Array(concurrency);
  let head = 0;
  let tail = 0;
  let measuring = false;
  let stopping = false;
  let completed = 0;
  const latencies: number[] = [];
  let buffered = 0;
  let corked = false;

  const send = () => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    sentAt[tail] = performance.now();
    tail = (tail + 1) % concurrency;
    socket.write(request);
  };

  let drained: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    drained = resolve;
  });
  let outstanding = 0;
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.length;
    while (buffered >= responseBytes) {
      buffered -= responseBytes;
      const now = performance.now();
      if (measuring) {
        completed++;
        latencies.push(now - sentAt[head]);
      }
      head = (head + 1) % concurrency;
      outstanding--;
      if (!stopping) {
        outstanding++;
        send();
      } else if (outstanding === 0) {
        drained();
      }
    }
  });

  for (let i = 0; i < concurrency; i++) {
    outstanding++;
    send();
  }
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  measuring = true;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  measuring = false;
  const elapsed = performance.now() - started;
  stopping = true;
  await finished;
  socket.destroy();
  await server.stop();

  const sorted = Float64Array.from(latencies).sort();
  return {
    msgsPerSec: Math.round((completed / elapsed) * 1000),
    requests: completed,
    durationMs: Math.round(elapsed),
    p50Ms: Number(percentile(sorted, 50).toFixed(3)),
    p99Ms: Number(percentile(sorted, 99).toFixed(3)),
    requestBytes,
    responseBytes,
    concurrency,
  };
}
