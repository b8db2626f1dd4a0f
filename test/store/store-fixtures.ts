// Shared helpers for store tests: temp directories, messages with realistic properties, and a
// store opened with small segments so that tests cross segment boundaries quickly.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../broker-image/src/common/index.js';
import {
  decodeRecord,
  FileMessageStore,
  type FileMessageStoreOptions,
  type MessageToStore,
  resolveStoreConfig,
  type StoreConfigInput,
  type StoredRecord,
} from '../../broker-image/src/store/index.js';

export async function tempDir(
  prefix = 'bolide-store-',
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A logger that keeps its lines, for asserting on what was reported. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger('store', { level: 'debug', sink: (l) => lines.push(l) }), { lines });
}

export const SMALL_STORE: StoreConfigInput = {
  storeHost: '10.0.0.1:10911',
  mappedFileSizeCommitLog: 64 * 1024,
  maxMessageSize: 16 * 1024,
  mappedFileSizeConsumeQueue: 20 * 100,
  flushDiskType: 'ASYNC_FLUSH',
};

export function message(
  i: number,
  overrides: Partial<MessageToStore> & { tags?: string; keys?: string; uniqKey?: string } = {},
): MessageToStore {
  const { tags, keys, uniqKey, ...rest } = overrides;
  const properties = new Map<string, string>();
  properties.set('UNIQ_KEY', uniqKey ?? `UNIQ${String(i).padStart(12, '0')}`);
  properties.set('KEYS', keys ?? `order-${i} user-${i % 7}`);
  properties.set('TAGS', tags ?? (i % 2 === 0 ? 'TagA' : 'TagB'));
  properties.set('WAIT', 'true');
  return {
    topic: 'TopicTest',
    queueId: 0,
    flag: 0,
    body: Buffer.from(`message body ${i} `.padEnd(200 + (i % 50), 'x')),
    properties,
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000 + i,
    bornHost: { address: '10.0.0.9', port: 54321 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    ...rest,
  };
}

export async function openStore(
  root: string,
  config: StoreConfigInput = {},
  options: FileMessageStoreOptions = {},
): Promise<FileMessageStore> {
  const store = new FileMessageStore(
    resolveStoreConfig({ ...SMALL_STORE, storePathRootDir: root, ...config }),
    {
      logger: options.logger ?? memoryLogger(),
      ...options,
    },
  );
  await store.start();
  return store;
}

/** Reads a whole queue through getMessage and decodes the records. */
export async function readQueue(
  store: FileMessageStore,
  topic: string,
  queueId: number,
): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  let offset = store.getMinOffsetInQueue(topic, queueId);
  const max = store.getMaxOffsetInQueue(topic, queueId);
  while (offset < max) {
    const r = await store.getMessage(topic, queueId, offset, 1000);
    for (const rec of r.records) out.push(decodeRecord(rec));
    if (r.nextBeginOffset <= offset) throw new Error(`no progress at ${offset}: ${r.status}`);
    offset = r.nextBeginOffset;
  }
  return out;
}
