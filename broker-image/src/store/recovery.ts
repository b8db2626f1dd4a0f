// Startup recovery: decides from the checkpoint and the abort marker how much of the CommitLog to
// verify, cuts a torn or corrupt tail, and rebuilds derived data (consume queues, index) past what
// is known durable. A clean restart verifies nothing and re-dispatches nothing.

import type { Logger } from '../common/index.js';
import type { CheckpointData } from './checkpoint.js';
import type { CommitLog } from './commit-log.js';
import type { ConsumeQueueTable } from './consume-queue-table.js';
import { CrcVerifier } from './crc-verifier.js';
import type { Dispatcher, DispatchRequest } from './dispatcher.js';
import type { KeyIndex } from './key-index.js';
import { type CorruptRegion, commitLogSource, scanLog } from './log-scanner.js';

const PARALLEL_SCAN_BYTES = 64 * 1024 * 1024;

function startCrcVerifier(logger: Logger): CrcVerifier | undefined {
  try {
    return new CrcVerifier();
  } catch (err) {
    logger.warn('could not start the CRC worker; verifying on the main thread', { err });
    return undefined;
  }
}

export type RecoveryMode =
  /** Nothing on disk yet. */
  | 'fresh'
  /** Clean shutdown: positions trusted, no scan. */
  | 'clean'
  /** Abort marker present: verified from the checkpoint. */
  | 'crash'
  /** Checkpoint missing or unreadable, or derived data damaged: verified from the oldest segment. */
  | 'full';

export interface RecoveryReport {
  mode: RecoveryMode;
  /** Why this mode was chosen. */
  reason: string;
  scannedFrom: number;
  scannedBytes: number;
  /** Records verified and re-dispatched. */
  records: number;
  endOffset: number;
  /** Bytes cut from the end of the log (torn or corrupt tail). */
  cutBytes: number;
  cutAt?: { offset: number; reason: string };
  /** Corrupt regions in the middle of the log (never served; later records kept). */
  corruptRegions: CorruptRegion[];
  /** Consume-queue entries removed because they pointed past the end of valid data. */
  truncatedQueueEntries: number;
  /** Queues the manifest knew that had lost entries on disk. */
  damagedQueues: string[];
  /** Body CRCs were checked on a worker thread (large scans). */
  parallelCrc: boolean;
  durationMs: number;
}

export interface RecoveryInput {
  commitLog: CommitLog;
  queues: ConsumeQueueTable;
  index: KeyIndex;
  dispatcher: Dispatcher;
  checkpoint: CheckpointData | undefined;
  abortMarker: boolean;
  delayLevels: readonly number[];
  logger: Logger;
  /** Scans of at least this many bytes check CRCs on a worker thread (default 64 MiB). */
  parallelScanBytes?: number;
}

/** True when the files end where a clean shutdown said they would. */
function filesMatchCleanEnd(log: CommitLog, end: number): boolean {
  const segs = log.segmentList;
  const last = segs[segs.length - 1];
  if (!last) return end === 0;
  const pos = end - last.base;
  if (pos < 0 || pos > log.segmentSize) return false;
  return pos === log.segmentSize || last.fileSize === pos;
}

export async function recover(input: RecoveryInput): Promise<RecoveryReport> {
  const { commitLog, queues, index, dispatcher, checkpoint: cp, logger } = input;
  const t0 = performance.now();
  const segs = commitLog.segmentList;
  const logMin = commitLog.minOffset;
  const damaged = await queues.findDamaged();
  const report: RecoveryReport = {
    mode: 'fresh',
    reason: '',
    scannedFrom: 0,
    scannedBytes: 0,
    records: 0,
    endOffset: 0,
    cutBytes: 0,
    corruptRegions: [],
    truncatedQueueEntries: 0,
    damagedQueues: damaged,
    parallelCrc: false,
    durationMs: 0,
  };

  if (segs.length === 0) {
    // No log (new store, or every segment removed by hand): start after anything known.
    const known = cp?.logEnd ?? 0;
    const end = known > 0 ? Math.ceil(known / commitLog.segmentSize) * commitLog.segmentSize : 0;
    report.reason = cp ? 'no commit log segments; starting a new segment' : 'empty store';
    await commitLog.truncateTo(end);
    commitLog.flushedOffset = end;
    for (const cq of queues.all()) report.truncatedQueueEntries += await cq.truncateByPhysical(end);
    dispatcher.dispatchedOffset = end;
    index.clampCoverage(end);
    index.noteDispatched(end);
    report.endOffset = end;
    report.durationMs = performance.now() - t0;
    return report;
  }

  let scanFrom: number;
  let truncateQueuesAt: number | undefined;
  if (!input.abortMarker && cp?.clean && damaged.length === 0 && filesMatchCleanEnd(commitLog, cp.logEnd)) {
    report.mode = 'clean';
    report.reason = 'clean shutdown';
    // Only the index may lag (e.g. its directory was removed): re-index from where it stops.
    scanFrom = Math.min(cp.logEnd, index.coveredOffset);
  } else if (cp && damaged.length === 0) {
    report.mode = 'crash';
    report.reason = input.abortMarker
      ? 'abort marker present (unclean shutdown)'
      : 'files do not match the checkpoint';
    const cqFrom = Math.max(logMin, Math.min(cp.cqDurable, cp.logFlushed));
    scanFrom = Math.min(cqFrom, index.coveredOffset);
    truncateQueuesAt = cqFrom;
  } else {
    report.mode = 'full';
    report.reason = !cp
      ? 'checkpoint missing or unreadable'
      : `consume queues lost entries on disk: ${damaged.slice(0, 5).join(', ')}${damaged.length > 5 ? ', …' : ''}`;
    scanFrom = logMin;
  }
  scanFrom = Math.max(scanFrom, logMin);
  const last = segs[segs.length - 1];
  const filesEnd = last.base + Math.min(last.fileSize, commitLog.segmentSize);
  if (scanFrom > filesEnd) {
    // The files end before what the checkpoint says was durable (truncated by hand, or a disk
    // that lost flushed data): no known record boundary, so verify everything.
    report.mode = 'full';
    report.reason = `commit log files end at ${filesEnd}, before the checkpoint position ${scanFrom}`;
    scanFrom = logMin;
    truncateQueuesAt = undefined;
  }
  report.scannedFrom = scanFrom;

  if (truncateQueuesAt !== undefined) {
    for (const cq of queues.all())
      report.truncatedQueueEntries += await cq.truncateByPhysical(truncateQueuesAt);
  }

  let end: number;
  const needsScan = report.mode !== 'clean' || scanFrom < cp!.logEnd;
  if (needsScan) {
    dispatcher.dispatchedOffset = scanFrom;
    const onRecord = (req: DispatchRequest) => dispatcher.dispatchRecord(req, false);
    // Large scans check CRCs on a second thread while this one parses and dispatches.
    const filesEnd = last.base + Math.min(last.fileSize, commitLog.segmentSize);
    const crcVerifier =
      filesEnd - scanFrom >= (input.parallelScanBytes ?? PARALLEL_SCAN_BYTES)
        ? startCrcVerifier(logger)
        : undefined;
    report.parallelCrc = crcVerifier !== undefined;
    let scan: Awaited<ReturnType<typeof scanLog>>;
    try {
      scan = await scanLog(commitLogSource(commitLog), scanFrom, onRecord, {
        delayLevels: input.delayLevels,
        crcVerifier,
      });
    } finally {
      await crcVerifier?.close();
    }
    for (const region of scan.corruptRegions) {
      logger.warn('corrupt commit log region skipped; later records are kept', { ...region });
    }
    for (const end of scan.segmentEnds) {
      logger.warn('commit log segment ended without a filler; closed it off', {
        segment: end.base,
        at: end.pos,
      });
    }
    dispatcher.advanceTo(scan.endOffset);
    report.scannedBytes = scan.scannedBytes;
    report.records = scan.records;
    report.cutBytes = scan.cutBytes;
    report.cutAt = scan.cutAt;
    report.corruptRegions = scan.corruptRegions;
    end = scan.endOffset;
  } else {
    end = cp!.logEnd;
  }

  await commitLog.truncateTo(end);
  index.clampCoverage(end);
  if (needsScan) {
    for (const cq of queues.all()) report.truncatedQueueEntries += await cq.truncateByPhysical(end);
  }
  for (const cq of queues.all()) await cq.correctMinOffset(commitLog.minOffset);
  dispatcher.dispatchedOffset = end;
  index.noteDispatched(end);
  // What is known durable: everything after a clean shutdown; after a crash, what the checkpoint
  // saw flushed. The rest may sit only in the page cache and is flushed by the flush service
  // (startup does not wait for it, and no checkpoint claims it before that).
  if (report.mode === 'clean') commitLog.flushedOffset = end;
  else {
    commitLog.flushedOffset = Math.min(end, report.mode === 'crash' ? (cp?.logFlushed ?? logMin) : logMin);
    commitLog.markUnflushedFrom(commitLog.flushedOffset);
  }
  report.endOffset = end;
  report.durationMs = performance.now() - t0;

  const fields = {
    mode: report.mode,
    reason: report.reason,
    scannedFrom: report.scannedFrom,
    scannedBytes: report.scannedBytes,
    records: report.records,
    endOffset: end,
    cutBytes: report.cutBytes,
    corruptRegions: report.corruptRegions.length,
    truncatedQueueEntries: report.truncatedQueueEntries,
    ms: Math.round(report.durationMs),
  };
  if (report.cutBytes > 0 || report.corruptRegions.length > 0) {
    logger.warn('recovery cut or skipped damaged commit log data', { ...fields, cutAt: report.cutAt });
  } else {
    logger.info('recovery finished', fields);
  }
  return report;
}
