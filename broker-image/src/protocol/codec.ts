// Command ⇄ frame bytes (protocol.md §1.2): length | serType<<24 | headerLen | header | body.
// `frame` arguments are the bytes after the length field, as FrameDecoder hands them out.

import { Buffer } from 'node:buffer';
import { binaryHeaderLength, decodeBinaryHeader, writeBinaryHeader } from './binary-header.js';
import { SerializeType } from './codes.js';
import type { RemotingCommand } from './command.js';
import { ProtocolError } from './errors.js';
import { decodeJsonHeader, encodeJsonHeader } from './json-header.js';

const MAX_HEADER_LENGTH = 0xffffff;

/** Bodies up to this size are copied behind the header so a frame is one buffer (one write). */
const INLINE_BODY_LIMIT = 16 * 1024;

/** Allocates length field + type word + header + `reserve` spare bytes and fills all but the spare. */
function encodeHead(command: RemotingCommand, bodyLength: number, reserve: number): Buffer {
  let head: Buffer;
  if (command.serializeTypeCurrentRPC === 'ROCKETMQ') {
    const headerLength = binaryHeaderLength(command);
    if (headerLength > MAX_HEADER_LENGTH)
      throw new RangeError(`header of ${headerLength} bytes exceeds 16 MiB`);
    head = Buffer.allocUnsafe(8 + headerLength + reserve);
    head.writeInt32BE(4 + headerLength + bodyLength, 0);
    head.writeInt32BE((SerializeType.ROCKETMQ << 24) | headerLength, 4);
    writeBinaryHeader(command, head, 8);
  } else {
    const text = encodeJsonHeader(command);
    const headerLength = Buffer.byteLength(text);
    if (headerLength > MAX_HEADER_LENGTH)
      throw new RangeError(`header of ${headerLength} bytes exceeds 16 MiB`);
    head = Buffer.allocUnsafe(8 + headerLength + reserve);
    head.writeInt32BE(4 + headerLength + bodyLength, 0);
    // Type byte 0: ali-ons reads this word unmasked, so a JSON frame must never set it (§1.2).
    head.writeInt32BE(headerLength, 4);
    head.write(text, 8);
  }
  return head;
}

/**
 * Encodes a command for writing: the length field, type word and header in one buffer, and a
 * body too large to copy cheaply (> 16 KiB) returned separately, uncopied, for writev. Smaller
 * bodies are copied into the first buffer and the second element is undefined.
 */
export function encodeCommandParts(command: RemotingCommand): [head: Buffer, body: Buffer | undefined] {
  const body = command.body;
  const bodyLength = body ? body.length : 0;
  if (body === undefined || bodyLength === 0) return [encodeHead(command, 0, 0), undefined];
  if (bodyLength > INLINE_BODY_LIMIT) return [encodeHead(command, bodyLength, 0), body];
  const frame = encodeHead(command, bodyLength, bodyLength);
  body.copy(frame, frame.length - bodyLength);
  return [frame, undefined];
}

/** The whole frame, length field included, in one buffer. */
export function encodeCommand(command: RemotingCommand): Buffer {
  const body = command.body;
  const bodyLength = body ? body.length : 0;
  const frame = encodeHead(command, bodyLength, bodyLength);
  if (body && bodyLength > 0) body.copy(frame, frame.length - bodyLength);
  return frame;
}

/**
 * Decodes one frame (bytes after the length field). The body is a view of `frame`, not a copy.
 * Throws ProtocolError on anything malformed.
 */
export function decodeCommand(frame: Buffer): RemotingCommand {
  if (frame.length < 4) throw new ProtocolError(`frame of ${frame.length} bytes has no header-length word`);
  const word = frame.readUInt32BE(0);
  const type = word >>> 24;
  const headerLength = word & 0xffffff;
  if (4 + headerLength > frame.length) {
    throw new ProtocolError(
      `header length ${headerLength} exceeds the frame (${frame.length - 4} bytes left)`,
    );
  }
  let command: RemotingCommand;
  if (type === SerializeType.JSON) {
    command = decodeJsonHeader(frame.toString('utf8', 4, 4 + headerLength)) as RemotingCommand;
  } else if (type === SerializeType.ROCKETMQ) {
    command = decodeBinaryHeader(frame.subarray(4, 4 + headerLength)) as RemotingCommand;
  } else {
    throw new ProtocolError(`unknown header serialization type ${type}`);
  }
  if (frame.length > 4 + headerLength) command.body = frame.subarray(4 + headerLength);
  return command;
}
