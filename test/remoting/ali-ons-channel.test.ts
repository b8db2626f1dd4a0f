// The remoting server as seen by a third-party client's transport: ali-ons' own Channel and
// RemotingCommand (JSON only, raw JS values in extFields, header length read unmasked).

import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRequest,
  createResponse,
  RequestCode,
  ResponseCode,
} from '../../broker-image/src/protocol/index.js';
import { type Channel, RemotingServer } from '../../broker-image/src/remoting/index.js';

const require = createRequire(import.meta.url);
interface AliCommand {
  code: number;
  opaque: number;
  flag: number;
  remark?: string;
  extFields: Record<string, unknown>;
  body?: Buffer;
  isResponseType: boolean;
}
interface AliChannel {
  ready(): Promise<void>;
  invoke(command: unknown, timeout: number): Promise<AliCommand>;
  invokeOneway(command: unknown): Promise<void>;
  on(event: 'request', listener: (request: { data: AliCommand }) => void): void;
  close(): void;
}
const AliOnsChannel = require('ali-ons/lib/channel.js') as new (address: string) => AliChannel;
const AliOnsCommand = require('ali-ons/lib/protocol/command/remoting_command.js') as {
  createRequestCommand(code: number, customHeader?: Record<string, unknown>): AliCommand;
};

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function start() {
  const server = new RemotingServer({ logger: silent });
  const port = await server.listen(0, '127.0.0.1');
  cleanup.push(() => server.close());
  const channel = new AliOnsChannel(`127.0.0.1:${port}`);
  channel.on('request', () => {}); // ali-ons ignores broker-initiated requests
  await channel.ready();
  cleanup.push(() => channel.close());
  return { server, channel };
}

describe('ali-ons transport against RemotingServer', () => {
  it('gets a SEND_MESSAGE_V2-shaped response it can read, with its numbers/booleans seen as strings', async () => {
    const { server, channel } = await start();
    let seen: Record<string, string> = {};
    server.registerProcessor(RequestCode.SEND_MESSAGE_V2, async (request) => {
      seen = { ...request.extFields };
      return createResponse(request, ResponseCode.SUCCESS, {
        extFields: {
          msgId: '0A00000100002A9F0000000000000000',
          queueId: '2',
          queueOffset: '7',
          MSG_REGION: 'DefaultRegion',
          TRACE_ON: 'true',
        },
      });
    });
    const command = AliOnsCommand.createRequestCommand(RequestCode.SEND_MESSAGE_V2, {
      a: 'PG',
      b: 'TopicTest',
      c: 'TBW102',
      d: 4,
      e: 2,
      f: 0,
      g: 1700000000000,
      h: 0,
      i: 'TAGS\u0001TagA\u0002',
      j: 0,
      k: false,
    });
    (command as unknown as { body: Buffer }).body = Buffer.from('hello');
    const response = await channel.invoke(command, 3000);
    expect(response.code).toBe(0);
    expect(response.isResponseType).toBe(true);
    expect(response.extFields).toMatchObject({
      msgId: '0A00000100002A9F0000000000000000',
      queueId: '2',
      queueOffset: '7',
    });
    expect(seen).toMatchObject({ d: '4', e: '2', g: '1700000000000', k: 'false', i: 'TAGS\u0001TagA\u0002' });
  });

  it('reads error responses with remark and bodies', async () => {
    const { server, channel } = await start();
    server.registerProcessor(RequestCode.GET_ROUTEINFO_BY_TOPIC, async (request) =>
      request.extFields.topic === 'Known'
        ? createResponse(request, 0, { body: Buffer.from('{"brokerDatas":[],"queueDatas":[]}') })
        : createResponse(request, ResponseCode.TOPIC_NOT_EXIST, {
            remark: 'No topic route info in name server for the topic: X',
          }),
    );
    const known = await channel.invoke(AliOnsCommand.createRequestCommand(105, { topic: 'Known' }), 3000);
    expect(known.body?.toString()).toBe('{"brokerDatas":[],"queueDatas":[]}');
    const unknown = await channel.invoke(AliOnsCommand.createRequestCommand(105, { topic: 'X' }), 3000);
    expect(unknown).toMatchObject({
      code: 17,
      remark: 'No topic route info in name server for the topic: X',
    });
    const unsupported = await channel.invoke(AliOnsCommand.createRequestCommand(999, {}), 3000);
    expect(unsupported.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  });

  it('delivers its oneway offset commits and survives a broker-initiated notify it ignores', async () => {
    const { server, channel } = await start();
    const commits: string[] = [];
    let member: Channel | undefined;
    server.registerProcessor(RequestCode.HEART_BEAT, async (request, context) => {
      member = context.channel;
      return createResponse(request);
    });
    server.registerProcessor(RequestCode.UPDATE_CONSUMER_OFFSET, async (request) => {
      commits.push(request.extFields.commitOffset);
      return createResponse(request);
    });
    await channel.invoke(AliOnsCommand.createRequestCommand(34, {}), 3000);
    member?.invokeOneway(
      createRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, { extFields: { consumerGroup: 'CG' } }),
    );
    await channel.invokeOneway(
      AliOnsCommand.createRequestCommand(15, {
        consumerGroup: 'CG',
        topic: 'T',
        queueId: 0,
        commitOffset: 42,
      }),
    );
    await expect.poll(() => commits).toEqual(['42']);
    const again = await channel.invoke(AliOnsCommand.createRequestCommand(34, {}), 3000);
    expect(again.code).toBe(0);
  });
});
