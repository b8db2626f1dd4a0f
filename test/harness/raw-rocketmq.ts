// Raw RocketMQ requests over the remoting client, shaped like the Java client's: for tests that
// check the broker and name server at the protocol level, without the TypeScript client.

import {
  createRequest,
  encodeBodyJson,
  type RemotingCommand,
} from '../../broker-image/src/protocol/index.js';
import { RemotingClient } from '../../broker-image/src/remoting/index.js';
import { decodeRecords, type StoredRecord } from '../../broker-image/src/store/record-codec.js';

export interface SendOptions {
  tag?: string;
  keys?: string;
  queueId?: number;
  properties?: Record<string, string>;
  producerGroup?: string;
  defaultTopic?: string;
  reconsumeTimes?: number;
  maxReconsumeTimes?: number;
  /** Message sysFlag (e.g. 4 for a transactional half message). */
  sysFlag?: number;
}

export interface PullOptions {
  group: string;
  topic: string;
  queueId: number;
  offset: bigint | number;
  /** Tag expression sent with the pull (sysFlag 4); undefined = rely on the heartbeat's subscription. */
  subscription?: string;
  /** Allow long polling (sysFlag 2); default true. */
  suspend?: boolean;
  suspendTimeoutMillis?: number;
  commitOffset?: bigint | number;
  maxMsgNums?: number;
  subVersion?: number;
  timeoutMs?: number;
}

export class RawRocketMQ {
  readonly client: RemotingClient;

  constructor(client = new RemotingClient({ name: 'raw' })) {
    this.client = client;
  }

  invoke(
    addr: string,
    code: number,
    extFields: Record<string, string> = {},
    body?: Buffer,
    timeoutMs = 5000,
  ) {
    return this.client.invoke(addr, createRequest(code, { extFields, body }), timeoutMs);
  }

  /** SEND_MESSAGE_V2 (310) the way a 4.9 Java producer sends it. */
  send(
    addr: string,
    topic: string,
    body: string | Buffer,
    options: SendOptions = {},
  ): Promise<RemotingCommand> {
    const props: Record<string, string> = { ...options.properties };
    if (options.keys !== undefined) props.KEYS = options.keys;
    if (options.tag !== undefined) props.TAGS = options.tag;
    props.WAIT = 'true';
    const ext: Record<string, string> = {
      a: options.producerGroup ?? 'PG',
      b: topic,
      c: options.defaultTopic ?? 'TBW102',
      d: '4',
      e: String(options.queueId ?? -1),
      f: String(options.sysFlag ?? 0),
      g: String(Date.now()),
      h: '0',
      i: Object.entries(props)
        .map(([k, v]) => `${k}\u0001${v}`)
        .join('\u0002'),
      j: String(options.reconsumeTimes ?? 0),
      k: 'false',
      m: 'false',
    };
    if (options.maxReconsumeTimes !== undefined) ext.l = String(options.maxReconsumeTimes);
    return this.invoke(addr, 310, ext, typeof body === 'string' ? Buffer.from(body) : body);
  }

  /** PULL_MESSAGE (11). */
  pull(addr: string, o: PullOptions): Promise<RemotingCommand> {
    let sysFlag = 0;
    if (o.commitOffset !== undefined) sysFlag |= 1;
    if (o.suspend ?? true) sysFlag |= 2;
    if (o.subscription !== undefined) sysFlag |= 4;
    const ext: Record<string, string> = {
      consumerGroup: o.group,
      topic: o.topic,
      queueId: String(o.queueId),
      queueOffset: String(o.offset),
      maxMsgNums: String(o.maxMsgNums ?? 32),
      sysFlag: String(sysFlag),
      commitOffset: String(o.commitOffset ?? 0),
      suspendTimeoutMillis: String(o.suspendTimeoutMillis ?? 15_000),
      subVersion: String(o.subVersion ?? 0),
    };
    if (o.subscription !== undefined) ext.subscription = o.subscription;
    return this.invoke(addr, 11, ext, undefined, o.timeoutMs ?? 30_000);
  }

  /** HEART_BEAT (34) for one consumer group (and optionally a producer group). */
  heartbeat(
    addr: string,
    clientId: string,
    consumer?: { group: string; subscriptions: { topic: string; expression: string; subVersion?: number }[] },
    producerGroup?: string,
  ): Promise<RemotingCommand> {
    const data = {
      clientID: clientId,
      consumerDataSet: consumer
        ? [
            {
              groupName: consumer.group,
              consumeType: 'CONSUME_PASSIVELY',
              messageModel: 'CLUSTERING',
              consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
              unitMode: false,
              subscriptionDataSet: consumer.subscriptions.map((s) => ({
                topic: s.topic,
                subString: s.expression,
                tagsSet: [],
                codeSet: [],
                subVersion: s.subVersion ?? 1,
                expressionType: 'TAG',
                classFilterMode: false,
              })),
            },
          ]
        : [],
      producerDataSet: producerGroup ? [{ groupName: producerGroup }] : [],
    };
    return this.invoke(addr, 34, {}, encodeBodyJson(data));
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** The records of a pull response body. */
export function recordsOf(response: RemotingCommand): StoredRecord[] {
  return response.body ? decodeRecords(response.body) : [];
}
