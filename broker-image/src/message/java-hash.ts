// Java's String.hashCode over UTF-16 code units, the hash RocketMQ stores as a record's tag code
// (protocol.md §4.4) and uses for index keys.

/** Java `String.hashCode()`: h = 31·h + c over UTF-16 code units, as a signed int32. */
export function javaStringHashCode(text: string, seed = 0): number {
  let h = seed | 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
}

/** The consume-queue tag code of a TAGS value: its hash, or 0 when there is no tag. */
export function tagsCodeOf(tags: string | undefined): number {
  return tags === undefined || tags === '' ? 0 : javaStringHashCode(tags);
}

/**
 * Java String.hashCode of UTF-8 bytes without making a string when they are ASCII (each byte is
 * then one UTF-16 code unit); other text is decoded first. `seed` continues a previous hash.
 */
export function javaHashOfUtf8(buf: Buffer, start: number, end: number, seed = 0): number {
  let h = seed | 0;
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b >= 0x80) return javaStringHashCode(buf.toString('utf8', start, end), seed);
    h = (Math.imul(31, h) + b) | 0;
  }
  return h;
}
