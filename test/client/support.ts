// Shared pieces of the client integration tests: polling waits, unique names, and a consumer
// wrapper that records every delivery (to count losses and duplicates).

import {
  AdminClient,
  type MessageExt,
  Producer,
  PushConsumer,
  type PushConsumerOptions,
  type TopicConfig,
} from '../../broker-image/src/client/index.js';
import { type LocalRocketMQ, type StandaloneOptions, startStandalone } from '../harness/local-rocketmq.js';
import { uniqueName, waitFor } from '../harness/polling.js';

export { uniqueName, waitFor };

/** A standalone name server + broker with an admin client and a started producer, shared by one test file. */
export interface BrokerWithClients {
  rmq: LocalRocketMQ;
  admin: AdminClient;
  producer: Producer;
}

export async function startBrokerWithClients(options: StandaloneOptions = {}): Promise<BrokerWithClients> {
  const rmq = await startStandalone(options);
  const admin = new AdminClient({ namesrvAddr: rmq.namesrvAddr });
  const producer = new Producer({ namesrvAddr: rmq.namesrvAddr, producerGroup: uniqueName('PG') });
  try {
    await producer.start();
  } catch (err) {
    await stopBrokerWithClients({ rmq, admin, producer });
    throw err;
  }
  return { rmq, admin, producer };
}

/** Stops whatever of a `BrokerWithClients` was started: producer, then admin, then the broker. */
export async function stopBrokerWithClients(env: Partial<BrokerWithClients>): Promise<void> {
  await env.producer?.shutdown();
  await env.admin?.close();
  await env.rmq?.stop();
}

/** Creates (or updates) a topic on one broker and waits until the name server routes it. */
export async function createTopicAndWaitForRoute(
  admin: AdminClient,
  brokerAddr: string,
  config: TopicConfig,
): Promise<void> {
  await admin.createOrUpdateTopic(brokerAddr, config);
  await waitFor(
    async () => (await admin.getTopicRoute(config.topicName)) !== undefined,
    10_000,
    () => `route of ${config.topicName}`,
  );
}

/** A uniquely named topic with `queues` read and write queues, routed before this returns. */
export async function createRoutedTopic(
  admin: AdminClient,
  brokerAddr: string,
  prefix: string,
  queues: number,
  extra: Partial<TopicConfig> = {},
): Promise<string> {
  const topicName = uniqueName(prefix);
  await createTopicAndWaitForRoute(admin, brokerAddr, {
    ...extra,
    topicName,
    readQueueNums: queues,
    writeQueueNums: queues,
  });
  return topicName;
}

export interface Delivery {
  consumer: string;
  body: string;
  msg: MessageExt;
}

/** A push consumer whose listener records deliveries into a shared log. */
export class RecordingConsumer {
  readonly consumer: PushConsumer;
  readonly deliveries: Delivery[];

  constructor(
    readonly name: string,
    options: PushConsumerOptions,
    topic: string,
    expression: string,
    log: Delivery[],
    onMessage?: (msg: MessageExt) => 'CONSUME_SUCCESS' | 'RECONSUME_LATER' | undefined,
  ) {
    this.deliveries = log;
    this.consumer = new PushConsumer(options);
    this.consumer.subscribe(topic, expression);
    this.consumer.registerMessageListener((msgs) => {
      for (const msg of msgs) {
        const verdict = onMessage?.(msg);
        if (verdict === 'RECONSUME_LATER') return verdict;
        log.push({ consumer: name, body: msg.body.toString(), msg });
      }
      return 'CONSUME_SUCCESS';
    });
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  shutdown(): Promise<void> {
    return this.consumer.shutdown();
  }
}

/** One delivery attempt of a message, as seen by the listener. */
export interface Attempt {
  at: number;
  reconsumeTimes: number;
  topic: string;
  msgId: string;
  body: string;
}

/**
 * Subscribes `consumer` to all of `topic` with a listener that records every attempt and asks for
 * redelivery (RECONSUME_LATER) until a message's reconsumeTimes reaches `succeedAt`.
 */
export function recordAttemptsFailingUntil(
  consumer: PushConsumer,
  topic: string,
  succeedAt: number,
): Attempt[] {
  const attempts: Attempt[] = [];
  consumer.subscribe(topic, '*');
  consumer.registerMessageListener((msgs) => {
    for (const m of msgs) {
      attempts.push({
        at: Date.now(),
        reconsumeTimes: m.reconsumeTimes,
        topic: m.topic,
        msgId: m.msgId,
        body: m.body.toString(),
      });
    }
    return msgs.some((m) => m.reconsumeTimes < succeedAt) ? 'RECONSUME_LATER' : 'CONSUME_SUCCESS';
  });
  return attempts;
}

/** Counts of a delivery log against the expected bodies. */
export function tally(log: readonly Delivery[], expected: readonly string[]) {
  const counts = new Map<string, number>();
  for (const d of log) counts.set(d.body, (counts.get(d.body) ?? 0) + 1);
  const missing = [...new Set(expected)].filter((b) => !counts.has(b));
  let duplicates = 0;
  for (const n of counts.values()) if (n > 1) duplicates += n - 1;
  const expectedSet = new Set(expected);
  const unexpected = [...counts.keys()].filter((b) => !expectedSet.has(b));
  /** How many of the expected bodies were delivered at least once. */
  const distinct = new Set(expected).size - missing.length;
  return { distinct, missing, duplicates, unexpected };
}

/** Consumer options tuned for tests: quick heartbeats and rebalances so membership changes settle fast. */
export function fastConsumerOptions(namesrvAddr: string, consumerGroup: string): PushConsumerOptions {
  return {
    namesrvAddr,
    consumerGroup,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    heartbeatBrokerIntervalMs: 2_000,
    rebalanceIntervalMs: 2_000,
    pollNameServerIntervalMs: 2_000,
    persistConsumerOffsetIntervalMs: 1_000,
  };
}
