// The message properties string: name U+0001 value U+0002 … (protocol.md §4.3). Java writes no
// trailing separator; ali-ons does; both parse.

const NAME_VALUE = '\u0001';
const PROPERTY = '\u0002';

/** Encodes in insertion order, skipping undefined values. Throws if a name or value holds a separator. */
export function encodeProperties(properties: Record<string, string | undefined>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(properties)) {
    if (value === undefined) continue;
    if (/[\u0001\u0002]/.test(name) || /[\u0001\u0002]/.test(value)) {
      throw new Error(
        `message property ${JSON.stringify(name)} contains a reserved separator (\\u0001 or \\u0002)`,
      );
    }
    parts.push(name + NAME_VALUE + value);
  }
  return parts.join(PROPERTY);
}

/** Tolerant decode: empty, short or malformed segments are skipped like Java does. */
export function decodeProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const segment of text.split(PROPERTY)) {
    if (segment.length < 3) continue;
    const at = segment.indexOf(NAME_VALUE);
    if (at <= 0 || at === segment.length - 1) continue;
    out[segment.slice(0, at)] = segment.slice(at + 1);
  }
  return out;
}
