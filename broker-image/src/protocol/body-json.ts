// JSON bodies as fastjson writes and reads them (protocol.md §1.6).
//
// Writer: like JSON.stringify, except that a JS Map keeps its key types: number and bigint keys
// are written bare (`{0:"a"}`), object keys are written as a raw JSON object (`{{"brokerName":
// "b","queueId":0,"topic":"T"}:{…}}`) — fastjson's non-standard forms that Java tools expect.
// Plain-object keys are always quoted. null/undefined members are omitted (fastjson default),
// bigint is a bare number, Set is an array, Date is epoch millis.
//
// Parser: standard JSON plus bare numeric/identifier keys, object/array keys, single-quoted
// strings and raw control characters in strings. A non-string key becomes a string key: numbers
// in decimal, object/array keys as their compact JSON (decode with `parseObjectKey`). Integers
// beyond 2^53 come back as bigint unless `largeIntegers: 'number'`.

import { Buffer } from 'node:buffer';
import { BodyParseError } from './errors.js';

function writeKey(key: unknown): string {
  switch (typeof key) {
    case 'string':
      return JSON.stringify(key);
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(key);
    default:
      return writeValue(key) ?? 'null';
  }
}

function writeValue(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'bigint':
    case 'boolean':
      return String(value);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return undefined;
  if (Array.isArray(value) || value instanceof Set) {
    let text = '[';
    let first = true;
    for (const item of value) {
      text += (first ? '' : ',') + (writeValue(item) ?? 'null');
      first = false;
    }
    return text + ']';
  }
  if (value instanceof Map) {
    let text = '{';
    let first = true;
    for (const [key, item] of value) {
      const written = writeValue(item);
      if (written === undefined) continue;
      text += (first ? '' : ',') + writeKey(key) + ':' + written;
      first = false;
    }
    return text + '}';
  }
  if (value instanceof Date) return String(value.getTime());
  if (Buffer.isBuffer(value)) return JSON.stringify(value.toString('base64'));
  let text = '{';
  let first = true;
  for (const key of Object.keys(value as object)) {
    const written = writeValue((value as Record<string, unknown>)[key]);
    if (written === undefined) continue;
    text += (first ? '' : ',') + JSON.stringify(key) + ':' + written;
    first = false;
  }
  return text + '}';
}

/** Serialises `value` in fastjson's dialect (see the file comment). */
export function writeBodyJson(value: unknown): string {
  return writeValue(value) ?? 'null';
}

/** `writeBodyJson` as UTF-8 bytes, ready for `RemotingCommand.body`. */
export function encodeBodyJson(value: unknown): Buffer {
  return Buffer.from(writeBodyJson(value), 'utf8');
}

export interface BodyParseOptions {
  /** What integers outside ±(2^53−1) become: exact `bigint` (default) or a rounded `number`. */
  largeIntegers?: 'bigint' | 'number';
  /** Nesting limit; deeper input is rejected rather than risking the stack. Default 512. */
  maxDepth?: number;
}

const NUMBER = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;
const IDENTIFIER = /[A-Za-z_$][\w$]*/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

class TolerantJsonParser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly largeIntegers: 'bigint' | 'number',
    private readonly maxDepth: number,
  ) {}

  parseDocument(): unknown {
    if (this.text.charCodeAt(0) === 0xfeff) this.pos = 1;
    const value = this.parseValue();
    this.skipWhitespace();
    if (this.pos < this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private fail(message: string): never {
    throw new BodyParseError(`${message} at position ${this.pos}`, this.pos);
  }

  private skipWhitespace(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  private parseValue(): unknown {
    this.skipWhitespace();
    if (this.pos >= this.text.length) this.fail('unexpected end of input');
    const c = this.text[this.pos];
    if (c === '{') return this.parseObject();
    if (c === '[') return this.parseArray();
    if (c === '"' || c === "'") return this.parseString(c);
    if (c === '-' || (c >= '0' && c <= '9')) return this.parseNumber();
    if (this.text.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (this.text.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (this.text.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    return this.fail(`unexpected character ${JSON.stringify(c)}`);
  }

  private enter(): void {
    if (++this.depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
  }

  private parseObject(): Record<string, unknown> {
    this.enter();
    this.pos++;
    const out: Record<string, unknown> = {};
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      const key = this.parseKey();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail('expected ":"');
      this.pos++;
      const value = this.parseValue();
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      } else {
        out[key] = value;
      }
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === '}') break;
      if (c !== ',') {
        this.pos--;
        this.fail('expected "," or "}"');
      }
    }
    this.depth--;
    return out;
  }

  private parseKey(): string {
    this.skipWhitespace();
    const c = this.text[this.pos];
    if (c === '"' || c === "'") return this.parseString(c);
    if (c === '{' || c === '[') return writeBodyJson(this.parseValue());
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return String(this.parseNumber());
    IDENTIFIER.lastIndex = this.pos;
    const match = IDENTIFIER.exec(this.text);
    if (!match) return this.fail('expected an object key');
    this.pos += match[0].length;
    return match[0];
  }

  private parseArray(): unknown[] {
    this.enter();
    this.pos++;
    const out: unknown[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      out.push(this.parseValue());
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === ']') break;
      if (c !== ',') {
        this.pos--;
        this.fail('expected "," or "]"');
      }
    }
    this.depth--;
    return out;
  }

  private parseString(quote: string): string {
    const text = this.text;
    const start = ++this.pos;
    const end = text.indexOf(quote, start);
    if (end < 0) this.fail('unterminated string');
    const firstEscape = text.indexOf('\\', start);
    if (firstEscape < 0 || firstEscape > end) {
      this.pos = end + 1;
      return text.slice(start, end);
    }
    let out = '';
    let runStart = start;
    while (this.pos < text.length) {
      const c = text[this.pos];
      if (c === quote) {
        out += text.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c !== '\\') {
        this.pos++;
        continue;
      }
      out += text.slice(runStart, this.pos);
      const e = text[this.pos + 1];
      if (e === 'u') {
        const hex = text.slice(this.pos + 2, this.pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
        out += String.fromCharCode(Number.parseInt(hex, 16));
        this.pos += 6;
      } else {
        const replacement = e === undefined ? undefined : ESCAPES[e];
        if (replacement === undefined) this.fail('bad escape');
        out += replacement;
        this.pos += 2;
      }
      runStart = this.pos;
    }
    return this.fail('unterminated string');
  }

  private parseNumber(): number | bigint {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) return this.fail('bad number');
    const token = match[0];
    this.pos += token.length;
    const n = Number(token);
    if (
      match[1] === undefined &&
      match[2] === undefined &&
      !Number.isSafeInteger(n) &&
      this.largeIntegers === 'bigint'
    ) {
      return BigInt(token);
    }
    return n;
  }
}

/** Parses a fastjson-style body (see the file comment). Throws BodyParseError with a position. */
export function parseBodyJson(input: Buffer | string, options: BodyParseOptions = {}): unknown {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  return new TolerantJsonParser(
    text,
    options.largeIntegers ?? 'bigint',
    options.maxDepth ?? 512,
  ).parseDocument();
}

/** Decodes a map key that was an object in fastjson's output (e.g. a MessageQueue) back into an object. */
export function parseObjectKey(key: string): unknown {
  return parseBodyJson(key);
}
