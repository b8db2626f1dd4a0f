import { describe, expect, it } from 'vitest';
import { TransactionBook } from './transaction-book.js';

const settings = { timeoutMs: 6000, checkMax: 3 };

describe('transaction book', () => {
  it('checks a half message once it is older than the timeout, then once per timeout', () => {
    const book = new TransactionBook();
    expect(book.decide(0n, 1000, undefined, 6999, settings)).toBe('stop');
    expect(book.decide(0n, 1000, undefined, 7000, settings)).toBe('check');
    book.recordCheck(0n, 7000);
    expect(book.decide(0n, 1000, undefined, 12_999, settings)).toBe('skip');
    expect(book.decide(0n, 1000, undefined, 13_000, settings)).toBe('check');
    expect(book.checkCount(0n)).toBe(1);
  });

  it('honours a per-message immunity time without ending the scan', () => {
    const book = new TransactionBook();
    expect(book.decide(0n, 0, 20_000, 10_000, settings)).toBe('skip');
    expect(book.decide(0n, 0, 20_000, 20_000, settings)).toBe('check');
    expect(book.decide(1n, 0, 1000, 2000, settings)).toBe('check');
  });

  it('discards after transactionCheckMax checks', () => {
    const book = new TransactionBook();
    let now = 10_000;
    for (let i = 0; i < 3; i++) {
      expect(book.decide(0n, 0, undefined, now, settings)).toBe('check');
      book.recordCheck(0n, now);
      now += 6000;
    }
    expect(book.decide(0n, 0, undefined, now, settings)).toBe('discard');
  });

  it('claims a half message once; finished ones are never checked again', () => {
    const book = new TransactionBook();
    expect(book.claim(4n)).toBe(true);
    expect(book.claim(4n)).toBe(false);
    expect(book.decide(4n, 0, undefined, 100_000, settings)).toBe('finished');
    book.release(4n);
    expect(book.claim(4n)).toBe(true);
    book.markDone(4n, 0n);
    expect(book.isFinished(4n)).toBe(true);
    expect(book.claim(4n)).toBe(false);
    expect(book.decide(4n, 0, undefined, 100_000, settings)).toBe('finished');
  });

  it('advances over the finished prefix and keeps only the op records still needed', () => {
    const book = new TransactionBook();
    // Half 0 and 2 finished (op 0 and 1); half 1 pending.
    book.markDone(0n, 0n);
    book.markDone(2n, 1n);
    book.compact(0n, 3n, 2n);
    expect(book.halfOffset).toBe(1n);
    expect(book.opOffset).toBe(1n);
    book.markDone(1n, 2n);
    book.compact(0n, 3n, 3n);
    expect(book.halfOffset).toBe(3n);
    expect(book.opOffset).toBe(3n);
    // Retention removed the head of the half queue.
    book.compact(7n, 9n, 3n);
    expect(book.halfOffset).toBe(7n);
  });

  it('does not move the op position while an outcome is being written', () => {
    const book = new TransactionBook();
    book.claim(0n);
    book.compact(0n, 1n, 5n);
    expect(book.opOffset).toBe(0n);
    book.markDone(0n, 5n);
    book.compact(0n, 1n, 6n);
    expect(book.halfOffset).toBe(1n);
    expect(book.opOffset).toBe(6n);
  });

  it('round-trips progress and check counts, and reports changes once', () => {
    const book = new TransactionBook();
    book.markDone(0n, 0n);
    book.recordCheck(1n, 10);
    book.recordCheck(1n, 20);
    book.compact(0n, 2n, 1n);
    expect(book.takeChanged()).toBe(true);
    expect(book.takeChanged()).toBe(false);
    const text = book.encode();
    const again = new TransactionBook();
    again.load(text);
    expect(again.halfOffset).toBe(1n);
    expect(again.opOffset).toBe(1n);
    expect(again.checkCount(1n)).toBe(2);
    // After a restart the next check is not held back by a check time it no longer knows.
    expect(again.decide(1n, 0, undefined, 6000, settings)).toBe('check');
    const junk = new TransactionBook();
    junk.load('{"halfOffset":-4,"checkTimes":{"x":1,"3":"bad"}}');
    expect(junk.halfOffset).toBe(0n);
    expect(junk.checkCount(3n)).toBe(0);
  });
});
