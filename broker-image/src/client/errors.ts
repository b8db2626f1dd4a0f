// Errors the client raises. Transport failures come from remoting (RemotingError and subclasses);
// a broker or name server answering with a non-success code is an MQBrokerError.

import { RemotingError } from '../remoting/index.js';

/** Misuse or a state the client cannot work in (not started, no route, bad argument). */
export class MQClientError extends Error {
  override name = 'MQClientError';
}

/** A server answered with a non-success response code. */
export class MQBrokerError extends Error {
  override name = 'MQBrokerError';
  constructor(
    readonly code: number,
    readonly remark: string | undefined,
    readonly address: string,
  ) {
    super(`server ${address} answered code ${code}${remark ? `: ${remark}` : ''}`);
  }
}

/**
 * True when a call failed without an answer from the server: connect refused or timed out, no
 * response in time, connection closed. False for MQBrokerError (the server answered with a code)
 * and MQClientError (refused client-side, e.g. no route).
 */
export function isUnreachable(err: unknown): boolean {
  return err instanceof RemotingError;
}
