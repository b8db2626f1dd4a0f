// The message properties string (protocol.md §4.3) in the client's shape: plain records, which is
// what applications see on a message. The format itself lives in ../message.

import { checkProperties, encodeProperties as encodePropertyMap } from '../message/index.js';

/** Encodes in insertion order, skipping undefined values. Throws if a name or value holds a separator. */
export function encodeProperties(properties: Record<string, string | undefined>): string {
  const defined = new Map<string, string>();
  for (const [name, value] of Object.entries(properties)) if (value !== undefined) defined.set(name, value);
  const problem = checkProperties(defined);
  if (problem) throw new Error(`message ${problem}`);
  return encodePropertyMap(defined);
}

/**
 * Tolerant decode: empty, short or malformed segments are skipped like Java does (the same rules
 * as the Map decoder of ../message, building the record directly: it runs once per message).
 */
export function decodeProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let from = 0;
  while (from < text.length) {
    let end = text.indexOf('\u0002', from);
    if (end < 0) end = text.length;
    if (end - from >= 3) {
      const sep = text.indexOf('\u0001', from);
      if (sep > from && sep < end - 1) {
        const name = text.slice(from, sep);
        const value = text.slice(sep + 1, end);
        // An own property even for "__proto__" (assignment would set the prototype instead).
        if (name === '__proto__') {
          Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
        } else out[name] = value;
      }
    }
    from = end + 1;
  }
  return out;
}
