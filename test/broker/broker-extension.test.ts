// A Broker embedded with extra processors (how later request families plug in), on the file
// store in a temp dir, without a name server.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Broker } from '../../broker-image/src/broker/index.js';
import { loadBrokerConfig, silentLogger } from '../../broker-image/src/common/index.js';
import { createRequest, createResponse, ResponseCode } from '../../broker-image/src/protocol/index.js';
import { RemotingClient } from '../../broker-image/src/remoting/index.js';

let dir: string;
let broker: Broker;
const client = new RemotingClient({ name: 'ext' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bolide-ext-'));
  const { config } = loadBrokerConfig({
    file: {
      name: 'test',
      text: [
        'listenPort=0',
        'httpPort=-1',
        'brokerIP1=127.0.0.1',
        `storePathRootDir=${dir}`,
        'mappedFileSizeCommitLog=8388608',
        'channelExpiredTimeout=1000',
      ].join('\n'),
    },
  });
  broker = new Broker({
    config,
    logger: silentLogger(),
    host: '127.0.0.1',
    clientScanIntervalMs: 100,
    processors: {
      41: (rt) => async (req) =>
        createResponse(req, ResponseCode.SUCCESS, { remark: `lock at ${rt.brokerAddr}` }),
    },
  });
  await broker.start();
});

afterAll(async () => {
  await client.close();
  await broker?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('serves processors passed in by the embedder, next to the built-in ones', async () => {
  const lock = await client.invoke(broker.brokerAddr, createRequest(41), 3000);
  expect(lock.code).toBe(ResponseCode.SUCCESS);
  expect(lock.remark).toBe(`lock at ${broker.brokerAddr}`);
  const max = await client.invoke(
    broker.brokerAddr,
    createRequest(30, { extFields: { topic: 'T', queueId: '0' } }),
    3000,
  );
  expect(max.extFields.offset).toBe('0');
  expect((await client.invoke(broker.brokerAddr, createRequest(324), 3000)).code).toBe(
    ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
  );
});

it('drops and disconnects a client whose heartbeats stop', async () => {
  const silent = new RemotingClient({ name: 'silent' });
  const closed = new Promise<void>((resolve) => silent.on('channelClose', () => resolve()));
  const body = Buffer.from(
    JSON.stringify({
      clientID: '10.9.9.9@quiet',
      consumerDataSet: [
        {
          groupName: 'GQ',
          consumeType: 'CONSUME_PASSIVELY',
          messageModel: 'CLUSTERING',
          consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
          subscriptionDataSet: [{ topic: 'T', subString: '*', subVersion: 1 }],
        },
      ],
      producerDataSet: [],
    }),
  );
  expect((await silent.invoke(broker.brokerAddr, createRequest(34, { body }), 3000)).code).toBe(
    ResponseCode.SUCCESS,
  );
  const list = await client.invoke(
    broker.brokerAddr,
    createRequest(38, { extFields: { consumerGroup: 'GQ' } }),
    3000,
  );
  expect(JSON.parse(list.body!.toString()).consumerIdList).toEqual(['10.9.9.9@quiet']);
  await closed;
  const after = await client.invoke(
    broker.brokerAddr,
    createRequest(38, { extFields: { consumerGroup: 'GQ' } }),
    3000,
  );
  expect(after.code).toBe(ResponseCode.SYSTEM_ERROR);
  await silent.close();
});

it('persists its tables under storePathRootDir/config on stop', async () => {
  const r = await client.invoke(
    broker.brokerAddr,
    createRequest(15, { extFields: { consumerGroup: 'G', topic: 'T', queueId: '0', commitOffset: '7' } }),
    3000,
  );
  expect(r.code).toBe(ResponseCode.SUCCESS);
  await broker.stop();
  expect(await readFile(join(dir, 'config', 'consumerOffset.json'), 'utf8')).toBe(
    '{"offsetTable":{"T@G":{0:7}}}',
  );
  expect(await readFile(join(dir, 'config', 'topics.json'), 'utf8')).toContain('"TBW102"');
  expect(await readFile(join(dir, 'config', 'subscriptionGroup.json'), 'utf8')).toContain('"TOOLS_CONSUMER"');
});
