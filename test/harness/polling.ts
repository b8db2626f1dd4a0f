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
