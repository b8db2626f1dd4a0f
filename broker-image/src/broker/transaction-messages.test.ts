import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, type MessageToStore } from '../store/index.js';
import {
  checkRequestParts,
  committedMessage,
  halfRecordProblem,
  immunityMs,
  opDoneMessage,
  opDoneOffset,
  toHalfMessage,
} from './transaction-messages.js';

const born = { address: '10.0.0.9', port: 5555 };
const store = { address: '10.0.0.1', port: 10911 };

function stored(msg: MessageToStore, queueOffset: bigint, physicalOffset: bigint) {
  return decodeRecord(
    encodeRecord({
      ...msg,
      queueOffset,
      physicalOffset,
      storeTimestamp: 1_700_000_000_500,
      storeHost: store,
    }),
  );
}

const prepared: MessageToStore = {
  topic: 'Pay',
  queueId: 3,
  flag: 1,
  body: Buffer.from('tx'),
  properties: new Map([
    ['TRAN_MSG', 'true'],
    ['PGROUP', 'PG'],
    ['UNIQ_KEY', 'ABC'],
  ]),
  sysFlag: 0x4,
  bornTimestamp: 1_700_000_000_000,
  bornHost: born,
  reconsumeTimes: 0,
  preparedTransactionOffset: 0n,
};

describe('transaction messages', () => {
  it('parks a prepared message in the half topic with its real topic and queue', () => {
    const half = toHalfMessage(prepared);
    expect(half.topic).toBe('RMQ_SYS_TRANS_HALF_TOPIC');
    expect(half.queueId).toBe(0);
    expect(half.sysFlag & 0xc).toBe(0);
    expect(half.properties.get('REAL_TOPIC')).toBe('Pay');
    expect(half.properties.get('REAL_QID')).toBe('3');
  });

  it('checks the END_TRANSACTION reference against the half record', () => {
    const record = stored(toHalfMessage(prepared), 7n, 4096n);
    const ref = { producerGroup: 'PG', tranStateTableOffset: 7n, commitLogOffset: 4096n };
    expect(halfRecordProblem(record, ref)).toBeUndefined();
    expect(halfRecordProblem(record, { ...ref, producerGroup: 'Other' })).toMatch(/producer group wrong/);
    expect(halfRecordProblem(record, { ...ref, tranStateTableOffset: 8n })).toMatch(
      /state table offset wrong/,
    );
    expect(halfRecordProblem(record, { ...ref, commitLogOffset: 1n })).toMatch(/commit log offset wrong/);
    const plain = stored({ ...prepared, sysFlag: 0 }, 7n, 4096n);
    expect(halfRecordProblem(plain, ref)).toMatch(/not a half/);
  });

  it('commits into the real topic pointing back at the half record', () => {
    const record = stored(toHalfMessage(prepared), 7n, 4096n);
    const commit = committedMessage(record);
    expect(commit).toMatchObject({
      topic: 'Pay',
      queueId: 3,
      flag: 1,
      sysFlag: 0x8,
      preparedTransactionOffset: 4096n,
      bornTimestamp: 1_700_000_000_000,
      storeHost: store,
    });
    expect(commit.properties.get('TRAN_MSG')).toBe('true');
    expect(commit.properties.get('UNIQ_KEY')).toBe('ABC');
  });

  it('writes and reads op records', () => {
    const op = stored(opDoneMessage(42n, store, 5), 0n, 0n);
    expect(op.topic).toBe('RMQ_SYS_TRANS_OP_HALF_TOPIC');
    expect(opDoneOffset(op)).toBe(42n);
    expect(opDoneOffset(stored({ ...prepared, body: Buffer.from('42') }, 0n, 0n))).toBeUndefined();
  });

  it('builds the check-back request with the real topic in the record', () => {
    const record = stored(toHalfMessage(prepared), 7n, 4096n);
    const { extFields, body } = checkRequestParts(record);
    expect(extFields).toEqual({
      tranStateTableOffset: '7',
      commitLogOffset: '4096',
      msgId: 'ABC',
      transactionId: 'ABC',
      offsetMsgId: '0A00000100002A9F0000000000001000',
    });
    const sent = decodeRecord(body);
    expect(sent.topic).toBe('Pay');
    expect(sent.queueId).toBe(3);
    expect(sent.physicalOffset).toBe(4096n);
    expect(sent.properties.get('PGROUP')).toBe('PG');
  });

  it('reads CHECK_IMMUNITY_TIME_IN_SECONDS', () => {
    const props = (v: string) =>
      stored({ ...prepared, properties: new Map([['CHECK_IMMUNITY_TIME_IN_SECONDS', v]]) }, 0n, 0n);
    expect(immunityMs(props('30'))).toBe(30_000);
    expect(immunityMs(props('x'))).toBeUndefined();
    expect(immunityMs(stored(prepared, 0n, 0n))).toBeUndefined();
  });
});
