// The name server over real sockets: a raw remoting client registers brokers and asks for routes,
// cluster info, topic lists and KV config, as Java brokers, clients and mqadmin do.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadNamesrvConfig, silentLogger } from '../../broker-image/src/common/index.js';
import { NameServer } from '../../broker-image/src/namesrv/index.js';
import {
  NamesrvRequestCode as Code,
  createRequest,
  encodeBodyJson,
  parseBodyJson,
  ResponseCode,
} from '../../broker-image/src/protocol/index.js';
import { RemotingClient } from '../../broker-image/src/remoting/index.js';

let dir: string;
let ns: NameServer;
let client: RemotingClient;
let addr: string;

async function startNameServer(extra: string[] = []) {
  const { config } = loadNamesrvConfig({
    file: {
      name: 'test',
      text: ['listenPort=0', `kvConfigPath=${join(dir, 'kv', 'kvConfig.json')}`, ...extra].join('\n'),
    },
  });
  ns = new NameServer({ config, logger: silentLogger(), host: '127.0.0.1' });
  await ns.start();
  addr = `127.0.0.1:${ns.port}`;
}

function registerBody(topics: Record<string, number>, counter = 1) {
  const topicConfigTable: Record<string, unknown> = {};
  for (const [name, queues] of Object.entries(topics)) {
    topicConfigTable[name] = {
      topicName: name,
      readQueueNums: queues,
      writeQueueNums: queues,
      perm: 6,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
    };
  }
  return encodeBodyJson({
    filterServerList: [],
    topicConfigSerializeWrapper: { dataVersion: { counter, timestamp: 1700000000000 }, topicConfigTable },
  });
}

function registerRequest(
  brokerName: string,
  brokerAddr: string,
  topics: Record<string, number>,
  counter = 1,
) {
  return createRequest(Code.REGISTER_BROKER, {
    extFields: {
      brokerName,
      brokerAddr,
      clusterName: 'DefaultCluster',
      haServerAddr: brokerAddr.replace(/:\d+$/, ':10912'),
      brokerId: '0',
      compressed: 'false',
    },
    body: registerBody(topics, counter),
  });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bolide-ns-'));
  client = new RemotingClient({ name: 'test' });
});

afterEach(async () => {
  await client.close();
  await ns?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('name server', () => {
  it('registers a broker and serves its route, cluster info and topic lists', async () => {
    await startNameServer();
    const reg = await client.invoke(
      addr,
      registerRequest('broker-a', '10.0.0.1:10911', { TopicTest: 4 }),
      3000,
    );
    expect(reg.code).toBe(ResponseCode.SUCCESS);
    expect(reg.extFields).toMatchObject({ haServerAddr: '', masterAddr: '' });

    const route = await client.invoke(
      addr,
      createRequest(Code.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'TopicTest' } }),
      3000,
    );
    expect(route.code).toBe(ResponseCode.SUCCESS);
    expect(JSON.parse(route.body!.toString())).toEqual({
      queueDatas: [{ brokerName: 'broker-a', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 }],
      brokerDatas: [
        { cluster: 'DefaultCluster', brokerName: 'broker-a', brokerAddrs: { '0': '10.0.0.1:10911' } },
      ],
      filterServerTable: {},
    });

    const missing = await client.invoke(
      addr,
      createRequest(Code.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'Nope' } }),
      3000,
    );
    expect(missing.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect(missing.remark).toContain('No topic route info in name server for the topic: Nope');

    const cluster = await client.invoke(addr, createRequest(Code.GET_BROKER_CLUSTER_INFO), 3000);
    expect(parseBodyJson(cluster.body!)).toEqual({
      brokerAddrTable: {
        'broker-a': {
          cluster: 'DefaultCluster',
          brokerName: 'broker-a',
          brokerAddrs: { '0': '10.0.0.1:10911' },
        },
      },
      clusterAddrTable: { DefaultCluster: ['broker-a'] },
    });

    const all = await client.invoke(addr, createRequest(Code.GET_ALL_TOPIC_LIST_FROM_NAMESERVER), 3000);
    expect(parseBodyJson(all.body!)).toEqual({ topicList: ['TopicTest'] });
    const byCluster = await client.invoke(
      addr,
      createRequest(Code.GET_TOPICS_BY_CLUSTER, { extFields: { cluster: 'DefaultCluster' } }),
      3000,
    );
    expect(parseBodyJson(byCluster.body!)).toEqual({ topicList: ['TopicTest'] });
    const system = await client.invoke(addr, createRequest(Code.GET_SYSTEM_TOPIC_LIST_FROM_NS), 3000);
    expect(parseBodyJson(system.body!)).toEqual({
      topicList: ['DefaultCluster', 'broker-a'],
      brokerAddr: '10.0.0.1:10911',
    });
  });

  it('answers in the ROCKETMQ binary serialization when asked in it', async () => {
    await startNameServer();
    const binary = new RemotingClient({ name: 'binary', serializeType: 'ROCKETMQ' });
    try {
      await binary.invoke(addr, registerRequest('broker-a', '10.0.0.1:10911', { T: 1 }), 3000);
      const route = await binary.invoke(
        addr,
        createRequest(Code.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'T' } }),
        3000,
      );
      expect(route.serializeTypeCurrentRPC).toBe('ROCKETMQ');
      expect(route.code).toBe(ResponseCode.SUCCESS);
    } finally {
      await binary.close();
    }
  });

  it('drops a broker when its connection closes', async () => {
    await startNameServer();
    const brokerSide = new RemotingClient({ name: 'broker' });
    await brokerSide.invoke(addr, registerRequest('broker-a', '10.0.0.1:10911', { T: 1 }), 3000);
    await client.invoke(addr, registerRequest('broker-b', '10.0.0.2:10911', { T: 1 }), 3000);
    await brokerSide.close();
    await expect
      .poll(() => ns.routes.getRoute('T')?.brokerDatas.map((b) => b.brokerName), { timeout: 5000 })
      .toEqual(['broker-b']);
  });

  it('expires a broker that stops re-registering', async () => {
    await startNameServer(['brokerChannelExpiredTime=1000', 'scanNotActiveBrokerInterval=100']);
    await client.invoke(addr, registerRequest('broker-a', '10.0.0.1:10911', { T: 1 }), 3000);
    expect(ns.routes.getRoute('T')).not.toBeNull();
    await expect.poll(() => ns.routes.getRoute('T'), { timeout: 10_000, interval: 100 }).toBeNull();
    // The connection itself is still open: expiry, not disconnection, removed it.
    const info = await client.invoke(addr, createRequest(Code.GET_BROKER_CLUSTER_INFO), 3000);
    expect(parseBodyJson(info.body!)).toEqual({ brokerAddrTable: {}, clusterAddrTable: {} });
  });

  it('unregisters, deletes topics and toggles write permission', async () => {
    await startNameServer();
    await client.invoke(addr, registerRequest('broker-a', '10.0.0.1:10911', { T: 2, U: 2 }), 3000);
    const wipe = await client.invoke(
      addr,
      createRequest(Code.WIPE_WRITE_PERM_OF_BROKER, { extFields: { brokerName: 'broker-a' } }),
      3000,
    );
    expect(wipe.extFields.wipeTopicCount).toBe('2');
    expect(ns.routes.getRoute('T')!.queueDatas[0].perm).toBe(4);
    const add = await client.invoke(
      addr,
      createRequest(Code.ADD_WRITE_PERM_OF_BROKER, { extFields: { brokerName: 'broker-a' } }),
      3000,
    );
    expect(add.extFields.addTopicCount).toBe('2');
    const del = await client.invoke(
      addr,
      createRequest(Code.DELETE_TOPIC_IN_NAMESRV, { extFields: { topic: 'U' } }),
      3000,
    );
    expect(del.code).toBe(ResponseCode.SUCCESS);
    expect(ns.routes.getRoute('U')).toBeNull();
    const unreg = await client.invoke(
      addr,
      createRequest(Code.UNREGISTER_BROKER, {
        extFields: {
          brokerName: 'broker-a',
          brokerAddr: '10.0.0.1:10911',
          clusterName: 'DefaultCluster',
          brokerId: '0',
        },
      }),
      3000,
    );
    expect(unreg.code).toBe(ResponseCode.SUCCESS);
    expect(ns.routes.getRoute('T')).toBeNull();
  });

  it('keeps KV config, persists it and serves orderTopicConf when enabled', async () => {
    await startNameServer(['orderMessageEnable=true']);
    const put = await client.invoke(
      addr,
      createRequest(Code.PUT_KV_CONFIG, {
        extFields: { namespace: 'ORDER_TOPIC_CONFIG', key: 'T', value: 'broker-a:2' },
      }),
      3000,
    );
    expect(put.code).toBe(ResponseCode.SUCCESS);
    const got = await client.invoke(
      addr,
      createRequest(Code.GET_KV_CONFIG, { extFields: { namespace: 'ORDER_TOPIC_CONFIG', key: 'T' } }),
      3000,
    );
    expect(got.extFields.value).toBe('broker-a:2');
    const none = await client.invoke(
      addr,
      createRequest(Code.GET_KV_CONFIG, { extFields: { namespace: 'ORDER_TOPIC_CONFIG', key: 'X' } }),
      3000,
    );
    expect(none.code).toBe(ResponseCode.QUERY_NOT_FOUND);
    const list = await client.invoke(
      addr,
      createRequest(Code.GET_KVLIST_BY_NAMESPACE, { extFields: { namespace: 'ORDER_TOPIC_CONFIG' } }),
      3000,
    );
    expect(parseBodyJson(list.body!)).toEqual({ table: { T: 'broker-a:2' } });
    expect(JSON.parse(await readFile(join(dir, 'kv', 'kvConfig.json'), 'utf8'))).toEqual({
      configTable: { ORDER_TOPIC_CONFIG: { T: 'broker-a:2' } },
    });

    const reg = await client.invoke(addr, registerRequest('broker-a', '10.0.0.1:10911', { T: 2 }), 3000);
    expect(parseBodyJson(reg.body!)).toEqual({ table: { T: 'broker-a:2' } });
    const route = await client.invoke(
      addr,
      createRequest(Code.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'T' } }),
      3000,
    );
    expect(parseBodyJson(route.body!)).toMatchObject({ orderTopicConf: 'broker-a:2' });

    await client.invoke(
      addr,
      createRequest(Code.DELETE_KV_CONFIG, { extFields: { namespace: 'ORDER_TOPIC_CONFIG', key: 'T' } }),
      3000,
    );
    const after = await client.invoke(
      addr,
      createRequest(Code.GET_KVLIST_BY_NAMESPACE, { extFields: { namespace: 'ORDER_TOPIC_CONFIG' } }),
      3000,
    );
    expect(after.code).toBe(ResponseCode.QUERY_NOT_FOUND);
  });

  it('reads its KV config back after a restart', async () => {
    await startNameServer();
    await client.invoke(
      addr,
      createRequest(Code.PUT_KV_CONFIG, { extFields: { namespace: 'N', key: 'k', value: 'v' } }),
      3000,
    );
    await ns.stop();
    await client.close();
    client = new RemotingClient({ name: 'test2' });
    await startNameServer();
    const got = await client.invoke(
      addr,
      createRequest(Code.GET_KV_CONFIG, { extFields: { namespace: 'N', key: 'k' } }),
      3000,
    );
    expect(got.extFields.value).toBe('v');
  });

  it('rejects bad input with a response and keeps serving', async () => {
    await startNameServer();
    const unknown = await client.invoke(addr, createRequest(9999), 3000);
    expect(unknown.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    const noHeader = await client.invoke(addr, createRequest(Code.GET_ROUTEINFO_BY_TOPIC), 3000);
    expect(noHeader.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(noHeader.remark).toContain('topic');
    const badBody = createRequest(Code.REGISTER_BROKER, {
      extFields: {
        brokerName: 'b',
        brokerAddr: '1.1.1.1:1',
        clusterName: 'C',
        haServerAddr: '1.1.1.1:2',
        brokerId: '0',
      },
      body: Buffer.from('{not json'),
    });
    const bad = await client.invoke(addr, badBody, 3000);
    expect(bad.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(bad.remark).toContain('REGISTER_BROKER body');
    const crc = registerRequest('broker-a', '10.0.0.1:10911', { T: 1 });
    crc.extFields.bodyCrc32 = '12345';
    expect((await client.invoke(addr, crc, 3000)).remark).toBe('crc32 not match');
    const ok = await client.invoke(addr, registerRequest('broker-a', '10.0.0.1:10911', { T: 1 }), 3000);
    expect(ok.code).toBe(ResponseCode.SUCCESS);
  });

  it('serves and updates its config as properties text', async () => {
    await startNameServer();
    const cfg = await client.invoke(addr, createRequest(Code.GET_NAMESRV_CONFIG), 3000);
    expect(cfg.body!.toString()).toContain('orderMessageEnable=false');
    const upd = await client.invoke(
      addr,
      createRequest(Code.UPDATE_NAMESRV_CONFIG, { body: Buffer.from('orderMessageEnable=true\n') }),
      3000,
    );
    expect(upd.code).toBe(ResponseCode.SUCCESS);
    const again = await client.invoke(addr, createRequest(Code.GET_NAMESRV_CONFIG), 3000);
    expect(again.body!.toString()).toContain('orderMessageEnable=true');
    const bad = await client.invoke(
      addr,
      createRequest(Code.UPDATE_NAMESRV_CONFIG, { body: Buffer.from('orderMessageEnable=maybe\n') }),
      3000,
    );
    expect(bad.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(bad.remark).toContain('orderMessageEnable');
  });
});
