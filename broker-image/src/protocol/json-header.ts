// JSON header (serialization type 0, protocol.md §1.3.1). Encoding is hand-built string
// concatenation (alphabetical keys like fastjson, null fields omitted) so the hot path never
// runs JSON.stringify over a whole object; decoding is JSON.parse plus strict field checks.

import { LANGUAGES, type LanguageName } from './codes.js';
import type { ExtFields, RemotingCommand } from './command.js';
import { ProtocolError } from './errors.js';

/** The header text of `command` as Java's fastjson would write it. */
export function encodeJsonHeader(command: RemotingCommand): string {
  let text = '{"code":' + command.code;
  const ext = command.extFields;
  let first = true;
  for (const key in ext) {
    const value = ext[key];
    if (value === undefined || value === null) continue;
    text += (first ? ',"extFields":{' : ',') + JSON.stringify(key) + ':' + JSON.stringify(String(value));
    first = false;
  }
  if (!first) text += '}';
  text += ',"flag":' + command.flag + ',"language":"' + command.language + '","opaque":' + command.opaque;
  if (command.remark !== undefined && command.remark !== null)
    text += ',"remark":' + JSON.stringify(command.remark);
  return text + ',"serializeTypeCurrentRPC":"JSON","version":' + command.version + '}';
}

/** A JSON number, or a numeric string (fastjson coerces those), as an int32. */
function intField(header: Record<string, unknown>, key: string, fallback: number): number {
  const value = header[key];
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
    throw new ProtocolError(`JSON header field "${key}" is not an int: ${JSON.stringify(value)}`);
  }
  return n;
}

/** extFields values may be strings, numbers or booleans (ali-ons); all become strings (§1.5). */
export function normalizeExtFields(raw: unknown): ExtFields {
  // Null prototype: a peer-chosen key such as "__proto__" must stay an ordinary entry.
  const out: ExtFields = Object.create(null);
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ProtocolError('JSON header field "extFields" is not an object');
  }
  for (const key of Object.keys(raw)) {
    const value = (raw as Record<string, unknown>)[key];
    if (value === undefined || value === null) continue;
    out[key] =
      typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return out;
}

function languageOf(value: unknown): LanguageName {
  if (value === undefined || value === null) return 'JAVA';
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
  if (remark !== undefined && remark !== null && typeof remark !== 'string') {
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
