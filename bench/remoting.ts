// Remoting overhead benchmark: request/response throughput of RemotingClient → RemotingServer
// (server in a child process) against the bare TCP loop of bench/loopback.ts, same frame sizes
// and concurrency. Prints a table, then one JSON object as the last line.
//   node --import tsx bench/remoting.ts [--body-bytes 1024] [--concurrency 32] [--duration-ms 5000]

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  createRequest,
  encodeCommand,
  encodeHeader,
  RequestCode,
} from '../broker-image/src/protocol/index.js';
import { RemotingClient } from '../broker-image/src/remoting/index.js';
import { measureLoopback } from './loopback.js';

const { values } = parseArgs({
  options: {
    'body-bytes': { type: 'string', default: '1024' },
    concurrency: { type: 'string', default: '32' },
    'duration-ms': { type: 'string', default: '5000' },
    serialize: { type: 'string', default: 'JSON' },
  },
});
const bodyBytes = Number(values['body-bytes']);
const concurrency = Number(values.concurrency);
const durationMs = Number(values['duration-ms']);
const serializeType = values.serialize === 'ROCKETMQ' ? 'ROCKETMQ' : 'JSON';

const body = Buffer.alloc(bodyBytes, 0x61);

function sendRequest() {
  return createRequest(RequestCode.SEND_MESSAGE_V2, {
    serializeType,
    extFields: encodeHeader({
      a: 'BenchProducerGroup',
      b: 'BenchTopic',
      c: 'TBW102',
      d: 4,
      e: 1,
      f: 0,
      g: Date.now(),
      h: 0,
      i: 'UNIQ_KEY\u00017F0000010001000000000000000000000\u0002WAIT\u0001true\u0002TAGS\u0001TagA\u0002',
      j: 0,
      k: false,
      m: false,
    }),
    body,
  });
}

/** CPU time (user + system) a process has used, in µs, from /proc (Linux); 0 elsewhere. */
function processCpuMicros(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after "pid (comm) ".
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return 0;
  }
}

interface RemotingResult {
  msgsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  responseBytes: number;
  clientCpuMicrosPerMsg: number;
  serverCpuMicrosPerMsg: number;
}

async function measureRemoting(): Promise<RemotingResult> {
  const here = dirname(fileURLToPath(import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'remoting-echo-server.ts')], {
    // stdin is a pipe the child watches: if this process dies, the server goes too.
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /PORT (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
  });
  const client = new RemotingClient();
  const address = `127.0.0.1:${port}`;
  let measuring = false;
  let running = true;
  let completed = 0;
  let responseBytes = 0;
  const latencies: number[] = [];
  const worker = async () => {
    while (running) {
      const started = performance.now();
      const response = await client.invoke(address, sendRequest(), 10_000);
      if (measuring) {
        completed++;
        latencies.push(performance.now() - started);
        if (responseBytes === 0) responseBytes = encodeCommand(response).length;
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  measuring = true;
  const started = performance.now();
  const clientCpu = process.cpuUsage();
  const serverCpu = processCpuMicros(child.pid ?? 0);
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  measuring = false;
  const elapsed = performance.now() - started;
  const clientUsed = process.cpuUsage(clientCpu);
  const serverUsed = processCpuMicros(child.pid ?? 0) - serverCpu;
  running = false;
  await Promise.all(workers);
  await client.close();
  child.kill('SIGTERM');
  const sorted = latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    Number((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0).toFixed(3));
  return {
    msgsPerSec: Math.round((completed / elapsed) * 1000),
    p50Ms: at(50),
    p99Ms: at(99),
    responseBytes,
    // CPU per message stays meaningful when the machine is shared; wall-clock rates do not.
    clientCpuMicrosPerMsg: Number(((clientUsed.user + clientUsed.system) / completed).toFixed(2)),
    serverCpuMicrosPerMsg: Number((serverUsed / completed).toFixed(2)),
  };
}

const requestBytes = encodeCommand(sendRequest()).length;
const remoting = await measureRemoting();
const loopback = await measureLoopback({
  requestBytes,
  responseBytes: remoting.responseBytes,
  concurrency,
  durationMs,
});

const rows = [
  ['bare TCP loop', loopback.msgsPerSec, loopback.p50Ms, loopback.p99Ms],
  [`remoting (${serializeType} header)`, remoting.msgsPerSec, remoting.p50Ms, remoting.p99Ms],
];
console.log(`request ${requestBytes} B, response ${remoting.responseBytes} B, concurrency ${concurrency}`);
console.log('path                       msgs/s     p50 ms   p99 ms');
for (const [name, rate, p50, p99] of rows) {
  console.log(
    `${String(name).padEnd(26)} ${String(rate).padStart(8)} ${String(p50).padStart(9)} ${String(p99).padStart(8)}`,
  );
}
console.log(
  JSON.stringify({
    request_bytes: requestBytes,
    response_bytes: remoting.responseBytes,
    concurrency,
    serialize_type: serializeType,
    loopback_limit_msgs_per_s: loopback.msgsPerSec,
    remoting_msgs_per_s: remoting.msgsPerSec,
    remoting_p99_ms: remoting.p99Ms,
    remoting_client_cpu_us_per_msg: remoting.clientCpuMicrosPerMsg,
    remoting_server_cpu_us_per_msg: remoting.serverCpuMicrosPerMsg,
    remoting_vs_loopback: Number((remoting.msgsPerSec / loopback.msgsPerSec).toFixed(3)),
  }),
);
