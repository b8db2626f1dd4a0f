// The message properties string (protocol.md §4.3) in the client's shape: plain records, which is
// what applications see on a message. The format itself lives in ../message.

import {
  checkProperties,
  decodeProperties as decodePropertyMap,
  encodeProperties as encodePropertyMap,
} from '../message/index.js';

/** Encodes in insertion order, skipping undefined values. Throws if a name or value holds a separator. */
export function encodeProperties(properties: Record<string, string | undefined>): string {
  const defined = new Map<string, string>();
  for (const [name, value] of Object.entries(properties)) if (value !== undefined) defined.set(name, value);
  const problem = checkProperties(defined);
  if (problem) throw new Error(`message ${problem}`);
  return encodePropertyMap(defined);
}

/** Tolerant decode: empty, short or malformed segments are skipped like Java does. */
export function decodeProperties(text: string): Record<string, string> {
  return Object.fromEntries(decodePropertyMap(text));
}
