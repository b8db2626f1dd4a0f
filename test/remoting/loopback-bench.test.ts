// bench/loopback.ts is what the broker benchmark divides by; check it really round-trips
// frames (no timing thresholds: only that it measured something consistent).

import { describe, expect, it } from 'vitest';
import { measureLoopback } from '../../bench/loopback.js';

describe('measureLoopback', () => {
  it('exchanges request/response frames with a server process and reports consistent figures', async () => {
    const result = await measureLoopback({
      requestBytes: 1300,
      responseBytes: 250,
      concurrency: 8,
      durationMs: 300,
      warmupMs: 100,
    });
    expect(result.requests).toBeGreaterThan(0);
    // durationMs is rounded, so allow 1 % between the rate and requests / duration.
    const implied = (result.requests / result.durationMs) * 1000;
    expect(Math.abs(result.msgsPerSec - implied)).toBeLessThanOrEqual(implied * 0.01 + 1);
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
    expect(result.p50Ms).toBeGreaterThan(0);
    expect(result).toMatchObject({ requestBytes: 1300, responseBytes: 250, concurrency: 8 });
  });
});
