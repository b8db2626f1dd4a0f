// Decoding REGISTER_BROKER bodies (protocol.md §2.2): JSON RegisterBrokerBody, or the compressed
// form (zlib stream of length-prefixed parts). Throws a plain Error describing what is wrong.

import { inflateSync } from 'node:zlib';
import { parseBodyJson } from '../protocol/index.js';
import type { DataVersion, RegisteredTopicConfig } from './route-table.js';

export interface RegisterBrokerBody {
  dataVersion: DataVersion | null;
  topicConfigTable: Record<string, RegisteredTopicConfig>;
  filterServerList: string[];
}

function toDataVersion(raw: unknown): DataVersion | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  return { counter: Number(r.counter ?? 0), timestamp: Number(r.timestamp ?? 0) };
}

function toTopicConfig(name: string, raw: Record<string, unknown>): RegisteredTopicConfig {
  const num = (v: unknown, field: string) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`topic ${name}: ${field} is not an integer`);
    return n;
  };
  return {
    topicName: String(raw.topicName ?? name),
    readQueueNums: num(raw.readQueueNums ?? 16, 'readQueueNums'),
    writeQueueNums: num(raw.writeQueueNums ?? 16, 'writeQueueNums'),
    perm: num(raw.perm ?? 6, 'perm'),
    topicFilterType: String(raw.topicFilterType ?? 'SINGLE_TAG'),
    topicSysFlag: num(raw.topicSysFlag ?? 0, 'topicSysFlag'),
    order: raw.order === true || raw.order === 'true',
  };
}

/** Java's TopicConfig.encode(): "name read write perm filterType" separated by single spaces. */
function decodeTopicConfigText(text: string): RegisteredTopicConfig {
  if (text.trimStart().startsWith('{')) {
    const raw = parseBodyJson(text, { largeIntegers: 'number' }) as Record<string, unknown>;
    return toTopicConfig(String(raw.topicName ?? ''), raw);
  }
  const parts = text.split(' ');
  if (parts.length < 5) throw new Error(`bad topic config entry "${text}"`);
  return toTopicConfig(parts[0], {
    topicName: parts[0],
    readQueueNums: parts[1],
    writeQueueNums: parts[2],
    perm: parts[3],
    topicFilterType: parts[4],
  });
}

export function decodeRegisterBody(body: Buffer | undefined, compressed: boolean): RegisterBrokerBody {
  if (!body || body.length === 0) return { dataVersion: null, topicConfigTable: {}, filterServerList: [] };
  if (compressed) return decodeCompressed(body);
  const parsed = parseBodyJson(body, { largeIntegers: 'number' }) as Record<string, unknown> | null;
  if (!parsed || typeof parsed !== 'object') throw new Error('register body is not a JSON object');
  // Brokers before V3_0_11 sent the bare TopicConfigSerializeWrapper.
  const wrapper = (parsed.topicConfigSerializeWrapper ?? parsed) as Record<string, unknown>;
  const table: Record<string, RegisteredTopicConfig> = {};
  const rawTable = (wrapper.topicConfigTable ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, raw] of Object.entries(rawTable)) {
    if (raw && typeof raw === 'object') table[name] = toTopicConfig(name, raw);
  }
  const filters = Array.isArray(parsed.filterServerList) ? parsed.filterServerList.map(String) : [];
  return {
    dataVersion: toDataVersion(wrapper.dataVersion),
    topicConfigTable: table,
    filterServerList: filters,
  };
}

function decodeCompressed(body: Buffer): RegisterBrokerBody {
  const data = inflateSync(body, { maxOutputLength: 64 * 1024 * 1024 });
  let pos = 0;
  const readChunk = (what: string): string => {
    if (pos + 4 > data.length) throw new Error(`compressed register body truncated before ${what}`);
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || pos + len > data.length)
      throw new Error(`compressed register body: bad ${what} length ${len}`);
    const text = data.toString('utf8', pos, pos + len);
    pos += len;
    return text;
  };
  const dataVersion = toDataVersion(parseBodyJson(readChunk('data version'), { largeIntegers: 'number' }));
  if (pos + 4 > data.length) throw new Error('compressed register body truncated before topic count');
  const count = data.readInt32BE(pos);
  pos += 4;
  const topicConfigTable: Record<string, RegisteredTopicConfig> = {};
  for (let i = 0; i < count; i++) {
    const config = decodeTopicConfigText(readChunk('topic config'));
    topicConfigTable[config.topicName] = config;
  }
  let filterServerList: string[] = [];
  if (pos < data.length) {
    const filters = parseBodyJson(readChunk('filter server list'));
    if (Array.isArray(filters)) filterServerList = filters.map(String);
  }
  return { dataVersion, topicConfigTable, filterServerList };
}
