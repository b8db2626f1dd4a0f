// SEND_BATCH_MESSAGE body (protocol.md §3.2.4): per message totalSize, magic 0, CRC 0, flag,
// body length + body, properties length (short) + properties.

export interface BatchItem {
  flag: number;
  body: Buffer;
  /** Encoded properties string (§4.3), already carrying this item's UNIQ_KEY, TAGS, KEYS. */
  properties: string;
}

export function encodeBatch(items: readonly BatchItem[]): Buffer {
  const parts: Buffer[] = [];
  for (const item of items) {
    const props = Buffer.from(item.properties, 'utf8');
    if (props.length > 32767)
      throw new Error(`batch item properties are ${props.length} bytes; the limit is 32767`);
    const size = 4 + 4 + 4 + 4 + 4 + item.body.length + 2 + props.length;
    const out = Buffer.alloc(size);
    let at = out.writeInt32BE(size, 0);
    at = out.writeInt32BE(0, at);
    at = out.writeInt32BE(0, at);
    at = out.writeInt32BE(item.flag | 0, at);
    at = out.writeInt32BE(item.body.length, at);
    at += item.body.copy(out, at);
    at = out.writeInt16BE(props.length, at);
    props.copy(out, at);
    parts.push(out);
  }
  return Buffer.concat(parts);
}

/** Inverse of encodeBatch; used by tests and tools. */
export function decodeBatch(body: Buffer): BatchItem[] {
  const items: BatchItem[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 22) throw new Error(`truncated batch item at ${at}`);
    const size = body.readInt32BE(at);
    if (size < 22 || at + size > body.length)
      throw new Error(`batch item size ${size} at ${at} does not fit`);
    const flag = body.readInt32BE(at + 12);
    const bodyLen = body.readInt32BE(at + 16);
    if (bodyLen < 0 || 20 + bodyLen + 2 > size) throw new Error(`batch item body length ${bodyLen} at ${at}`);
    const itemBody = Buffer.from(body.subarray(at + 20, at + 20 + bodyLen));
    const propsLen = body.readInt16BE(at + 20 + bodyLen);
    if (propsLen < 0 || 22 + bodyLen + propsLen !== size)
      throw new Error(`batch item properties length at ${at}`);
    const properties = body.toString('utf8', at + 22 + bodyLen, at + 22 + bodyLen + propsLen);
    items.push({ flag, body: itemBody, properties });
    at += size;
  }
  return items;
}
