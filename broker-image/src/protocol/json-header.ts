// JSON header (serialization type 0, protocol.md §1.3.1). Encoding is hand-built string
// concatenation (alphabetical keys like fastjson, null fields omitted) so the hot path never
// runs JSON.stringify over a whole object; decoding is JSON.parse plus strict field checks.

import { LANGUAGES, type LanguageName } from './codes.js';
import type { ExtFields, RemotingCommand } from './command.js';
import { ProtocolError } from './errors.js';

/**
 * The header text of `command` as Java's fastjson writes it: keys in alphabetical order, absent
 * fields omitted. Concatenation around one native JSON.stringify of extFields measured fastest
 * (faster than stringifying a whole header literal, much faster per field).
 */
export function encodeJsonHeader(command: RemotingCommand): string {
  let text = '{"code":' + command.code;
  const ext = command.extFields;
  for (const _ in ext) {
    text += ',"extFields":' + JSON.stringify(ext);
    break;
  }
  text += ',"flag":' + command.flag + ',"language":"' + command.language + '","opaque":' + command.opaque;
  if (command.remark !== undefined && command.remark !== null)
    text += ',"remark":' + JSON.stringify(command.remark);
  return text + ',"serializeTypeCurrentRPC":"JSON","version":' + command.version + '}';
}

/** A JSON number, or a numeric string (fastjson coerces those), as an int32. */
function intField(header: Record<string, unknown>, key: string, fallback: number): number {
  const value = header[key];
  if (typeof value === 'number' && (value | 0) === value) return value;
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
    throw new ProtocolError(`JSON header field "${key}" is not an int: ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * extFields values may be strings, numbers or booleans (ali-ons); all become strings, null
 * values are dropped (§1.5). Works in place on the object JSON.parse produced (whose keys,
 * "__proto__" included, are own data properties) and returns it.
 */
export function normalizeExtFields(raw: unknown): ExtFields {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ProtocolError('JSON header field "extFields" is not an object');
  }
  const fields = raw as Record<string, unknown>;
  for (const key in fields) {
    const value = fields[key];
    if (typeof value === 'string') continue;
    if (value === null || value === undefined) {
      delete fields[key];
      continue;
    }
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    Object.defineProperty(fields, key, { value: text, writable: true, enumerable: true, configurable: true });
  }
  return fields as ExtFields;
}

function languageOf(value: unknown): LanguageName {
  if (value === 'JAVA' || value === undefined || value === null) return 'JAVA';
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value)
    ? (value as LanguageName)
    : 'OTHER';
}

/** Parses header text into every command field except `body`. */
export function decodeJsonHeader(text: string): Omit<RemotingCommand, 'body'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ProtocolError(`JSON header does not parse: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ProtocolError('JSON header is not an object');
  }
  const header = parsed as Record<string, unknown>;
  if (header.code === undefined || header.code === null) throw new ProtocolError('JSON header has no "code"');
  const remark = header.remark;
  if (typeof remark !== 'string' && remark !== undefined && remark !== null) {
    throw new ProtocolError('JSON header field "remark" is not a string');
  }
  return {
    code: intField(header, 'code', 0),
    language: languageOf(header.language),
    version: intField(header, 'version', 0),
    opaque: intField(header, 'opaque', 0),
    flag: intField(header, 'flag', 0),
    remark: remark === null || remark === undefined ? undefined : remark,
    extFields: normalizeExtFields(header.extFields),
    serializeTypeCurrentRPC: 'JSON',
  };
}
