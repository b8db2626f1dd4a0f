// Typed custom headers ↔ extFields (protocol.md §1.5). Peers send every field as a string (Java)
// or as raw JSON numbers/booleans (ali-ons; normalised to strings by the decoder). These helpers
// parse the strings the way the Java receiver does and report a missing required field or an
// unparsable number with a HeaderFieldError, which the server turns into SYSTEM_ERROR.

import type { ExtFields } from './command.js';
import { HeaderFieldError } from './errors.js';

/** Field kinds: `int` = Java int (int32), `long` = Java long (returned as bigint). */
export type HeaderFieldKind = 'string' | 'int' | 'long' | 'boolean';
/** A field spec: the kind, with a trailing `?` for an optional field. */
export type HeaderFieldSpec = HeaderFieldKind | `${HeaderFieldKind}?`;
export type HeaderSpec = Record<string, HeaderFieldSpec>;

type KindType<K> = K extends 'string' | 'string?'
  ? string
  : K extends 'int' | 'int?'
    ? number
    : K extends 'long' | 'long?'
      ? bigint
      : boolean;

/** The object `decodeHeader(ext, spec)` returns: required fields present, optional ones possibly undefined. */
export type DecodedHeader<S extends HeaderSpec> = {
  -readonly [K in keyof S as S[K] extends `${string}?` ? never : K]: KindType<S[K]>;
} & {
  -readonly [K in keyof S as S[K] extends `${string}?` ? K : never]?: KindType<S[K]>;
};

/** Values accepted by `encodeHeader`; undefined and null fields are left out, as Java does. */
export type HeaderValue = string | number | bigint | boolean | null | undefined;

const INT_PATTERN = /^[+-]?\d+$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Own entries only: a plain-object extFields must not yield `constructor` & co. as fields. */
function own(ext: ExtFields, field: string): string | undefined {
  return Object.hasOwn(ext, field) ? ext[field] : undefined;
}

function missing(field: string): HeaderFieldError {
  // Same wording as Java's RemotingCommand.checkFields, so remarks look familiar to operators.
  return new HeaderFieldError(field, `the custom field <${field}> is null`);
}

/** Required string field; an empty string counts as present. */
export function requiredString(ext: ExtFields, field: string): string {
  const value = own(ext, field);
  if (value === undefined) throw missing(field);
  return value;
}

export function optionalString(ext: ExtFields, field: string): string | undefined {
  return own(ext, field);
}

/** Java `Integer.parseInt` semantics: decimal, optional sign, within int32; anything else is an error. */
export function parseIntField(field: string, value: string): number {
  if (!INT_PATTERN.test(value)) {
    throw new HeaderFieldError(field, `the custom field <${field}> is not an int: "${value}"`);
  }
  const n = Number(value);
  if (n < INT32_MIN || n > INT32_MAX) {
    throw new HeaderFieldError(field, `the custom field <${field}> is out of int range: "${value}"`);
  }
  return n;
}

/** Java `Long.parseLong` semantics, returned as bigint. */
export function parseLongField(field: string, value: string): bigint {
  if (!INT_PATTERN.test(value)) {
    throw new HeaderFieldError(field, `the custom field <${field}> is not a long: "${value}"`);
  }
  const n = BigInt(value);
  if (n < INT64_MIN || n > INT64_MAX) {
    throw new HeaderFieldError(field, `the custom field <${field}> is out of long range: "${value}"`);
  }
  return n;
}

/** Java `Boolean.parseBoolean`: "true" in any case is true, everything else false. */
export function parseBooleanField(value: string): boolean {
  return value.length === 4 && value.toLowerCase() === 'true';
}

export function requiredInt(ext: ExtFields, field: string): number {
  return parseIntField(field, requiredString(ext, field));
}

export function optionalInt(ext: ExtFields, field: string): number | undefined {
  const value = own(ext, field);
  return value === undefined ? undefined : parseIntField(field, value);
}

export function requiredLong(ext: ExtFields, field: string): bigint {
  return parseLongField(field, requiredString(ext, field));
}

export function optionalLong(ext: ExtFields, field: string): bigint | undefined {
  const value = own(ext, field);
  return value === undefined ? undefined : parseLongField(field, value);
}

export function requiredBoolean(ext: ExtFields, field: string): boolean {
  return parseBooleanField(requiredString(ext, field));
}

export function optionalBoolean(ext: ExtFields, field: string): boolean | undefined {
  const value = own(ext, field);
  return value === undefined ? undefined : parseBooleanField(value);
}

/**
 * Decodes a whole custom header at once, e.g.
 * `decodeHeader(req.extFields, { topic: 'string', queueId: 'int', commitOffset: 'long', unitMode: 'boolean?' })`
 * → `{ topic: string; queueId: number; commitOffset: bigint; unitMode?: boolean }`.
 * Unknown keys in `ext` are ignored (protocol.md §1.5).
 */
export function decodeHeader<const S extends HeaderSpec>(ext: ExtFields, spec: S): DecodedHeader<S> {
  const out: Record<string, unknown> = {};
  for (const field in spec) {
    const fieldSpec = spec[field];
    const optional = fieldSpec.endsWith('?');
    const kind = (optional ? fieldSpec.slice(0, -1) : fieldSpec) as HeaderFieldKind;
    const raw = own(ext, field);
    if (raw === undefined) {
      if (!optional) throw missing(field);
      continue;
    }
    switch (kind) {
      case 'string':
        out[field] = raw;
        break;
      case 'int':
        out[field] = parseIntField(field, raw);
        break;
      case 'long':
        out[field] = parseLongField(field, raw);
        break;
      case 'boolean':
        out[field] = parseBooleanField(raw);
        break;
    }
  }
  return out as DecodedHeader<S>;
}

/** Builds extFields from typed values: every value as its decimal/`true`/`false` string; null/undefined dropped. */
export function encodeHeader(values: Record<string, HeaderValue>): ExtFields {
  const out: ExtFields = {};
  for (const key in values) {
    const value = values[key];
    if (value === undefined || value === null) continue;
    out[key] = typeof value === 'string' ? value : String(value);
  }
  return out;
}
