// Retention: deletes whole CommitLog segments that expired (older than fileReservedTime hours,
// at a deleteWhen hour), sooner when the disk passes diskMaxUsedSpaceRatio, and even unexpired
// ones (oldest first) past diskSpaceCleanForciblyRatio. Consume queues and index runs follow.
// Past diskSpaceWarningLevelRatio appends are refused until space is back.

import { stat, statfs } from 'node:fs/promises';
import type { Logger } from '../common/index.js';
import type { CommitLog } from './commit-log.js';
import type { ConsumeQueueTable } from './consume-queue-table.js';
import { isNotFound } from './file-io.js';
import type { KeyIndex } from './key-index.js';
import { parseDeleteWhen, type StoreConfig } from './store-config.js';

/** Fraction of the file system holding `path` that is in use. */
export async function fileSystemUsage(path: string): Promise<number> {
  const s = await statfs(path);
  return s.blocks > 0 ? (s.blocks - s.bfree) / s.blocks : 0;
}

export interface RetentionReport {
  diskUsage: number;
  diskFull: boolean;
  deletedSegments: number;
  deletedQueueFiles: number;
  deletedIndexRuns: number;
  /** What triggered deletion, if anything did. */
  trigger?: 'time' | 'disk-high-water' | 'disk-critical' | 'manual';
}

const MAX_SEGMENTS_PER_RUN = 10;

export class RetentionService {
  diskFull = false;
  lastUsage = 0;
  segmentsDeleted = 0;
  private readonly deleteHours: number[];

  constructor(
    private readonly config: StoreConfig,
    private readonly commitLog: CommitLog,
    private readonly queues: ConsumeQueueTable,
    private readonly index: KeyIndex,
    private readonly diskUsage: () => Promise<number>,
    private readonly clock: () => number,
    private readonly logger: Logger,
  ) {
    this.deleteHours = parseDeleteWhen(config.deleteWhen) ?? [4];
  }

  /** Re-reads disk usage and updates the disk-full flag. */
  async checkDisk(): Promise<number> {
    const usage = await this.diskUsage();
    this.lastUsage = usage;
    const full = usage > this.config.diskSpaceWarningLevelRatio;
    if (full !== this.diskFull) {
      if (full) {
        this.logger.error('disk almost full; refusing appends', {
          usage,
          limit: this.config.diskSpaceWarningLevelRatio,
        });
      } else this.logger.info('disk space back; accepting appends', { usage });
    }
    this.diskFull = full;
    return usage;
  }

  /** One retention pass. `manual` deletes expired segments whatever the hour. */
  async run(manual = false): Promise<RetentionReport> {
    const usage = await this.checkDisk();
    const now = this.clock();
    const report: RetentionReport = {
      diskUsage: usage,
      diskFull: this.diskFull,
      deletedSegments: 0,
      deletedQueueFiles: 0,
      deletedIndexRuns: 0,
    };
    const critical = usage > this.config.diskSpaceCleanForciblyRatio;
    const highWater = usage > this.config.diskMaxUsedSpaceRatio / 100;
    const timeUp = this.deleteHours.includes(new Date(now).getHours());
    if (!(critical || highWater || timeUp || manual)) return report;
    report.trigger = critical ? 'disk-critical' : highWater ? 'disk-high-water' : manual ? 'manual' : 'time';
    const expiredBefore = now - this.config.fileReservedTime * 3_600_000;
    while (report.deletedSegments < MAX_SEGMENTS_PER_RUN && this.commitLog.segmentList.length > 1) {
      const oldest = this.commitLog.segmentList[0];
      let mtime: number;
      try {
        mtime = (await stat(oldest.path)).mtimeMs;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        mtime = 0;
      }
      if (!(mtime < expiredBefore || critical)) break;
      await this.commitLog.deleteOldestSegment();
      report.deletedSegments++;
      this.logger.info('deleted commit log segment', {
        segment: oldest.path,
        trigger: report.trigger,
        ageHours: Math.round((now - mtime) / 360_000) / 10,
      });
    }
    if (report.deletedSegments > 0) {
      this.segmentsDeleted += report.deletedSegments;
      const minOffset = this.commitLog.minOffset;
      for (const cq of this.queues.all()) report.deletedQueueFiles += await cq.deleteBelow(minOffset);
      report.deletedIndexRuns = await this.index.deleteBelow(minOffset);
      await this.checkDisk();
      report.diskFull = this.diskFull;
    }
    return report;
  }
}
