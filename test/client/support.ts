// Shared pieces of the client integration tests: polling waits, unique names, and a consumer
// wrapper that records every delivery (to count losses and duplicates).

import { randomBytes } from 'node:crypto';
import {
  type MessageExt,
  PushConsumer,
  type PushConsumerOptions,
} from '../../broker-image/src/client/index.js';

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Polls `check` until it returns true; fails with `describe()` after `timeoutMs`. */
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

export interface Delivery {
  consumer: string;
  body: string;
  msg: MessageExt;
}

/** A push consumer whose listener records deliveries into a shared log. */
export class RecordingConsumer {
  readonly consumer: PushConsumer;
  readonly deliveries: Delivery[];

  constructor(
    readonly name: string,
    options: PushConsumerOptions,
    topic: string,
    expression: string,
    log: Delivery[],
    onMessage?: (msg: MessageExt) => 'CONSUME_SUCCESS' | 'RECONSUME_LATER' | undefined,
  ) {
    this.deliveries = log;
    this.consumer = new PushConsumer(options);
    this.consumer.subscribe(topic, expression);
    this.consumer.registerMessageListener((msgs) => {
      for (const msg of msgs) {
        const verdict = onMessage?.(msg);
        if (verdict === 'RECONSUME_LATER') return verdict;
        log.push({ consumer: name, body: msg.body.toString(), msg });
      }
      return 'CONSUME_SUCCESS';
    });
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  shutdown(): Promise<void> {
    return this.consumer.shutdown();
  }
}

/** Counts of a delivery log against the expected bodies. */
export function tally(log: readonly Delivery[], expected: readonly string[]) {
  const counts = new Map<string, number>();
  for (const d of log) counts.set(d.body, (counts.get(d.body) ?? 0) + 1);
  const missing = [...new Set(expected)].filter((b) => !counts.has(b));
  let duplicates = 0;
  for (const n of counts.values()) if (n > 1) duplicates += n - 1;
  const expectedSet = new Set(expected);
  const unexpected = [...counts.keys()].filter((b) => !expectedSet.has(b));
  /** How many of the expected bodies were delivered at least once. */
  const distinct = new Set(expected).size - missing.length;
  return { distinct, missing, duplicates, unexpected };
}

/** Consumer options tuned for tests: quick heartbeats and rebalances so membership changes settle fast. */
export function fastConsumerOptions(namesrvAddr: string, consumerGroup: string): PushConsumerOptions {
  return {
    namesrvAddr,
    consumerGroup,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    heartbeatBrokerIntervalMs: 2_000,
    rebalanceIntervalMs: 2_000,
    pollNameServerIntervalMs: 2_000,
    persistConsumerOffsetIntervalMs: 1_000,
  };
}
