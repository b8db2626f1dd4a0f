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
      text: `listenPort=0\nhttpPort=-1\nbrokerIP1=127.0.0.1\nstorePathRootDir=${dir}\nmappedFileSizeCommitLog=8388608`,
    },
  });
  broker = new Broker({
    config,
    logger: silentLogger(),
    host: '127.0.0.1',
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
  expect((await client.invoke(broker.brokerAddr, createRequest(42), 3000)).code).toBe(
    ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
  );
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
