// The message properties string (protocol.md §4.3) in the client's shape: plain records, which is
// what applications see on a message. The format itself lives in ../message.

import { checkProperties } from '../message/index.js';

function hasSeparator(text: string): boolean {
  return text.indexOf('\u0001') >= 0 || text.indexOf('\u0002') >= 0;
}

/** Encodes in insertion order, skipping undefined values. Throws if a name or value holds a separator. */
export function encodeProperties(properties: Record<string, string | undefined>): string {
  // One pass (it runs once per message); the rules and errors are those of checkProperties.
  let out = '';
  for (const name in properties) {
    if (!Object.hasOwn(properties, name)) continue;
    const value = properties[name];
    if (value === undefined || value === null) continue;
    if (name === '' || hasSeparator(name) || hasSeparator(String(value))) {
      throw new Error(`message ${checkProperties(new Map([[name, value]]))}`);
    }
    if (out !== '') out += '\u0002';
    out += `${name}\u0001${value}`;
  }
  return out;
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
