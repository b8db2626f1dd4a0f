// Errors of remote calls. A response with a non-zero code is not an error at this layer; the
// caller interprets codes.

export class RemotingError extends Error {
  override name = 'RemotingError';
}

/** No response within the timeout; the late response, if any, is dropped. */
export class RemotingTimeoutError extends RemotingError {
  override name = 'RemotingTimeoutError';
}

/** Could not open a connection to the address. */
export class RemotingConnectError extends RemotingError {
  override name = 'RemotingConnectError';
}

/** The connection closed before the response arrived, or was already closed. */
export class RemotingClosedError extends RemotingError {
  override name = 'RemotingClosedError';
}

/** The request could not be sent (e.g. it is larger than maxFrameLength). */
export class RemotingSendError extends RemotingError {
  override name = 'RemotingSendError';
}
