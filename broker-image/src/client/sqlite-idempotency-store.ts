// IdempotencyStore on SQLite (better-sqlite3): one row per (scope, key) under a primary key, so
// the insert is the unique-constraint check, atomic across threads and processes sharing the
// file. A row is `claimed` while its handler runs and `consumed` after; a claim older than
// `claimTimeoutMs` belongs to a consumer that died and is taken over. WAL mode with a busy
// timeout lets several consumer processes use one file.

import type BetterSqlite3 from 'better-sqlite3';
import type { ClaimResult, IdempotencyStore } from './idempotent.js';

export interface SqliteIdempotencyStoreOptions {
  /** Database file (created if missing), or ':memory:'. */
  path: string;
  /** Namespace of the keys, e.g. the consumer group: one key in two scopes is two records. Default ''. */
  scope?: string;
  /** Table name (created if missing). Default `bolide_consumed`. */
  table?: string;
  /** A claim not completed or released within this time is taken over. Default 15 min (Java's consumeTimeout). */
  claimTimeoutMs?: number;
  /** How long a writer waits for another process's lock, ms. Default 5 000. */
  busyTimeoutMs?: number;
  now?: () => number;
}

const STATE_CLAIMED = 0;
const STATE_CONSUMED = 1;

interface Statements {
  claim: BetterSqlite3.Statement<[string, string, number, number]>;
  state: BetterSqlite3.Statement<[string, string], { state: number }>;
  complete: BetterSqlite3.Statement<[number, string, string]>;
  release: BetterSqlite3.Statement<[string, string, number]>;
  prune: BetterSqlite3.Statement<[number]>;
}

export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly scope: string;
  private readonly claimTimeoutMs: number;
  private readonly now: () => number;
  private readonly sql: Statements;
  /** Claim times handed out by this store, so a release only deletes its own claim. */
  private readonly claims = new Map<string, number>();

  private constructor(
    private readonly db: BetterSqlite3.Database,
    options: SqliteIdempotencyStoreOptions,
    table: string,
  ) {
    this.scope = options.scope ?? '';
    this.claimTimeoutMs = options.claimTimeoutMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        state INTEGER NOT NULL,
        claimed_at INTEGER NOT NULL,
        consumed_at INTEGER,
        PRIMARY KEY (scope, key)
      ) WITHOUT ROWID`,
    );
    this.sql = {
      // Inserts a new claim, or takes over an expired one; a live claim or a consumed row is left alone.
      claim: db.prepare(
        `INSERT INTO ${table} (scope, key, state, claimed_at) VALUES (?, ?, ${STATE_CLAIMED}, ?)
         ON CONFLICT (scope, key) DO UPDATE SET claimed_at = excluded.claimed_at
         WHERE state = ${STATE_CLAIMED} AND claimed_at < ?`,
      ),
      state: db.prepare(`SELECT state FROM ${table} WHERE scope = ? AND key = ?`),
      complete: db.prepare(
        `UPDATE ${table} SET state = ${STATE_CONSUMED}, consumed_at = ? WHERE scope = ? AND key = ?`,
      ),
      release: db.prepare(
        `DELETE FROM ${table} WHERE scope = ? AND key = ? AND state = ${STATE_CLAIMED} AND claimed_at = ?`,
      ),
      prune: db.prepare(`DELETE FROM ${table} WHERE state = ${STATE_CONSUMED} AND consumed_at < ?`),
    };
  }

  /** Opens (and creates) the store. better-sqlite3 is loaded here, so importing the client never needs it. */
  static async open(options: SqliteIdempotencyStoreOptions): Promise<SqliteIdempotencyStore> {
    const table = options.table ?? 'bolide_consumed';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) {
      throw new Error(`table name "${table}" must be a plain SQL identifier`);
    }
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5_000 });
    try {
      if (!db.memory) db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      return new SqliteIdempotencyStore(db, options, table);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  async claim(key: string): Promise<ClaimResult> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = this.now();
      const inserted = this.sql.claim.run(this.scope, key, now, now - this.claimTimeoutMs);
      if (inserted.changes === 1) {
        this.claims.set(key, now);
        return 'claimed';
      }
      const row = this.sql.state.get(this.scope, key);
      // Released between the two statements: try to claim again.
      if (!row) continue;
      return row.state === STATE_CONSUMED ? 'duplicate' : 'in-progress';
    }
    return 'in-progress';
  }

  async complete(key: string): Promise<void> {
    this.sql.complete.run(this.now(), this.scope, key);
    this.claims.delete(key);
  }

  async release(key: string): Promise<void> {
    const claimedAt = this.claims.get(key);
    this.claims.delete(key);
    if (claimedAt !== undefined) this.sql.release.run(this.scope, key, claimedAt);
  }

  /** Deletes consumed records older than `maxAgeMs` (keep them longer than any redelivery can come); returns how many. */
  prune(maxAgeMs: number): number {
    return this.sql.prune.run(this.now() - maxAgeMs).changes;
  }

  /** Whether `key` is recorded as consumed (for tools and tests). */
  isConsumed(key: string): boolean {
    return this.sql.state.get(this.scope, key)?.state === STATE_CONSUMED;
  }

  close(): void {
    this.db.close();
  }
}
