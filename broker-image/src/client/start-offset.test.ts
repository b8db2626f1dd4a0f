import { describe, expect, it } from 'vitest';
import type { MessageQueue } from './message.js';
import { computeStartOffset, type StartOffsetSource } from './start-offset.js';

function source(committed: number | undefined): StartOffsetSource & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async committed() {
      calls.push('committed');
      return committed;
    },
    async maxOffset() {
      calls.push('max');
      return 100;
    },
    async searchOffset(_mq, ts) {
      calls.push(`search:${ts}`);
      return 42;
    },
  };
}

const mq: MessageQueue = { topic: 'T', brokerName: 'b', queueId: 0 };
const retry: MessageQueue = { topic: '%RETRY%G', brokerName: 'b', queueId: 0 };

describe('computeStartOffset', () => {
  it('uses the committed offset whatever the policy', async () => {
    for (const policy of [
      'CONSUME_FROM_LAST_OFFSET',
      'CONSUME_FROM_FIRST_OFFSET',
      'CONSUME_FROM_TIMESTAMP',
    ] as const) {
      const s = source(7);
      expect(await computeStartOffset(mq, policy, 1, s)).toBe(7);
      expect(s.calls).toEqual(['committed']);
    }
  });

  it('applies the policy when nothing is committed', async () => {
    expect(await computeStartOffset(mq, 'CONSUME_FROM_LAST_OFFSET', 1, source(undefined))).toBe(100);
    expect(await computeStartOffset(mq, 'CONSUME_FROM_FIRST_OFFSET', 1, source(undefined))).toBe(0);
    const s = source(undefined);
    expect(await computeStartOffset(mq, 'CONSUME_FROM_TIMESTAMP', 1234, s)).toBe(42);
    expect(s.calls).toEqual(['committed', 'search:1234']);
  });

  it('starts retry queues at 0 (LAST) or at the end (TIMESTAMP)', async () => {
    expect(await computeStartOffset(retry, 'CONSUME_FROM_LAST_OFFSET', 1, source(undefined))).toBe(0);
    expect(await computeStartOffset(retry, 'CONSUME_FROM_TIMESTAMP', 1, source(undefined))).toBe(100);
    expect(await computeStartOffset(retry, 'CONSUME_FROM_FIRST_OFFSET', 1, source(undefined))).toBe(0);
  });

  it('propagates transport errors so the caller skips the queue this round', async () => {
    const failing: StartOffsetSource = {
      committed: async () => {
        throw new Error('connect refused');
      },
      maxOffset: async () => 0,
      searchOffset: async () => 0,
    };
    await expect(computeStartOffset(mq, 'CONSUME_FROM_LAST_OFFSET', 1, failing)).rejects.toThrow(/refused/);
  });
});
