// Verifies body CRCs in a worker thread, so that a large recovery scan parses records on the main
// thread while their CRCs are checked on another core. The worker is plain JavaScript (no loader
// needed) and reads the chunk through a SharedArrayBuffer, without copying.

import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { crc32 } = require('node:zlib');
parentPort.on('message', ({ id, sab, ranges, count }) => {
  let bad = -1;
  for (let i = 0; i < count; i++) {
    const crc = crc32(new Uint8Array(sab, ranges[i * 3], ranges[i * 3 + 1])) & 0x7fffffff;
    if (crc !== ranges[i * 3 + 2]) { bad = i; break; }
  }
  parentPort.postMessage({ id, bad });
});
`;

/** Room for the (offset, length, CRC) triples of `count` bodies, shared with the worker. */
export function crcRanges(count: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(count * 3 * Float64Array.BYTES_PER_ELEMENT));
}

export class CrcVerifier {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(bad: number): void; reject(err: Error): void }>();
  private failure: Error | undefined;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.unref();
    this.worker.on('message', ({ id, bad }: { id: number; bad: number }) => {
      this.pending.get(id)?.resolve(bad);
      this.pending.delete(id);
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`CRC worker exited (${code})`)));
  }

  /**
   * Checks `count` bodies given as (byte offset in `sab`, length, expected masked CRC) triples in
   * `ranges` (from `crcRanges`: shared, so nothing is copied). Resolves with the index of the
   * first mismatch, or -1 when all match. `ranges` must not change until then.
   */
  verify(sab: SharedArrayBuffer, ranges: Float64Array, count: number): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, sab, ranges, count });
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
