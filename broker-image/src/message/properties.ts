// The message properties string: name U+0001 value U+0002 … (protocol.md §4.3).

export const NAME_VALUE_SEPARATOR = '\u0001';
export const PROPERTY_SEPARATOR = '\u0002';

/** Well-known property names (protocol.md §4.3) that the store, broker and client read or write. */
export const MessageProperty = {
  KEYS: 'KEYS',
  TAGS: 'TAGS',
  UNIQ_KEY: 'UNIQ_KEY',
  WAIT: 'WAIT',
  DELAY: 'DELAY',
  REAL_TOPIC: 'REAL_TOPIC',
  REAL_QID: 'REAL_QID',
  RETRY_TOPIC: 'RETRY_TOPIC',
  ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
  TRAN_MSG: 'TRAN_MSG',
  PGROUP: 'PGROUP',
  CLUSTER: 'CLUSTER',
  MAX_RECONSUME_TIMES: 'MAX_RECONSUME_TIMES',
  RECONSUME_TIME: 'RECONSUME_TIME',
  TRAN_PREPARED_QUEUE_OFFSET: 'TRAN_PREPARED_QUEUE_OFFSET',
  TRANSACTION_CHECK_TIMES: 'TRANSACTION_CHECK_TIMES',
  CHECK_IMMUNITY_TIME_IN_SECONDS: 'CHECK_IMMUNITY_TIME_IN_SECONDS',
  MIN_OFFSET: 'MIN_OFFSET',
  MAX_OFFSET: 'MAX_OFFSET',
  CONSUME_START_TIME: 'CONSUME_START_TIME',
} as const;

/** Separator between words of the KEYS property. */
export const KEY_SEPARATOR = ' ';

/**
 * Encodes properties Java-style: no trailing separator, entries with a null/undefined value skipped.
 * Names and values must not contain U+0001 or U+0002 (see `checkProperties`).
 */
export function encodeProperties(props: ReadonlyMap<string, string> | Record<string, string>): string {
  let out = '';
  const entries = props instanceof Map ? props.entries() : Object.entries(props);
  for (const [name, value] of entries) {
    if (value === undefined || value === null) continue;
    if (out !== '') out += PROPERTY_SEPARATOR;
    out += name + NAME_VALUE_SEPARATOR + value;
  }
  return out;
}

/**
 * Decodes a properties string the way the Java client does: split on U+0002, skip segments shorter
 * than 3 characters or whose U+0001 is missing, first or last, split each at the first U+0001.
 */
export function decodeProperties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  if (text === '') return map;
  for (const segment of text.split(PROPERTY_SEPARATOR)) {
    if (segment.length < 3) continue;
    const sep = segment.indexOf(NAME_VALUE_SEPARATOR);
    if (sep <= 0 || sep === segment.length - 1) continue;
    map.set(segment.slice(0, sep), segment.slice(sep + 1));
  }
  return map;
}

/** Returns a reason when a name or value contains a separator or a name is empty. */
export function checkProperties(props: ReadonlyMap<string, string>): string | undefined {
  for (const [name, value] of props) {
    if (name === '') return 'property name is empty';
    if (/[\u0001\u0002]/.test(name)) return `property name ${JSON.stringify(name)} contains U+0001 or U+0002`;
    if (value !== undefined && value !== null && /[\u0001\u0002]/.test(String(value))) {
      return `value of property ${name} contains U+0001 or U+0002`;
    }
  }
  return undefined;
}

/** The words of a KEYS value (split on single spaces, empty words dropped). */
export function splitKeys(keys: string | undefined): string[] {
  if (keys === undefined || keys === '') return [];
  return keys.split(KEY_SEPARATOR).filter((k) => k !== '');
}
