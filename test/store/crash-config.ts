// Store settings shared by the crash-test writer and verifier: small segments and short intervals
// so that kills land during segment rolls, flushes, checkpoints and index writes.

import type { StoreConfigInput } from '../../broker-image/src/store/index.js';

export const TOPICS = ['CrashA', 'CrashB'];

export const CRASH_STORE_CONFIG: StoreConfigInput = {
  storeHost: '127.0.0.1:10911',
  mappedFileSizeCommitLog: 256 * 1024,
  maxMessageSize: 64 * 1024,
  mappedFileSizeConsumeQueue: 20 * 500,
  flushIntervalCommitLog: 50,
  flushIntervalConsumeQueue: 100,
  indexFlushInterval: 200,
};
