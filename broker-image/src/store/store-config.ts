// The store's settings, named as in RocketMQ's broker.conf where a key exists there, validated once
// at start so that a bad value fails with the key's name and what it accepts.

import { join } from 'node:path';
import { checkHost, normalizeAddress, parseHost } from '../message/host-address.js';
import type { HostAddress } from './message-store.js';
import { END_FILLER_SIZE, MAX_RECORD_OVERHEAD } from './record-codec.js';

export type FlushDiskType = 'SYNC_FLUSH' | 'ASYNC_FLUSH';
export const FLUSH_DISK_TYPES: readonly FlushDiskType[] = ['SYNC_FLUSH', 'ASYNC_FLUSH'];

export interface StoreConfig {
  storePathRootDir: string;
  /** Directory of the CommitLog segments; '' = `<storePathRootDir>/commitlog`. */
  storePathCommitLog: string;
  /** Bytes per CommitLog segment file. */
  mappedFileSizeCommitLog: number;
  /** Bytes per ConsumeQueue file; a multiple of 20. */
  mappedFileSizeConsumeQueue: number;
  flushDiskType: FlushDiskType;
  /** ASYNC_FLUSH: ms between CommitLog fdatasyncs. */
  flushIntervalCommitLog: number;
  /** ms between checkpoints (ConsumeQueue fdatasync + checkpoint file). */
  flushIntervalConsumeQueue: number;
  /** SYNC_FLUSH: ms an append waits for fdatasync before answering FLUSH_DISK_TIMEOUT. */
  syncFlushTimeout: number;
  /** Hours a CommitLog segment is kept after its last write. */
  fileReservedTime: number;
  /** Hours of the day (local time) when expired segments are deleted, e.g. "04" or "04;16". */
  deleteWhen: string;
  /** Percent of disk use above which expired segments are deleted at once, whatever the hour. */
  diskMaxUsedSpaceRatio: number;
  /** Fraction of disk use above which the oldest segments are deleted even if not expired. */
  diskSpaceCleanForciblyRatio: number;
  /** Fraction of disk use above which appends are refused (SERVICE_NOT_AVAILABLE). */
  diskSpaceWarningLevelRatio: number;
  /** ms between retention / disk checks. */
  cleanResourceInterval: number;
  /** Largest message body in bytes. */
  maxMessageSize: number;
  /** Address written into records as storeHost and into offset message ids. */
  storeHost: HostAddress;
  /** Delay levels for SCHEDULE_TOPIC_XXXX tag codes (protocol.md §6). */
  messageDelayLevel: string;
  /** Pull limits (protocol.md §3.3.3). */
  maxTransferBytesOnMessageInMemory: number;
  maxTransferCountOnMessageInMemory: number;
  /** ms after which buffered index entries are written as an index run even if few. */
  indexFlushInterval: number;
  /** Bytes of appends waiting for the writer above which new appends are refused (busy). */
  maxPendingAppendBytes: number;
}

/** What `resolveStoreConfig` accepts: typed values or their broker.conf text, plus old key spellings. */
export type StoreConfigInput = {
  [K in keyof StoreConfig]?: StoreConfig[K] | string;
} & { mapedFileSizeCommitLog?: number | string; mapedFileSizeConsumeQueue?: number | string };

export const DEFAULT_MESSAGE_DELAY_LEVEL = '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h';

export const STORE_CONFIG_DEFAULTS: Omit<StoreConfig, 'storePathRootDir' | 'storeHost'> = {
  storePathCommitLog: '',
  mappedFileSizeCommitLog: 1024 * 1024 * 1024,
  mappedFileSizeConsumeQueue: 300_000 * 20,
  flushDiskType: 'ASYNC_FLUSH',
  flushIntervalCommitLog: 500,
  flushIntervalConsumeQueue: 1000,
  syncFlushTimeout: 5000,
  fileReservedTime: 72,
  deleteWhen: '04',
  diskMaxUsedSpaceRatio: 75,
  diskSpaceCleanForciblyRatio: 0.85,
  diskSpaceWarningLevelRatio: 0.9,
  cleanResourceInterval: 10_000,
  maxMessageSize: 4 * 1024 * 1024,
  messageDelayLevel: DEFAULT_MESSAGE_DELAY_LEVEL,
  maxTransferBytesOnMessageInMemory: 256 * 1024,
  maxTransferCountOnMessageInMemory: 32,
  indexFlushInterval: 60_000,
  maxPendingAppendBytes: 64 * 1024 * 1024,
};

/** A bad configuration value; the message names every bad key and what it accepts. */
export class StoreConfigError extends Error {
  override readonly name = 'StoreConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid store configuration: ${problems.join('; ')}`);
  }
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "1s 5s 10s 30s 1m …" into milliseconds per level (index 0 = level 1); undefined if malformed. */
export function parseDelayLevels(text: string): number[] | undefined {
  const words = text.trim().split(/\s+/);
  if (words.length === 0 || words[0] === '') return undefined;
  const out: number[] = [];
  for (const w of words) {
    const m = /^(\d+)([smhd])$/.exec(w);
    if (!m) return undefined;
    out.push(Number(m[1]) * UNIT_MS[m[2]]);
  }
  return out;
}

/** Hours listed in deleteWhen, or undefined if malformed. */
export function parseDeleteWhen(text: string): number[] | undefined {
  const hours = text.split(';').map((h) => h.trim());
  if (!hours.every((h) => /^\d{1,2}$/.test(h) && Number(h) <= 23)) return undefined;
  return hours.map(Number);
}

type Problems = string[];

function reject(problems: Problems, key: string, value: unknown, accepted: string): void {
  const shown = typeof value === 'string' ? `'${value}'` : String(value);
  problems.push(`${key}: ${shown} is not accepted; accepted values: ${accepted}`);
}

function intValue(
  problems: Problems,
  key: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'string' ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    reject(problems, key, value, `an integer from ${min} to ${max}`);
    return fallback;
  }
  return n;
}

function ratioValue(problems: Problems, key: string, value: unknown, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'string' ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0.1 || n > 0.99) {
    reject(problems, key, value, 'a number from 0.1 to 0.99');
    return fallback;
  }
  return n;
}

const MAX_INT = 2 ** 31 - 1;

/**
 * Validates and completes a store configuration. Keys that are not store settings are ignored, so
 * the whole broker.conf may be passed. Throws StoreConfigError naming each bad key.
 */
export function resolveStoreConfig(input: StoreConfigInput | Record<string, unknown>): StoreConfig {
  const src = input as Record<string, unknown>;
  const d = STORE_CONFIG_DEFAULTS;
  const problems: Problems = [];

  const root = src.storePathRootDir;
  if (typeof root !== 'string' || root.trim() === '') {
    reject(problems, 'storePathRootDir', root ?? '(missing)', 'a non-empty directory path');
  }
  const storePathRootDir = typeof root === 'string' ? root.trim() : '';
  const commitLogDir = src.storePathCommitLog;
  if (commitLogDir !== undefined && typeof commitLogDir !== 'string') {
    reject(problems, 'storePathCommitLog', commitLogDir, 'a directory path or empty');
  }

  let storeHost: HostAddress = { address: '127.0.0.1', port: 10911 };
  const hostIn = src.storeHost;
  if (hostIn === undefined) {
    reject(problems, 'storeHost', '(missing)', 'ip:port or [ipv6]:port, or {address, port}');
  } else if (typeof hostIn === 'string') {
    try {
      storeHost = parseHost(hostIn.trim());
    } catch {
      reject(problems, 'storeHost', hostIn, 'ip:port or [ipv6]:port');
    }
  } else {
    const problem = checkHost(hostIn as HostAddress);
    if (problem) reject(problems, 'storeHost', JSON.stringify(hostIn), `{address, port}: ${problem}`);
    else
      storeHost = {
        address: normalizeAddress((hostIn as HostAddress).address),
        port: (hostIn as HostAddress).port,
      };
  }

  const flushIn = src.flushDiskType;
  let flushDiskType = d.flushDiskType;
  if (flushIn !== undefined && flushIn !== '') {
    const t = String(flushIn).trim();
    if ((FLUSH_DISK_TYPES as readonly string[]).includes(t)) flushDiskType = t as FlushDiskType;
    else reject(problems, 'flushDiskType', flushIn, FLUSH_DISK_TYPES.join(', '));
  }

  const segmentKey =
    src.mappedFileSizeCommitLog !== undefined ? 'mappedFileSizeCommitLog' : 'mapedFileSizeCommitLog';
  const mappedFileSizeCommitLog = intValue(
    problems,
    segmentKey,
    src[segmentKey],
    d.mappedFileSizeCommitLog,
    4096,
    MAX_INT,
  );
  const cqKey =
    src.mappedFileSizeConsumeQueue !== undefined ? 'mappedFileSizeConsumeQueue' : 'mapedFileSizeConsumeQueue';
  let mappedFileSizeConsumeQueue = intValue(
    problems,
    cqKey,
    src[cqKey],
    d.mappedFileSizeConsumeQueue,
    20,
    MAX_INT,
  );
  if (mappedFileSizeConsumeQueue % 20 !== 0) {
    reject(problems, cqKey, src[cqKey], 'a multiple of 20 (the entry size)');
    mappedFileSizeConsumeQueue = d.mappedFileSizeConsumeQueue;
  }

  const deleteWhenIn = src.deleteWhen;
  let deleteWhen = d.deleteWhen;
  if (deleteWhenIn !== undefined && deleteWhenIn !== '') {
    if (typeof deleteWhenIn === 'string' && parseDeleteWhen(deleteWhenIn)) deleteWhen = deleteWhenIn.trim();
    else reject(problems, 'deleteWhen', deleteWhenIn, "hours 00-23 separated by ';' (e.g. 04 or 04;16)");
  }

  const delayIn = src.messageDelayLevel;
  let messageDelayLevel = d.messageDelayLevel;
  if (delayIn !== undefined && delayIn !== '') {
    if (typeof delayIn === 'string' && parseDelayLevels(delayIn)) messageDelayLevel = delayIn.trim();
    else reject(problems, 'messageDelayLevel', delayIn, 'space-separated durations with units s, m, h or d');
  }

  const config: StoreConfig = {
    storePathRootDir,
    storePathCommitLog:
      typeof commitLogDir === 'string' && commitLogDir.trim() !== ''
        ? commitLogDir.trim()
        : join(storePathRootDir, 'commitlog'),
    mappedFileSizeCommitLog,
    mappedFileSizeConsumeQueue,
    flushDiskType,
    flushIntervalCommitLog: intValue(
      problems,
      'flushIntervalCommitLog',
      src.flushIntervalCommitLog,
      d.flushIntervalCommitLog,
      1,
      60_000,
    ),
    flushIntervalConsumeQueue: intValue(
      problems,
      'flushIntervalConsumeQueue',
      src.flushIntervalConsumeQueue,
      d.flushIntervalConsumeQueue,
      10,
      60_000,
    ),
    syncFlushTimeout: intValue(
      problems,
      'syncFlushTimeout',
      src.syncFlushTimeout,
      d.syncFlushTimeout,
      1,
      600_000,
    ),
    fileReservedTime: intValue(
      problems,
      'fileReservedTime',
      src.fileReservedTime,
      d.fileReservedTime,
      0,
      87_600,
    ),
    deleteWhen,
    diskMaxUsedSpaceRatio: intValue(
      problems,
      'diskMaxUsedSpaceRatio',
      src.diskMaxUsedSpaceRatio,
      d.diskMaxUsedSpaceRatio,
      10,
      95,
    ),
    diskSpaceCleanForciblyRatio: ratioValue(
      problems,
      'diskSpaceCleanForciblyRatio',
      src.diskSpaceCleanForciblyRatio,
      d.diskSpaceCleanForciblyRatio,
    ),
    diskSpaceWarningLevelRatio: ratioValue(
      problems,
      'diskSpaceWarningLevelRatio',
      src.diskSpaceWarningLevelRatio,
      d.diskSpaceWarningLevelRatio,
    ),
    cleanResourceInterval: intValue(
      problems,
      'cleanResourceInterval',
      src.cleanResourceInterval,
      d.cleanResourceInterval,
      100,
      3_600_000,
    ),
    maxMessageSize: intValue(
      problems,
      'maxMessageSize',
      src.maxMessageSize,
      d.maxMessageSize,
      1,
      MAX_INT - 65536,
    ),
    storeHost,
    messageDelayLevel,
    maxTransferBytesOnMessageInMemory: intValue(
      problems,
      'maxTransferBytesOnMessageInMemory',
      src.maxTransferBytesOnMessageInMemory,
      d.maxTransferBytesOnMessageInMemory,
      1,
      MAX_INT,
    ),
    maxTransferCountOnMessageInMemory: intValue(
      problems,
      'maxTransferCountOnMessageInMemory',
      src.maxTransferCountOnMessageInMemory,
      d.maxTransferCountOnMessageInMemory,
      1,
      100_000,
    ),
    indexFlushInterval: intValue(
      problems,
      'indexFlushInterval',
      src.indexFlushInterval,
      d.indexFlushInterval,
      100,
      3_600_000,
    ),
    maxPendingAppendBytes: intValue(
      problems,
      'maxPendingAppendBytes',
      src.maxPendingAppendBytes,
      d.maxPendingAppendBytes,
      1024 * 1024,
      MAX_INT,
    ),
  };

  if (config.diskSpaceWarningLevelRatio < config.diskSpaceCleanForciblyRatio) {
    problems.push(
      `diskSpaceWarningLevelRatio: ${config.diskSpaceWarningLevelRatio} is not accepted; accepted values: ` +
        `a number ≥ diskSpaceCleanForciblyRatio (${config.diskSpaceCleanForciblyRatio})`,
    );
  }
  const largestRecord = config.maxMessageSize + MAX_RECORD_OVERHEAD + END_FILLER_SIZE;
  if (problems.length === 0 && config.mappedFileSizeCommitLog < largestRecord) {
    problems.push(
      `${segmentKey}: ${config.mappedFileSizeCommitLog} is not accepted; accepted values: an integer ≥ ` +
        `maxMessageSize + ${MAX_RECORD_OVERHEAD + END_FILLER_SIZE} (= ${largestRecord}) so that the largest record fits one segment`,
    );
  }
  if (problems.length > 0) throw new StoreConfigError(problems);
  return config;
}
