// The in-memory form of one remoting command (request or response), and constructors that fill
// in the fields every Bolide-created command carries (protocol.md §1.3, §1.4).

import type { Buffer } from 'node:buffer';
import {
  BOLIDE_VERSION,
  type LanguageName,
  RemotingFlag,
  ResponseCode,
  type SerializeTypeName,
} from './codes.js';

/** String→string custom header. Values from peers are normalised to strings on decode (§1.5). */
export type ExtFields = Record<string, string>;

export interface RemotingCommand {
  /** Request code in a request, response code in a response. */
  code: number;
  /** `JAVA` for everything Bolide sends; whatever the peer said (or `OTHER` if unknown) on decode. */
  language: LanguageName;
  /** Sender's MQVersion ordinal (409 for Bolide). */
  version: number;
  /** Correlation id; remoting overwrites it on requests it sends and echoes it on responses. */
  opaque: number;
  /** Bit 0 = response, bit 1 = oneway. */
  flag: number;
  remark?: string;
  /** Never null in memory; an empty object is written as "no extFields". */
  extFields: ExtFields;
  body?: Buffer;
  /** Header serialization used on the wire; a response must use its request's (§1.2). */
  serializeTypeCurrentRPC: SerializeTypeName;
}

export interface CommandInit {
  extFields?: ExtFields;
  body?: Buffer;
  remark?: string;
  serializeType?: SerializeTypeName;
}

/** A request with `opaque` 0; the remoting layer assigns the real opaque when it sends it. */
export function createRequest(code: number, init: CommandInit = {}): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: BOLIDE_VERSION,
    opaque: 0,
    flag: 0,
    remark: init.remark,
    extFields: init.extFields ?? {},
    body: init.body,
    serializeTypeCurrentRPC: init.serializeType ?? 'JSON',
  };
}

/** The response to `request`: same opaque and serialization type, response flag set. */
export function createResponse(
  request: RemotingCommand,
  code: number = ResponseCode.SUCCESS,
  init: Omit<CommandInit, 'serializeType'> = {},
): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: BOLIDE_VERSION,
    opaque: request.opaque,
    flag: RemotingFlag.RESPONSE,
    remark: init.remark,
    extFields: init.extFields ?? {},
    body: init.body,
    serializeTypeCurrentRPC: request.serializeTypeCurrentRPC,
  };
}

/** Shorthand for an error response carrying only a code and a remark. */
export function createErrorResponse(request: RemotingCommand, code: number, remark: string): RemotingCommand {
  return createResponse(request, code, { remark });
}

export function isResponse(command: RemotingCommand): boolean {
  return (command.flag & RemotingFlag.RESPONSE) !== 0;
}

export function isOneway(command: RemotingCommand): boolean {
  return (command.flag & RemotingFlag.ONEWAY) !== 0;
}

/** Marks a request oneway (flag bit 1); returns the same object. */
export function markOneway(command: RemotingCommand): RemotingCommand {
  command.flag |= RemotingFlag.ONEWAY;
  return command;
}
