// Java `.properties` text (the format of RocketMQ's broker.conf and namesrv.properties, and of the
// GET/UPDATE_BROKER_CONFIG bodies): comments, `key=value` / `key:value` / `key value`, backslash
// line continuation and escapes. Pure functions; no I/O.

export interface PropertyEntry {
  key: string;
  value: string;
  /** 1-based line where the entry starts (for error messages). */
  line: number;
}

function unescapeProperty(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '\\' || i === text.length - 1) {
      out += ch;
      continue;
    }
    const next = text[++i];
    switch (next) {
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        const hex = text.slice(i + 1, i + 5);
        if (/^[0-9a-fA-F]{4}$/.test(hex)) {
          out += String.fromCharCode(Number.parseInt(hex, 16));
          i += 4;
        } else {
          out += 'u';
        }
        break;
      }
      default:
        out += next;
    }
  }
  return out;
}

/** True when the line ends in an odd number of backslashes (a continuation). */
function continues(line: string): boolean {
  let n = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

/** Splits one logical line into its raw (still escaped) key and value. */
function splitKeyValue(logical: string): [string, string] {
  let i = 0;
  while (i < logical.length) {
    const ch = logical[i];
    if (ch === '\\') {
      i += 2;
      continue;
    }
    if (ch === '=' || ch === ':' || ch === ' ' || ch === '\t' || ch === '\f') break;
    i++;
  }
  const key = logical.slice(0, i);
  let j = i;
  while (j < logical.length && /[ \t\f]/.test(logical[j])) j++;
  if (j < logical.length && (logical[j] === '=' || logical[j] === ':')) j++;
  while (j < logical.length && /[ \t\f]/.test(logical[j])) j++;
  return [key, logical.slice(j)];
}

/** Parses properties text into entries in file order (later duplicates are kept; callers pick the last). */
export function parseProperties(text: string): PropertyEntry[] {
  const lines = text.split(/\r\n|\r|\n/);
  const entries: PropertyEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const startLine = i + 1;
    let current = lines[i].replace(/^[ \t\f]+/, '');
    if (current === '' || current.startsWith('#') || current.startsWith('!')) continue;
    while (continues(current) && i + 1 < lines.length) {
      current = current.slice(0, -1) + lines[++i].replace(/^[ \t\f]+/, '');
    }
    if (continues(current)) current = current.slice(0, -1);
    const [rawKey, rawValue] = splitKeyValue(current);
    entries.push({ key: unescapeProperty(rawKey), value: unescapeProperty(rawValue), line: startLine });
  }
  return entries;
}

/** Last value per key, as a Map in first-seen order. */
export function propertiesToMap(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of parseProperties(text)) map.set(entry.key, entry.value);
  return map;
}

function escapeText(text: string, isKey: boolean): string {
  let out = '';
  for (const ch of text) {
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\f') out += '\\f';
    else if (isKey && (ch === '=' || ch === ':' || ch === ' ' || ch === '#' || ch === '!')) out += '\\' + ch;
    else out += ch;
  }
  return out;
}

/** Writes `key=value` lines (the GET_BROKER_CONFIG body shape); round-trips through parseProperties. */
export function formatProperties(entries: Iterable<[string, string]>): string {
  let out = '';
  for (const [k, v] of entries) out += `${escapeText(k, true)}=${escapeText(v, false)}\n`;
  return out;
}
