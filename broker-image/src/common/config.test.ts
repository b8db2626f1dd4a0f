import { describe, expect, it } from 'vitest';
import { loadBrokerConfig } from './broker-config.js';
import { ConfigError } from './config.js';
import { loadNamesrvConfig } from './namesrv-config.js';

describe('loadBrokerConfig', () => {
  it('uses RocketMQ defaults when nothing is given', () => {
    const { config, warnings } = loadBrokerConfig({}, '/home/u');
    expect(config.brokerClusterName).toBe('DefaultCluster');
    expect(config.listenPort).toBe(10911);
    expect(config.flushDiskType).toBe('ASYNC_FLUSH');
    expect(config.autoCreateTopicEnable).toBe(true);
    expect(config.maxMessageSize).toBe(4194304);
    expect(config.storePathRootDir).toBe('/home/u/store');
    expect(warnings).toEqual([]);
  });

  it('reads broker.conf keys, including the legacy mapedFileSizeCommitLog spelling', () => {
    const text = [
      'brokerClusterName=C1',
      'brokerName=broker-b',
      'brokerId=1',
      'namesrvAddr=127.0.0.1:9876;127.0.0.2:9876',
      'listenPort=20911',
      'flushDiskType=sync_flush',
      'brokerRole=SLAVE',
      'fileReservedTime=48',
      'deleteWhen=04;16',
      'mapedFileSizeCommitLog=1048576',
      'autoCreateTopicEnable=false',
      'maxMessageSize=65536',
    ].join('\n');
    const { config, origins } = loadBrokerConfig({ file: { name: 'broker.conf', text } });
    expect(config).toMatchObject({
      brokerClusterName: 'C1',
      brokerName: 'broker-b',
      brokerId: 1,
      namesrvAddr: '127.0.0.1:9876;127.0.0.2:9876',
      listenPort: 20911,
      flushDiskType: 'SYNC_FLUSH',
      brokerRole: 'SLAVE',
      fileReservedTime: 48,
      deleteWhen: '04;16',
      mappedFileSizeCommitLog: 1048576,
      autoCreateTopicEnable: false,
      maxMessageSize: 65536,
    });
    expect(origins.listenPort).toBe('file broker.conf:5');
    expect(origins.regionId).toBe('default');
  });

  it('warns about unknown keys and ignored Java keys without failing', () => {
    const text = 'brokerName=b\nnoSuchKey=1\nsendMessageThreadPoolNums=16';
    const { config, warnings } = loadBrokerConfig({ file: { name: 'broker.conf', text } });
    expect(config.brokerName).toBe('b');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('unknown key noSuchKey');
    expect(warnings[1]).toContain('sendMessageThreadPoolNums');
    expect(warnings[1]).toContain('no effect');
  });

  it('fails naming every bad key, its origin and the accepted values', () => {
    const text = 'flushDiskType=FAST\nlistenPort=70000\nautoCreateTopicEnable=yes\nnamesrvAddr=localhost';
    let error: unknown;
    try {
      loadBrokerConfig({ file: { name: 'broker.conf', text } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems[0]).toContain('flushDiskType="FAST" (file broker.conf:1)');
    expect(problems[0]).toContain('ASYNC_FLUSH, SYNC_FLUSH');
    expect(problems[1]).toContain('listenPort');
    expect(problems[1]).toContain('from 0 to 65535');
    expect(problems[2]).toContain('true or false');
    expect(problems[3]).toContain('host:port');
    expect((error as Error).message).toContain('flushDiskType');
  });

  it('lets the environment override the file and the command line override both', () => {
    const { config, origins } = loadBrokerConfig({
      file: { name: 'broker.conf', text: 'listenPort=1000\nbrokerName=file\nflushDiskType=ASYNC_FLUSH' },
      env: {
        BOLIDE_LISTEN_PORT: '2000',
        BOLIDE_brokerName: 'env',
        BOLIDE_FLUSHDISKTYPE: 'SYNC_FLUSH',
        NAMESRV_ADDR: '10.1.1.1:9876',
        UNRELATED: 'x',
      },
      overrides: [{ key: 'listenPort', value: '3000', origin: '--broker-port' }],
    });
    expect(config.listenPort).toBe(3000);
    expect(origins.listenPort).toBe('option --broker-port');
    expect(config.brokerName).toBe('env');
    expect(config.flushDiskType).toBe('SYNC_FLUSH');
    expect(config.namesrvAddr).toBe('10.1.1.1:9876');
    expect(origins.namesrvAddr).toBe('env NAMESRV_ADDR');
  });

  it('reads the retry, delay and transaction keys and validates them', () => {
    const defaults = loadBrokerConfig({}).config;
    expect(defaults).toMatchObject({
      messageDelayLevel: '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h',
      maxReconsumeTimes: 16,
      transactionTimeOut: 6000,
      transactionCheckMax: 15,
      transactionCheckInterval: 60_000,
    });
    const text = [
      'messageDelayLevel=1s 1s 2s',
      'maxReconsumeTimes=3',
      'transactionTimeOut=100',
      'transactionCheckMax=2',
      'transactionCheckInterval=500',
    ].join('\n');
    const { config, warnings } = loadBrokerConfig({ file: { name: 'broker.conf', text } });
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      messageDelayLevel: '1s 1s 2s',
      maxReconsumeTimes: 3,
      transactionTimeOut: 100,
      transactionCheckMax: 2,
      transactionCheckInterval: 500,
    });
    const bad =
      'messageDelayLevel=1s 2x\nmaxReconsumeTimes=-1\ntransactionCheckMax=0\ntransactionCheckInterval=5';
    expect(() => loadBrokerConfig({ file: { name: 'broker.conf', text: bad } })).toThrow(
      /messageDelayLevel[\s\S]*maxReconsumeTimes[\s\S]*transactionCheckMax[\s\S]*transactionCheckInterval/,
    );
  });

  it('rejects a bad environment value naming the variable', () => {
    expect(() => loadBrokerConfig({ env: { BOLIDE_BROKER_ID: '-1' } })).toThrow(
      /brokerId="-1" \(env BOLIDE_BROKER_ID\)/,
    );
  });
});

describe('loadNamesrvConfig', () => {
  it('defaults to port 9876 and reads namesrv.properties', () => {
    expect(loadNamesrvConfig({}).config.listenPort).toBe(9876);
    const { config } = loadNamesrvConfig({
      file: { name: 'namesrv.properties', text: 'listenPort=9999\norderMessageEnable=true' },
    });
    expect(config.listenPort).toBe(9999);
    expect(config.orderMessageEnable).toBe(true);
  });
});
