// Error classes of the codec. A ProtocolError means the peer sent bytes that cannot be a
// RocketMQ frame; the connection that produced them is unusable and must be closed. A
// HeaderFieldError means a well-formed command lacks or mangles a custom-header field; that is
// the request's fault only and is answered with SYSTEM_ERROR (protocol.md §1.5).

/** Malformed bytes on the wire: bad length, bad header, unknown serialization type. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** A frame's length field exceeds the configured maximum (protocol.md §1.2, 16 MiB default). */
export class FrameTooLargeError extends ProtocolError {
  override name = 'FrameTooLargeError';
  constructor(
    readonly frameLength: number,
    readonly maxFrameLength: number,
  ) {
    super(`frame length ${frameLength} exceeds the maximum ${maxFrameLength}`);
  }
}

/** A required custom-header (`extFields`) field is missing, or a field does not parse as its type. */
export class HeaderFieldError extends Error {
  override name = 'HeaderFieldError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A JSON body could not be parsed even by the tolerant parser. */
export class BodyParseError extends Error {
  override name = 'BodyParseError';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}
