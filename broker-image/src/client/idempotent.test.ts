import { describe, expect, it } from 'vitest';
import {
  defaultIdempotencyKey,
  idempotent,
  idempotentOrderly,
  MemoryIdempotencyStore,
} from './idempotent.js';
import type { ConsumeContext, ConsumeOrderlyContext } from './listener.js';
import type { MessageExt } from './message.js';

function msg(msgId: string, keys?: string): MessageExt {
  return { msgId, keys, body: Buffer.from(msgId), properties: {} } as MessageExt;
}
const ctx = {} as ConsumeContext;

describe('defaultIdempotencyKey', () => {
  it('takes the first business key, else the message id', () => {
    expect(defaultIdempotencyKey(msg('ID', 'order-1 customer-9'))).toBe('order-1');
    expect(defaultIdempotencyKey(msg('ID'))).toBe('ID');
    expect(defaultIdempotencyKey(msg('ID', ''))).toBe('ID');
  });
});

describe('idempotent listener', () => {
  it('runs the handler once per key and acknowledges duplicates', async () => {
    const store = new MemoryIdempotencyStore();
    const handled: string[] = [];
    const duplicates: string[] = [];
    const listener = idempotent((m) => void handled.push(m.msgId), {
      store,
      onDuplicate: (_m, key) => duplicates.push(key),
    });
    expect(await listener([msg('a', 'order-1'), msg('b', 'order-2')], ctx)).toBe('CONSUME_SUCCESS');
    expect(await listener([msg('c', 'order-1')], ctx)).toBe('CONSUME_SUCCESS');
    expect(handled).toEqual(['a', 'b']);
    expect(duplicates).toEqual(['order-1']);
  });

  it('releases the key when the handler fails so the redelivery runs', async () => {
    const store = new MemoryIdempotencyStore();
    let calls = 0;
    const listener = idempotent(
      () => {
        calls++;
        if (calls === 1) throw new Error('db down');
        if (calls === 2) return 'RECONSUME_LATER';
        return undefined;
      },
      { store },
    );
    await expect(listener([msg('a')], ctx)).rejects.toThrow('db down');
    expect(await listener([msg('a')], ctx)).toBe('RECONSUME_LATER');
    expect(await listener([msg('a')], ctx)).toBe('CONSUME_SUCCESS');
    expect(await listener([msg('a')], ctx)).toBe('CONSUME_SUCCESS');
    expect(calls).toBe(3);
  });

  it('keeps the messages of a batch that succeeded before a failure', async () => {
    const store = new MemoryIdempotencyStore();
    const handled: string[] = [];
    let failB = true;
    const listener = idempotent(
      (m) => {
        if (m.msgId === 'b' && failB) {
          failB = false;
          return false;
        }
        handled.push(m.msgId);
      },
      { store },
    );
    expect(await listener([msg('a'), msg('b'), msg('c')], ctx)).toBe('RECONSUME_LATER');
    expect(await listener([msg('a'), msg('b'), msg('c')], ctx)).toBe('CONSUME_SUCCESS');
    expect(handled).toEqual(['a', 'b', 'c']);
  });

  it('asks for a retry while another consumer holds a live claim, and takes over an expired one', async () => {
    let now = 0;
    const store = new MemoryIdempotencyStore(1_000, () => now);
    expect(await store.claim('k')).toBe('claimed');
    const handled: string[] = [];
    const listener = idempotent((m) => void handled.push(m.msgId), { store, keyOf: () => 'k' });
    expect(await listener([msg('x')], ctx)).toBe('RECONSUME_LATER');
    now = 1_000;
    expect(await listener([msg('x')], ctx)).toBe('CONSUME_SUCCESS');
    expect(handled).toEqual(['x']);
  });

  it('handles messages without a key every time', async () => {
    const store = new MemoryIdempotencyStore();
    let calls = 0;
    const listener = idempotent(() => void calls++, { store, keyOf: () => undefined });
    await listener([msg('a')], ctx);
    await listener([msg('a')], ctx);
    expect(calls).toBe(2);
  });

  it('has an orderly form', async () => {
    const store = new MemoryIdempotencyStore();
    let calls = 0;
    const listener = idempotentOrderly(() => (++calls === 1 ? false : undefined), { store });
    const octx = {} as ConsumeOrderlyContext;
    expect(await listener([msg('a')], octx)).toBe('SUSPEND_CURRENT_QUEUE_A_MOMENT');
    expect(await listener([msg('a')], octx)).toBe('SUCCESS');
    expect(await listener([msg('a')], octx)).toBe('SUCCESS');
    expect(calls).toBe(2);
  });
});
