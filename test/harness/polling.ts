// Polling and naming helpers shared by every integration test tree (client, broker, compat).

import { randomBytes } from 'node:crypto';

/** `prefix` plus 8 random hex digits, so tests sharing one broker never collide on names. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Polls `check` every 50 ms until it returns true; fails naming `describe()` after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  describe: () => string | Promise<string> = () => 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${await describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls `probe` until it returns a value (errors count as "not yet"); fails naming what and the last error. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out waiting for ${what} (${(last as Error | undefined)?.message ?? 'no error'})`);
}
