// ROCKETMQ binary header (serialization type 1, protocol.md §1.3.2):
// code short | language byte | version short | opaque int | flag int | remarkLen int | remark |
// extLen int | (keyLen short, key, valLen int, value)*. All big-endian, strings UTF-8.

import { Buffer } from 'node:buffer';
import { LANGUAGES, type LanguageName } from './codes.js';
import type { ExtFields, RemotingCommand } from './command.js';
import { ProtocolError } from './errors.js';

const FIXED_PART = 2 + 1 + 2 + 4 + 4 + 4 + 4;

/** Byte length of the binary header of `command`. */
export function binaryHeaderLength(command: RemotingCommand): number {
  let length = FIXED_PART;
  if (command.remark) length += Buffer.byteLength(command.remark);
  const ext = command.extFields;
  for (const key in ext) {
    const value = ext[key];
    if (value === undefined || value === null) continue;
    length += 2 + Buffer.byteLength(key) + 4 + Buffer.byteLength(String(value));
  }
  return length;
}

/** Writes the binary header of `command` into `target` at `offset`; returns the end offset. */
export function writeBinaryHeader(command: RemotingCommand, target: Buffer, offset: number): number {
  if (command.code < -32768 || command.code > 32767) {
    throw new RangeError(`code ${command.code} does not fit the ROCKETMQ header's short`);
  }
  let pos = target.writeInt16BE(command.code, offset);
  const language = LANGUAGES.indexOf(command.language);
  pos = target.writeInt8(language < 0 ? LANGUAGES.indexOf('OTHER') : language, pos);
  pos = target.writeInt16BE(command.version, pos);
  pos = target.writeInt32BE(command.opaque, pos);
  pos = target.writeInt32BE(command.flag, pos);
  if (command.remark) {
    const written = target.write(command.remark, pos + 4);
    pos = target.writeInt32BE(written, pos) + written;
  } else {
    pos = target.writeInt32BE(0, pos);
  }
  const extStart = pos;
  pos += 4;
  const ext = command.extFields;
  for (const key in ext) {
    const value = ext[key];
    if (value === undefined || value === null) continue;
    const keyLength = target.write(key, pos + 2);
    if (keyLength > 32767) throw new RangeError(`extFields key is longer than 32767 bytes`);
    pos = target.writeInt16BE(keyLength, pos) + keyLength;
    const valueLength = target.write(String(value), pos + 4);
    pos = target.writeInt32BE(valueLength, pos) + valueLength;
  }
  target.writeInt32BE(pos - extStart - 4, extStart);
  return pos;
}

function need(header: Buffer, pos: number, n: number, what: string): void {
  if (n < 0 || pos + n > header.length) {
    throw new ProtocolError(
      `ROCKETMQ header truncated reading ${what} (${n} bytes at ${pos} of ${header.length})`,
    );
  }
}

/** Decodes a binary header occupying exactly `header`. */
export function decodeBinaryHeader(header: Buffer): Omit<RemotingCommand, 'body'> {
  need(header, 0, FIXED_PART - 4, 'fixed fields');
  const code = header.readInt16BE(0);
  const languageIndex = header.readInt8(2);
  const version = header.readInt16BE(3);
  const opaque = header.readInt32BE(5);
  const flag = header.readInt32BE(9);
  const remarkLength = header.readInt32BE(13);
  let pos = 17;
  need(header, pos, remarkLength, 'remark');
  const remark = remarkLength > 0 ? header.toString('utf8', pos, pos + remarkLength) : undefined;
  pos += remarkLength;
  need(header, pos, 4, 'extFields length');
  const extLength = header.readInt32BE(pos);
  pos += 4;
  need(header, pos, extLength, 'extFields');
  const extEnd = pos + extLength;
  // Null prototype: a peer-chosen key such as "__proto__" must stay an ordinary entry.
  const extFields: ExtFields = Object.create(null);
  while (pos < extEnd) {
    if (pos + 2 > extEnd) throw new ProtocolError('ROCKETMQ header extFields entry truncated (key length)');
    const keyLength = header.readInt16BE(pos);
    pos += 2;
    if (keyLength < 0 || pos + keyLength + 4 > extEnd) {
      throw new ProtocolError(`ROCKETMQ header extFields key length ${keyLength} overruns the map`);
    }
    const key = header.toString('utf8', pos, pos + keyLength);
    pos += keyLength;
    const valueLength = header.readInt32BE(pos);
    pos += 4;
    if (valueLength < 0 || pos + valueLength > extEnd) {
      throw new ProtocolError(`ROCKETMQ header extFields value length ${valueLength} overruns the map`);
    }
    extFields[key] = header.toString('utf8', pos, pos + valueLength);
    pos += valueLength;
  }
  // Bytes after the map are ignored, as the Java decoder does.
  const language: LanguageName = LANGUAGES[languageIndex] ?? 'OTHER';
  return {
    code,
    language,
    version,
    opaque,
    flag,
    remark,
    extFields,
    serializeTypeCurrentRPC: 'ROCKETMQ',
  };
}
