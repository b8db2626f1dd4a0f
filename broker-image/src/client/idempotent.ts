// Idempotent consumption, the pattern RocketMQ recommends for its at-least-once delivery: before
// handling a message, insert its business key into a store with a unique constraint. A key that
// is already consumed is a duplicate and is acknowledged without running the handler; a handler
// failure deletes the claim so the redelivery runs again. A claim whose consumer died mid-handler
// expires (store-specific), so a crash never loses the message.

import {
  ConsumeOrderlyStatus,
  ConsumeStatus,
  type MessageListener,
  type MessageListenerOrderly,
} from './listener.js';
import type { MessageExt } from './message.js';

/**
 * claimed: this caller owns the key now and must complete or release it.
 * duplicate: the key was consumed before; skip the message.
 * in-progress: another consumer holds a live claim; try again later.
 */
export type ClaimResult = 'claimed' | 'duplicate' | 'in-progress';

/** A store with a unique constraint on the key (a database table, a Redis SETNX, …). */
export interface IdempotencyStore {
  claim(key: string): Promise<ClaimResult>;
  /** The handler succeeded: the key stays, marked consumed. */
  complete(key: string): Promise<void>;
  /** The handler failed: forget the claim so a redelivery is handled again. */
  release(key: string): Promise<void>;
}

/** The business key of a message: the first of its KEYS, else its message id (UNIQ_KEY). */
export function defaultIdempotencyKey(msg: MessageExt): string {
  const first = msg.keys?.split(' ').find((k) => k.length > 0);
  return first ?? msg.msgId;
}

export interface IdempotentOptions {
  store: IdempotencyStore;
  /** Key to deduplicate on; default defaultIdempotencyKey. Undefined or '' handles the message without deduplication. */
  keyOf?: (msg: MessageExt) => string | undefined;
  /** Called for each skipped duplicate. */
  onDuplicate?: (msg: MessageExt, key: string) => void;
}

/** Handles one message; return false (or throw) for a failure, anything else is success. */
export type MessageHandler = (msg: MessageExt) => unknown | Promise<unknown>;

function failed(result: unknown): boolean {
  return (
    result === false ||
    result === ConsumeStatus.RECONSUME_LATER ||
    result === ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT
  );
}

/**
 * Runs `handler` once per key over a batch, in order. True when every message is done (handled
 * now or before); false at the first that must be retried. Handler errors are rethrown after the
 * claim is released.
 */
export async function handleOnce(
  msgs: readonly MessageExt[],
  handler: MessageHandler,
  options: IdempotentOptions,
): Promise<boolean> {
  const keyOf = options.keyOf ?? defaultIdempotencyKey;
  for (const msg of msgs) {
    const key = keyOf(msg);
    if (key === undefined || key === '') {
      if (failed(await handler(msg))) return false;
      continue;
    }
    const claim = await options.store.claim(key);
    if (claim === 'duplicate') {
      options.onDuplicate?.(msg, key);
      continue;
    }
    if (claim === 'in-progress') return false;
    let result: unknown;
    try {
      result = await handler(msg);
    } catch (err) {
      await options.store.release(key);
      throw err;
    }
    if (failed(result)) {
      await options.store.release(key);
      return false;
    }
    await options.store.complete(key);
  }
  return true;
}

/**
 * Wraps a per-message handler as a concurrent listener that skips messages whose key was already
 * consumed. A failure answers RECONSUME_LATER; messages of the batch handled before it stay done,
 * so the redelivered batch skips them.
 */
export function idempotent(handler: MessageHandler, options: IdempotentOptions): MessageListener {
  return async (msgs) =>
    (await handleOnce(msgs, handler, options))
      ? ConsumeStatus.CONSUME_SUCCESS
      : ConsumeStatus.RECONSUME_LATER;
}

/** The same for an orderly consumer (a failure suspends the queue and retries locally). */
export function idempotentOrderly(
  handler: MessageHandler,
  options: IdempotentOptions,
): MessageListenerOrderly {
  return async (msgs) =>
    (await handleOnce(msgs, handler, options))
      ? ConsumeOrderlyStatus.SUCCESS
      : ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
}

/**
 * In-process store (one consumer process, nothing survives a restart): for tests and for
 * deduplicating within a process lifetime. Claims older than `claimTimeoutMs` are taken over.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, { consumed: boolean; claimedAt: number }>();

  constructor(
    private readonly claimTimeoutMs = 15 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(key: string): Promise<ClaimResult> {
    const record = this.records.get(key);
    const now = this.now();
    if (record?.consumed) return 'duplicate';
    if (record && now - record.claimedAt < this.claimTimeoutMs) return 'in-progress';
    this.records.set(key, { consumed: false, claimedAt: now });
    return 'claimed';
  }

  async complete(key: string): Promise<void> {
    this.records.set(key, { consumed: true, claimedAt: this.now() });
  }

  async release(key: string): Promise<void> {
    if (this.records.get(key)?.consumed === false) this.records.delete(key);
  }
}
