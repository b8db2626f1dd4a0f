import { describe, expect, it } from 'vitest';
import { parseDelayLevels, resolveStoreConfig, StoreConfigError } from './store-config.js';

const base = { storePathRootDir: '/data/store', storeHost: '10.0.0.1:10911' };

describe('store config', () => {
  it('fills defaults and derives the commit-log directory', () => {
    const c = resolveStoreConfig(base);
    expect(c.mappedFileSizeCommitLog).toBe(1024 ** 3);
    expect(c.flushDiskType).toBe('ASYNC_FLUSH');
    expect(c.storePathCommitLog).toBe('/data/store/commitlog');
    expect(c.storeHost).toEqual({ address: '10.0.0.1', port: 10911 });
  });

  it('accepts broker.conf text values and the old "maped" spelling', () => {
    const c = resolveStoreConfig({
      ...base,
      mapedFileSizeCommitLog: '1048576',
      flushDiskType: 'SYNC_FLUSH',
      maxMessageSize: '65536',
    });
    expect(c.mappedFileSizeCommitLog).toBe(1048576);
    expect(c.flushDiskType).toBe('SYNC_FLUSH');
  });

  it('names the key and the accepted values for a bad enum', () => {
    expect(() => resolveStoreConfig({ ...base, flushDiskType: 'FAST' })).toThrow(
      "flushDiskType: 'FAST' is not accepted; accepted values: SYNC_FLUSH, ASYNC_FLUSH",
    );
  });

  it('reports every bad key at once', () => {
    try {
      resolveStoreConfig({
        storePathRootDir: '',
        storeHost: 'nope',
        deleteWhen: '25',
        mappedFileSizeConsumeQueue: 30,
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(StoreConfigError);
      const problems = (err as StoreConfigError).problems.join('\n');
      expect(problems).toMatch(/storePathRootDir/);
      expect(problems).toMatch(/storeHost: 'nope'/);
      expect(problems).toMatch(/deleteWhen: '25'.*hours 00-23/);
      expect(problems).toMatch(/mappedFileSizeConsumeQueue: 30.*multiple of 20/);
    }
  });

  it('refuses a segment too small for the largest record', () => {
    expect(() => resolveStoreConfig({ ...base, mappedFileSizeCommitLog: 65536 })).toThrow(
      /mappedFileSizeCommitLog: 65536 is not accepted; accepted values: an integer ≥ maxMessageSize/,
    );
  });

  it('refuses non-integer and out-of-range numbers', () => {
    expect(() => resolveStoreConfig({ ...base, syncFlushTimeout: '1.5' })).toThrow(
      /syncFlushTimeout: '1.5' is not accepted; accepted values: an integer from 1 to 600000/,
    );
    expect(() => resolveStoreConfig({ ...base, diskMaxUsedSpaceRatio: 99 })).toThrow(/from 10 to 95/);
  });

  it('parses delay levels', () => {
    expect(parseDelayLevels('1s 5m 2h 1d')).toEqual([1000, 300_000, 7_200_000, 86_400_000]);
    expect(parseDelayLevels('1x')).toBeUndefined();
  });
});
