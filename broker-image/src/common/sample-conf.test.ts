import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadBrokerConfig } from './broker-config.js';
import { loadNamesrvConfig } from './namesrv-config.js';

const CONF = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'conf');

describe('shipped sample configs', () => {
  it('broker.conf loads without warnings', () => {
    const text = readFileSync(join(CONF, 'broker.conf'), 'utf8');
    const { config, warnings } = loadBrokerConfig({ file: { name: 'broker.conf', text } });
    expect(warnings).toEqual([]);
    expect(config.namesrvAddr).toBe('127.0.0.1:9876');
    expect(config.storePathRootDir).toBe('/var/lib/bolide/store');
  });

  it('namesrv.properties loads without warnings', () => {
    const text = readFileSync(join(CONF, 'namesrv.properties'), 'utf8');
    const { config, warnings } = loadNamesrvConfig({ file: { name: 'namesrv.properties', text } });
    expect(warnings).toEqual([]);
    expect(config.listenPort).toBe(9876);
  });
});
