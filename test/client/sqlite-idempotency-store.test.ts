// SqliteIdempotencyStore on a real database file: the unique key decides who handles a message,
// across connections (as across processes) and reopenings; stale claims are taken over.

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteIdempotencyStore } from '../../broker-image/src/client/index.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bolide-idem-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SqliteIdempotencyStore', () => {
  it('claims a key once, reports duplicates and live claims, and survives reopening', async () => {
    const path = join(dir, 'a.db');
    const one = await SqliteIdempotencyStore.open({ path, scope: 'G1' });
    const two = await SqliteIdempotencyStore.open({ path, scope: 'G1' });
    const otherGroup = await SqliteIdempotencyStore.open({ path, scope: 'G2' });
    try {
      expect(await one.claim('order-1')).toBe('claimed');
      expect(await two.claim('order-1')).toBe('in-progress');
      expect(await otherGroup.claim('order-1')).toBe('claimed');
      await one.complete('order-1');
      expect(await two.claim('order-1')).toBe('duplicate');
      expect(two.isConsumed('order-1')).toBe(true);

      expect(await two.claim('order-2')).toBe('claimed');
      await two.release('order-2');
      expect(await one.claim('order-2')).toBe('claimed');
      // A release by someone who does not hold the claim changes nothing.
      await two.release('order-2');
      expect(await two.claim('order-2')).toBe('in-progress');
    } finally {
      one.close();
      two.close();
      otherGroup.close();
    }
    const reopened = await SqliteIdempotencyStore.open({ path, scope: 'G1' });
    try {
      expect(await reopened.claim('order-1')).toBe('duplicate');
      expect(await reopened.claim('order-3')).toBe('claimed');
    } finally {
      reopened.close();
    }
  });

  it('takes over a claim older than claimTimeoutMs, and the old owner cannot delete it', async () => {
    let now = 1_000_000;
    const path = join(dir, 'b.db');
    const dead = await SqliteIdempotencyStore.open({ path, claimTimeoutMs: 5_000, now: () => now });
    const alive = await SqliteIdempotencyStore.open({ path, claimTimeoutMs: 5_000, now: () => now });
    try {
      expect(await dead.claim('k')).toBe('claimed');
      now += 4_999;
      expect(await alive.claim('k')).toBe('in-progress');
      now += 2;
      expect(await alive.claim('k')).toBe('claimed');
      await dead.release('k');
      expect(await dead.claim('k')).toBe('in-progress');
      await alive.complete('k');
      expect(await dead.claim('k')).toBe('duplicate');
    } finally {
      dead.close();
      alive.close();
    }
  });

  it('prunes consumed records older than a given age', async () => {
    let now = 0;
    const store = await SqliteIdempotencyStore.open({ path: join(dir, 'c.db'), now: () => now });
    try {
      await store.claim('old');
      await store.complete('old');
      now = 10_000;
      await store.claim('new');
      await store.complete('new');
      await store.claim('pending');
      expect(store.prune(5_000)).toBe(1);
      expect(await store.claim('old')).toBe('claimed');
      expect(await store.claim('new')).toBe('duplicate');
      expect(await store.claim('pending')).toBe('in-progress');
    } finally {
      store.close();
    }
  });

  it('refuses a table name that is not an identifier', async () => {
    await expect(SqliteIdempotencyStore.open({ path: ':memory:', table: 'x; DROP TABLE y' })).rejects.toThrow(
      /identifier/,
    );
  });

  it('lets exactly one of several processes claim a key', async () => {
    const path = join(dir, 'd.db');
    const script = `
      import { SqliteIdempotencyStore } from ${JSON.stringify(join(process.cwd(), 'broker-image/src/client/index.ts'))};
      const store = await SqliteIdempotencyStore.open({ path: ${JSON.stringify(path)} });
      let won = 0;
      for (let i = 0; i < 200; i++) if ((await store.claim('k' + i)) === 'claimed') won++;
      store.close();
      console.log(won);
    `;
    const run = promisify(execFile);
    const runs = await Promise.all(
      [0, 1, 2].map(async () => {
        const { stdout } = await run(process.execPath, [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          script,
        ]);
        return Number(stdout.trim());
      }),
    );
    // Every key went to exactly one process (each of them got some when they overlapped).
    expect(runs.reduce((a, b) => a + b, 0)).toBe(200);
  });
});
