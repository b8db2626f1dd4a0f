// Socket-level fuzz: many connections send garbage, mutated frames, oversize frames and abrupt
// resets to a remoting server running in its own process, while a well-behaved client keeps
// invoking. The server must answer every good request, close only the bad connections, release
// them, and never crash.

import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest, encodeCommand, RequestCode } from '../../broker-image/src/protocol/index.js';
import { RemotingClient } from '../../broker-image/src/remoting/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const SEED = Number(process.env.FUZZ_SEED ?? 0xb01d_f00d);
const CONNECTIONS = 1500;
const BATCH = 50;

function rng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { int, bytes };
}

type Rng = ReturnType<typeof rng>;

function validRequests(r: Rng): Buffer {
  const codes = [
    RequestCode.GET_ROUTEINFO_BY_TOPIC,
    RequestCode.SEND_MESSAGE,
    RequestCode.HEART_BEAT,
    2000,
    9999,
    -5,
  ];
  return Buffer.concat(
    Array.from({ length: 1 + r.int(4) }, () =>
      encodeCommand(
        createRequest(codes[r.int(codes.length)], {
          extFields: { topic: 'T', n: String(r.int(1000)) },
          body: r.int(2) ? r.bytes(1 + r.int(64)) : undefined,
          serializeType: r.int(2) ? 'JSON' : 'ROCKETMQ',
        }),
      ),
    ),
  );
}

function mutate(r: Rng, input: Buffer): Buffer {
  const out = Buffer.from(input);
  for (let i = 0, n = 1 + r.int(6); i < n; i++) out[r.int(out.length)] = r.int(256);
  return out;
}

/** One hostile (or merely odd) connection; resolves when it is over. */
function hostileConnection(port: number, r: Rng): Promise<{ strategy: number; outcome: string }> {
  const strategy = r.int(7);
  let payload: Buffer;
  switch (strategy) {
    case 0:
      payload = r.bytes(1 + r.int(4096));
      break;
    case 1:
      payload = mutate(r, validRequests(r));
      break;
    case 2: {
      payload = Buffer.alloc(8 + r.int(64));
      payload.writeInt32BE(1024 * 1024 + 1 + r.int(2 ** 30), 0);
      break;
    }
    case 3: {
      const junk = r.bytes(4 + r.int(200));
      payload = Buffer.concat([Buffer.alloc(4), junk]);
      payload.writeInt32BE(junk.length, 0);
      break;
    }
    case 4: {
      const valid = validRequests(r);
      payload = valid.subarray(0, r.int(valid.length)); // cut mid-frame, then reset
      break;
    }
    case 5:
      payload = validRequests(r); // well-formed, odd codes; responses are read
      break;
    default:
      payload = Buffer.concat([validRequests(r), r.bytes(1 + r.int(32))]); // good frames, then trash
  }
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (outcome: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ strategy, outcome });
    };
    // Input that must be rejected (oversize length, junk header) waits for the server's verdict;
    // anything else may legitimately look like an unfinished frame, so we give up after a moment.
    const timer = setTimeout(() => done('held'), strategy === 2 || strategy === 3 ? 5000 : 100 + r.int(200));
    socket.on('error', () => done('error'));
    socket.on('close', () => done('closed-by-server'));
    socket.on('data', () => {});
    socket.on('connect', () => {
      // Write in random slices so the server sees arbitrary chunking.
      let pos = 0;
      while (pos < payload.length) {
        const size = 1 + r.int(Math.min(payload.length - pos, 512));
        socket.write(payload.subarray(pos, pos + size));
        pos += size;
      }
      if (strategy === 4) socket.resetAndDestroy();
    });
  });
}

describe('socket-level fuzz against a server process', () => {
  let server: ChildProcess;
  let port = 0;
  let stderr = '';

  beforeAll(async () => {
    server = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'fuzz-server.ts')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      server.stdout?.on('data', (chunk) => {
        out += chunk;
        const match = /PORT (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      server.once('exit', (code) => reject(new Error(`server exited early (${code}): ${stderr}`)));
    });
  });

  afterAll(async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
  });

  it(`keeps serving a good client through ${CONNECTIONS} hostile connections and releases them all`, async () => {
    const client = new RemotingClient({ logger: { debug() {}, info() {}, warn() {}, error() {} } });
    const address = `127.0.0.1:${port}`;
    let goodCalls = 0;
    const failures: string[] = [];
    let fuzzing = true;
    const goodLoop = (async () => {
      while (fuzzing) {
        try {
          const response = await client.invoke(
            address,
            createRequest(105, { extFields: { topic: 'Good' } }),
            5000,
          );
          if (response.body?.toString() !== 'route of Good') failures.push(`bad body ${response.body}`);
          goodCalls++;
        } catch (error) {
          failures.push((error as Error).message);
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();

    const r = rng(SEED);
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < CONNECTIONS; i += BATCH) {
      const batch = await Promise.all(Array.from({ length: BATCH }, () => hostileConnection(port, r)));
      for (const { strategy, outcome } of batch) {
        const key = `${strategy}:${outcome}`;
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      }
    }
    fuzzing = false;
    await goodLoop;

    expect(failures).toEqual([]);
    expect(goodCalls).toBeGreaterThan(10);
    // The server itself closes every connection announcing an oversize frame, and the ones
    // sending a junk header, instead of waiting for them.
    expect(outcomes['2:held'] ?? 0).toBe(0);
    expect(outcomes['2:closed-by-server']).toBeGreaterThan(CONNECTIONS / 10);
    expect(outcomes['3:closed-by-server']).toBeGreaterThan(CONNECTIONS / 10);
    // Every hostile connection is released; only the good client remains.
    let live = '';
    for (let attempt = 0; attempt < 100; attempt++) {
      live = (await client.invoke(address, createRequest(2000), 5000)).remark ?? '';
      if (live === '1') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(live).toBe('1');
    expect(server.exitCode).toBeNull();
    expect(stderr).not.toMatch(/Uncaught|UnhandledPromiseRejection|TypeError|RangeError/);
    expect(stderr).toMatch(/closing remoting connection/); // reasons are logged
    await client.close();
  }, 300_000);
});
