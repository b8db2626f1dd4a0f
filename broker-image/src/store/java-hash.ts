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
