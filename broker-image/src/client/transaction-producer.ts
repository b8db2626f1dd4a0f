// Transactional producer (RocketMQ's TransactionMQProducer, protocol.md §3.10): a half message
// (TRAN_MSG=true, PGROUP=<group>, prepared sysFlag) is invisible to consumers until the producer
// ends the transaction with the local transaction's outcome (END_TRANSACTION, oneway). Half
// messages left open are checked back by the broker (CHECK_TRANSACTION_STATE); the producer asks
// `checkLocalTransaction` and answers on the connection the check came on.

import {
  BrokerRequestCode,
  createRequest,
  decodeHeader,
  encodeHeader,
  markOneway,
  type RemotingCommand,
} from '../protocol/index.js';
import type { RequestContext } from '../remoting/index.js';
import type { EndTransactionHeader, SendResult } from './client-api.js';
import { MQClientError } from './errors.js';
import { type Message, type MessageExt, MessageProperty } from './message.js';
import { decodeMessage, decodeOffsetMsgId } from './message-decoder.js';
import { Producer, type ProducerOptions } from './producer.js';

/** The local transaction's outcome (Java spells the third one UNKNOW). */
export const LocalTransactionState = {
  COMMIT_MESSAGE: 'COMMIT_MESSAGE',
  ROLLBACK_MESSAGE: 'ROLLBACK_MESSAGE',
  UNKNOW: 'UNKNOW',
} as const;
export type LocalTransactionState = (typeof LocalTransactionState)[keyof typeof LocalTransactionState];

/** Runs the local transaction after the half message is stored. Throwing (or no answer) means UNKNOW. */
export type ExecuteLocalTransaction = (
  msg: Message,
  sendResult: SendResult,
) => LocalTransactionState | undefined | Promise<LocalTransactionState | undefined>;

/** Answers a broker check-back for a half message still open. Throwing (or no answer) means UNKNOW. */
export type CheckLocalTransaction = (
  msg: MessageExt,
) => LocalTransactionState | undefined | Promise<LocalTransactionState | undefined>;

export interface TransactionProducerOptions extends ProducerOptions {
  /** Required: the producer group is how the broker finds who to ask. */
  producerGroup: string;
  checkLocalTransaction: CheckLocalTransaction;
}

export interface TransactionSendResult extends SendResult {
  localTransactionState: LocalTransactionState;
}

/** PGROUP (producer group of a transactional message). */
export const PRODUCER_GROUP_PROPERTY = 'PGROUP';
const TRANSACTION_ID_PROPERTY = '__transactionId__';

/** END_TRANSACTION commitOrRollback codes (MessageSysFlag transaction types). */
export function transactionTypeOf(state: LocalTransactionState): number {
  switch (state) {
    case LocalTransactionState.COMMIT_MESSAGE:
      return 8;
    case LocalTransactionState.ROLLBACK_MESSAGE:
      return 12;
    default:
      return 0;
  }
}

function normalize(state: unknown): LocalTransactionState {
  return state === LocalTransactionState.COMMIT_MESSAGE || state === LocalTransactionState.ROLLBACK_MESSAGE
    ? state
    : LocalTransactionState.UNKNOW;
}

const CHECK_HEADER = {
  tranStateTableOffset: 'long',
  commitLogOffset: 'long',
  msgId: 'string?',
  transactionId: 'string?',
  offsetMsgId: 'string?',
} as const;

export class TransactionProducer extends Producer {
  private readonly checkLocalTransaction: CheckLocalTransaction;

  constructor(options: TransactionProducerOptions) {
    if (!options?.producerGroup) throw new MQClientError('a transactional producer needs a producerGroup');
    if (typeof options.checkLocalTransaction !== 'function') {
      throw new MQClientError('a transactional producer needs checkLocalTransaction');
    }
    super(options);
    this.checkLocalTransaction = options.checkLocalTransaction;
    this.instance.remoting.registerProcessor(BrokerRequestCode.CHECK_TRANSACTION_STATE, (req, ctx) =>
      this.onCheck(req, ctx),
    );
  }

  /**
   * Sends `msg` as a half message, runs `executeLocalTransaction`, and commits or rolls back the
   * message by its answer. UNKNOW leaves the decision to a later check-back.
   */
  async sendMessageInTransaction(
    msg: Message,
    executeLocalTransaction: ExecuteLocalTransaction,
  ): Promise<TransactionSendResult> {
    if (typeof executeLocalTransaction !== 'function') {
      throw new MQClientError('executeLocalTransaction must be a function');
    }
    const properties = { ...(msg.properties ?? {}) };
    delete properties[MessageProperty.DELAY];
    properties[MessageProperty.TRAN_MSG] = 'true';
    properties[PRODUCER_GROUP_PROPERTY] = this.group;
    // Transactional messages cannot be delayed (Java drops the level too).
    const half: Message = { ...msg, delayTimeLevel: undefined, properties };
    const sendResult = await this.send(half);
    let state: LocalTransactionState = LocalTransactionState.UNKNOW;
    let localError: unknown;
    if (sendResult.sendStatus === 'SEND_OK') {
      if (sendResult.transactionId) properties[TRANSACTION_ID_PROPERTY] = sendResult.transactionId;
      try {
        state = normalize(await executeLocalTransaction(half, sendResult));
      } catch (err) {
        localError = err;
        this.instance.logger.warn('local transaction threw; leaving it to the check-back', {
          msgId: sendResult.msgId,
          error: (err as Error).message,
        });
      }
    } else {
      state = LocalTransactionState.ROLLBACK_MESSAGE;
    }
    try {
      await this.endTransaction(sendResult, state, localError);
    } catch (err) {
      // The broker will check the half message back; the outcome is not lost.
      this.instance.logger.warn('END_TRANSACTION not sent; the broker will check back', {
        msgId: sendResult.msgId,
        error: (err as Error).message,
      });
    }
    return { ...sendResult, localTransactionState: state };
  }

  private async endTransaction(
    sendResult: SendResult,
    state: LocalTransactionState,
    localError: unknown,
  ): Promise<void> {
    const { physicalOffset } = decodeOffsetMsgId(sendResult.offsetMsgId || sendResult.msgId);
    const header: EndTransactionHeader = {
      producerGroup: this.group,
      tranStateTableOffset: sendResult.queueOffset,
      commitLogOffset: physicalOffset,
      commitOrRollback: transactionTypeOf(state),
      fromTransactionCheck: false,
      msgId: sendResult.msgId,
      transactionId: sendResult.transactionId,
    };
    const remark =
      localError === undefined ? undefined : `executeLocalTransactionBranch exception: ${String(localError)}`;
    const addr = await this.brokerAddress(sendResult.messageQueue);
    await this.instance.api.endTransactionOneway(addr, header, remark, this.sendMsgTimeoutMs);
  }

  /** CHECK_TRANSACTION_STATE: ask the application, answer oneway on the same connection. */
  private async onCheck(req: RemotingCommand, ctx: RequestContext): Promise<RemotingCommand | null> {
    let header: ReturnType<typeof decodeHeader<typeof CHECK_HEADER>>;
    let msg: MessageExt;
    try {
      header = decodeHeader(req.extFields, CHECK_HEADER);
      msg = decodeMessage(req.body ?? Buffer.alloc(0)).message;
    } catch (err) {
      this.instance.logger.warn('malformed CHECK_TRANSACTION_STATE ignored', {
        error: (err as Error).message,
      });
      return null;
    }
    const group = msg.properties[PRODUCER_GROUP_PROPERTY];
    if (group !== undefined && group !== this.group) {
      this.instance.logger.warn('check-back for another producer group ignored', { group });
      return null;
    }
    let state: LocalTransactionState = LocalTransactionState.UNKNOW;
    let remark: string | undefined;
    try {
      state = normalize(await this.checkLocalTransaction(msg));
    } catch (err) {
      remark = `checkLocalTransactionState exception: ${String(err)}`;
      this.instance.logger.warn('checkLocalTransaction threw; answering UNKNOW', {
        msgId: msg.msgId,
        error: (err as Error).message,
      });
    }
    const answer = markOneway(
      createRequest(BrokerRequestCode.END_TRANSACTION, {
        extFields: encodeHeader({
          producerGroup: this.group,
          tranStateTableOffset: header.tranStateTableOffset,
          commitLogOffset: header.commitLogOffset,
          commitOrRollback: transactionTypeOf(state),
          fromTransactionCheck: true,
          msgId: msg.properties[MessageProperty.UNIQ_KEY] ?? msg.msgId,
          transactionId: header.transactionId,
        }),
      }),
    );
    if (remark !== undefined) answer.remark = remark;
    try {
      ctx.invokeOneway(answer);
    } catch (err) {
      this.instance.logger.warn('answer to a check-back not sent', { error: (err as Error).message });
    }
    return null;
  }
}
