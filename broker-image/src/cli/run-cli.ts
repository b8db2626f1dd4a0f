// `bolide produce|consume|topic|group|cluster …`: the client-side commands for people. Server roles
// (namesrv, broker, standalone) are dispatched by main.ts; everything else lands here.

import {
  type AdminClient,
  type ConsumeFromWhere,
  type ConsumeStats,
  DEFAULT_NAMESRV_ADDR,
  DLQ_GROUP_TOPIC_PREFIX,
  type MessageExt,
  MQBrokerError,
  MQClientError,
  Producer,
  PushConsumer,
  parseUserTimestamp,
  retryTopic,
} from '../client/index.js';
import { clientOptions, intOption, parse, required, withAdmin } from './args.js';
import { type CliIo, formatTable, processIo, UsageError } from './io.js';
import { messageCommand } from './message-commands.js';

export const CLI_USAGE = `Usage: bolide <command> [options]

Client commands (all take --namesrv-addr host:port[;host:port], default $NAMESRV_ADDR or ${DEFAULT_NAMESRV_ADDR};
--serialize-type JSON|ROCKETMQ picks the request header encoding):

  produce --topic T [--tag TAG] [--key KEY] [--count N] [--body TEXT] [--group PG]
      Sends N messages (default 1); the body defaults to "Hello Bolide <i>".
  consume --topic T --group G [--expression "TagA || TagB"] [--count N]
          [--from last|first|timestamp] [--timestamp yyyyMMddHHmmss]
      Prints messages until N were received or Ctrl-C.
  topic create|update --topic T [--cluster C | --broker-addr A] [--queues N]
          [--read-queues N] [--write-queues N] [--perm 6] [--order]
  topic delete --topic T [--cluster C]
  topic list
  topic route --topic T
  topic stats --topic T
  group create|update --group G [--cluster C | --broker-addr A] [--retry-max-times N]
          [--retry-queues N] [--no-broadcast] [--disable]
  group delete --group G [--cluster C | --broker-addr A] [--remove-offset]
  group stats --group G [--topic T]
      Consume progress and lag per queue, with the group's %RETRY% and %DLQ% topics.
  group reset-offset --group G --topic T --timestamp <epoch ms | yyyyMMddHHmmss | -1> [--no-force]
      Moves the group's offsets to the first message stored at or after the time (--timestamp=-1: the end);
      live consumers are told by the broker. --no-force only moves offsets backwards.
  message query --topic T (--key K | --uniq-key ID) [--begin TS] [--end TS] [--max N]
  message view --id OFFSET_MSG_ID [--topic T]
      With --topic an id that is not an offset message id is looked up as a client msgId.
  message dlq --group G [--max N] [--resend]
      Lists the group's dead letters; --resend sends each again to its original topic.
  message resend --id OFFSET_MSG_ID [--topic T]
  cluster list
`;

function describeMessage(m: MessageExt): string {
  const body = m.body.toString('utf8');
  return [
    `topic=${m.topic}`,
    `queue=${m.brokerName}:${m.queueId}`,
    `offset=${m.queueOffset}`,
    `tags=${m.tags ?? ''}`,
    `keys=${m.keys ?? ''}`,
    `msgId=${m.msgId}`,
    `reconsumeTimes=${m.reconsumeTimes}`,
    `body=${JSON.stringify(body.length > 512 ? `${body.slice(0, 512)}…` : body)}`,
  ].join(' ');
}

async function produce(args: string[], io: CliIo): Promise<number> {
  const v = parse(args, {
    topic: { type: 'string' },
    tag: { type: 'string' },
    key: { type: 'string' },
    count: { type: 'string' },
    body: { type: 'string' },
    group: { type: 'string' },
  });
  const topic = required(v.topic, 'topic');
  const count = intOption(v.count, 'count', 1, 1);
  const producer = new Producer({
    ...clientOptions(v),
    producerGroup: (v.group as string) ?? 'BOLIDE_CLI_PRODUCER',
  });
  await producer.start();
  let failures = 0;
  try {
    for (let i = 0; i < count; i++) {
      const body = Buffer.from((v.body as string | undefined) ?? `Hello Bolide ${i}`);
      try {
        const r = await producer.send({
          topic,
          body,
          tags: v.tag as string | undefined,
          keys: v.key as string | undefined,
        });
        io.out(
          `${r.sendStatus} msgId=${r.msgId} offsetMsgId=${r.offsetMsgId} queue=${r.messageQueue.brokerName}:${r.messageQueue.queueId} queueOffset=${r.queueOffset}`,
        );
      } catch (err) {
        failures++;
        io.err(`send ${i} failed: ${(err as Error).message}`);
        if (failures >= 3 && failures === i + 1) break;
      }
    }
  } finally {
    await producer.shutdown();
  }
  return failures === 0 ? 0 : 1;
}

async function consume(args: string[], io: CliIo): Promise<number> {
  const v = parse(args, {
    topic: { type: 'string' },
    group: { type: 'string' },
    expression: { type: 'string' },
    count: { type: 'string' },
    from: { type: 'string' },
    timestamp: { type: 'string' },
  });
  const topic = required(v.topic, 'topic');
  const group = required(v.group, 'group');
  const limit = v.count === undefined ? Number.POSITIVE_INFINITY : intOption(v.count, 'count', 1, 1);
  const fromOptions: Record<string, ConsumeFromWhere> = {
    last: 'CONSUME_FROM_LAST_OFFSET',
    first: 'CONSUME_FROM_FIRST_OFFSET',
    timestamp: 'CONSUME_FROM_TIMESTAMP',
  };
  const from = fromOptions[(v.from as string | undefined) ?? 'last'];
  if (!from) throw new UsageError('--from must be last, first or timestamp');
  const consumer = new PushConsumer({
    ...clientOptions(v),
    consumerGroup: group,
    consumeFromWhere: from,
    consumeTimestamp: v.timestamp as string | undefined,
    consumeConcurrency: 1,
  });
  consumer.subscribe(topic, (v.expression as string | undefined) ?? '*');
  let received = 0;
  const done = new AbortController();
  consumer.registerMessageListener((msgs) => {
    // Messages already handed over are printed even past --count; shutdown stops further deliveries.
    for (const m of msgs) {
      received++;
      io.out(describeMessage(m));
      if (received >= limit) done.abort();
    }
    return 'CONSUME_SUCCESS';
  });
  const external = io.signal;
  const onSignal = () => done.abort();
  if (external) external.addEventListener('abort', onSignal, { once: true });
  else {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    await consumer.start();
    io.err(`consuming ${topic} as ${group} (${consumer.clientId}); Ctrl-C to stop`);
    if (!done.signal.aborted)
      await new Promise((resolve) => done.signal.addEventListener('abort', resolve, { once: true }));
  } finally {
    if (!external) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    await consumer.shutdown();
  }
  io.err(`received ${received} message(s)`);
  return 0;
}

/** Runs `one` on the given broker, or `all` (every master of a cluster) when none is given. */
async function onBrokers(
  brokerAddr: string | boolean | undefined,
  one: (addr: string) => Promise<void>,
  all: () => Promise<string[]>,
): Promise<string[]> {
  if (typeof brokerAddr !== 'string') return all();
  await one(brokerAddr);
  return [brokerAddr];
}

async function topic(sub: string | undefined, args: string[], io: CliIo): Promise<number> {
  switch (sub) {
    case 'create':
    case 'update': {
      const v = parse(args, {
        topic: { type: 'string' },
        cluster: { type: 'string' },
        'broker-addr': { type: 'string' },
        queues: { type: 'string' },
        'read-queues': { type: 'string' },
        'write-queues': { type: 'string' },
        perm: { type: 'string' },
        order: { type: 'boolean' },
      });
      const topicName = required(v.topic, 'topic');
      const queues = intOption(v.queues, 'queues', 8, 1, 1024);
      const config = {
        topicName,
        readQueueNums: intOption(v['read-queues'], 'read-queues', queues, 1, 1024),
        writeQueueNums: intOption(v['write-queues'], 'write-queues', queues, 1, 1024),
        perm: intOption(v.perm, 'perm', 6, 0, 7),
        order: v.order === true,
      };
      return withAdmin(v, async (admin) => {
        const targets = await onBrokers(
          v['broker-addr'],
          (addr) => admin.createOrUpdateTopic(addr, config),
          () => admin.createOrUpdateTopicInCluster(v.cluster as string | undefined, config),
        );
        io.out(
          `${sub === 'create' ? 'created' : 'updated'} topic ${topicName} (read ${config.readQueueNums}, write ${config.writeQueueNums}, perm ${config.perm}) on ${targets.join(', ')}`,
        );
        return 0;
      });
    }
    case 'delete': {
      const v = parse(args, { topic: { type: 'string' }, cluster: { type: 'string' } });
      const topicName = required(v.topic, 'topic');
      return withAdmin(v, async (admin) => {
        await admin.deleteTopic(topicName, v.cluster as string | undefined);
        io.out(`deleted topic ${topicName}`);
        return 0;
      });
    }
    case 'list': {
      const v = parse(args, {});
      return withAdmin(v, async (admin) => {
        for (const t of await admin.listTopics()) io.out(t);
        return 0;
      });
    }
    case 'route': {
      const v = parse(args, { topic: { type: 'string' } });
      const topicName = required(v.topic, 'topic');
      return withAdmin(v, async (admin) => {
        const route = await admin.getTopicRoute(topicName);
        if (!route) {
          io.err(`no route for topic ${topicName}`);
          return 1;
        }
        io.out(JSON.stringify(route, null, 2));
        return 0;
      });
    }
    case 'stats': {
      const v = parse(args, { topic: { type: 'string' } });
      const topicName = required(v.topic, 'topic');
      return withAdmin(v, async (admin) => {
        const stats = await admin.getTopicStats(topicName);
        const rows = stats.map((s) => [
          s.messageQueue.brokerName,
          s.messageQueue.queueId,
          s.minOffset,
          s.maxOffset,
          s.lastUpdateTimestamp > 0 ? new Date(s.lastUpdateTimestamp).toISOString() : '-',
        ]);
        for (const line of formatTable(['BROKER', 'QUEUE', 'MIN', 'MAX', 'LAST UPDATE'], rows)) io.out(line);
        return 0;
      });
    }
    default:
      throw new UsageError(
        `unknown topic subcommand "${sub ?? ''}" (create, update, delete, list, route, stats)`,
      );
  }
}

async function group(sub: string | undefined, args: string[], io: CliIo): Promise<number> {
  switch (sub) {
    case 'create':
    case 'update': {
      const v = parse(args, {
        group: { type: 'string' },
        cluster: { type: 'string' },
        'broker-addr': { type: 'string' },
        'retry-max-times': { type: 'string' },
        'retry-queues': { type: 'string' },
        'no-broadcast': { type: 'boolean' },
        disable: { type: 'boolean' },
      });
      const config = {
        groupName: required(v.group, 'group'),
        retryMaxTimes: intOption(v['retry-max-times'], 'retry-max-times', 16, 0),
        retryQueueNums: intOption(v['retry-queues'], 'retry-queues', 1, 0, 1024),
        consumeBroadcastEnable: v['no-broadcast'] !== true,
        consumeEnable: v.disable !== true,
      };
      return withAdmin(v, async (admin) => {
        const targets = await onBrokers(
          v['broker-addr'],
          (addr) => admin.createOrUpdateSubscriptionGroup(addr, config),
          () => admin.createOrUpdateSubscriptionGroupInCluster(v.cluster as string | undefined, config),
        );
        io.out(
          `${sub === 'create' ? 'created' : 'updated'} group ${config.groupName} on ${targets.join(', ')}`,
        );
        return 0;
      });
    }
    case 'delete': {
      const v = parse(args, {
        group: { type: 'string' },
        cluster: { type: 'string' },
        'broker-addr': { type: 'string' },
        'remove-offset': { type: 'boolean' },
      });
      const groupName = required(v.group, 'group');
      return withAdmin(v, async (admin) => {
        const removeOffset = v['remove-offset'] === true;
        const targets = await onBrokers(
          v['broker-addr'],
          (addr) => admin.deleteSubscriptionGroup(addr, groupName, removeOffset),
          () =>
            admin.deleteSubscriptionGroupInCluster(v.cluster as string | undefined, groupName, removeOffset),
        );
        io.out(`deleted group ${groupName} on ${targets.join(', ')}`);
        return 0;
      });
    }
    case 'stats': {
      const v = parse(args, { group: { type: 'string' }, topic: { type: 'string' } });
      const groupName = required(v.group, 'group');
      return withAdmin(v, async (admin) => {
        const stats = await groupStats(admin, groupName, v.topic as string | undefined);
        const dlq = `${DLQ_GROUP_TOPIC_PREFIX}${groupName}`;
        const rows = stats.queues.map((q) => [
          q.messageQueue.topic,
          q.messageQueue.brokerName,
          q.messageQueue.queueId,
          q.brokerOffset,
          q.consumerOffset,
          q.messageQueue.topic === dlq ? '-' : q.lag,
        ]);
        for (const line of formatTable(
          ['TOPIC', 'BROKER', 'QUEUE', 'BROKER OFFSET', 'CONSUMER OFFSET', 'LAG'],
          rows,
        )) {
          io.out(line);
        }
        const ofTopic = (pred: (t: string) => boolean) =>
          stats.queues.filter((q) => pred(q.messageQueue.topic)).reduce((sum, q) => sum + q.lag, 0);
        const retry = ofTopic((t) => t === retryTopic(groupName));
        // Nobody consumes a DLQ, so its depth is the number of dead letters, not lag.
        const dead = ofTopic((t) => t === dlq);
        const lag = ofTopic((t) => t !== dlq);
        io.out(
          `consume TPS: ${stats.consumeTps.toFixed(2)}  retry lag: ${retry}  dead letters: ${dead}  total lag: ${lag}`,
        );
        return 0;
      });
    }
    case 'reset-offset': {
      const v = parse(args, {
        group: { type: 'string' },
        topic: { type: 'string' },
        timestamp: { type: 'string' },
        'no-force': { type: 'boolean' },
      });
      const groupName = required(v.group, 'group');
      const topicName = required(v.topic, 'topic');
      let timestamp: number;
      try {
        timestamp = parseUserTimestamp(required(v.timestamp, 'timestamp'));
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError(`--timestamp: ${(err as Error).message}`);
      }
      return withAdmin(v, async (admin) => {
        const result = await admin.resetOffsetByTimestamp(
          groupName,
          topicName,
          timestamp,
          v['no-force'] !== true,
        );
        for (const line of formatTable(
          ['TOPIC', 'BROKER', 'QUEUE', 'OFFSET'],
          result.map((r) => [r.mq.topic, r.mq.brokerName, r.mq.queueId, r.offset]),
        )) {
          io.out(line);
        }
        const live = result.some((r) => r.viaBroker);
        io.out(
          `reset ${result.length} queue(s) of ${topicName} for ${groupName}${live ? ' (live consumers notified)' : ' (no consumer online; offsets written directly)'}`,
        );
        return 0;
      });
    }
    default:
      throw new UsageError(
        `unknown group subcommand "${sub ?? ''}" (create, update, delete, stats, reset-offset)`,
      );
  }
}

async function cluster(sub: string | undefined, args: string[], io: CliIo): Promise<number> {
  if (sub !== 'list') throw new UsageError(`unknown cluster subcommand "${sub ?? ''}" (list)`);
  const v = parse(args, {});
  return withAdmin(v, async (admin) => {
    const info = await admin.getClusterInfo();
    const rows: (string | number)[][] = [];
    for (const [clusterName, names] of Object.entries(info.clusterAddrTable)) {
      for (const name of names) {
        const addrs = info.brokerAddrTable[name]?.brokerAddrs ?? {};
        for (const [id, addr] of Object.entries(addrs)) rows.push([clusterName, name, id, addr]);
      }
    }
    for (const line of formatTable(['CLUSTER', 'BROKER', 'ID', 'ADDRESS'], rows)) io.out(line);
    return 0;
  });
}

/**
 * Consume stats of a group. Without a topic the broker reports every topic the group consumed
 * plus its retry and DLQ topics; with one, the retry and DLQ topics are asked for separately.
 */
async function groupStats(
  admin: AdminClient,
  group: string,
  topic: string | undefined,
): Promise<ConsumeStats> {
  const stats = await admin.getConsumeStats(group, topic);
  if (topic === undefined) return stats;
  for (const extra of [retryTopic(group), `${DLQ_GROUP_TOPIC_PREFIX}${group}`]) {
    if (extra === topic || !(await admin.getTopicRoute(extra))) continue;
    try {
      const more = await admin.getConsumeStats(group, extra);
      stats.queues.push(...more.queues);
    } catch (err) {
      if (!(err instanceof MQBrokerError || err instanceof MQClientError)) throw err;
    }
  }
  stats.totalLag = stats.queues.reduce((sum, q) => sum + q.lag, 0);
  return stats;
}

/** Runs a client command; `argv` starts at the command name. Resolves with the exit code. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(CLI_USAGE);
    return 0;
  }
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(CLI_USAGE);
        return command === undefined ? 2 : 0;
      case 'produce':
        return await produce(rest, io);
      case 'consume':
        return await consume(rest, io);
      case 'topic':
        return await topic(rest[0], rest.slice(1), io);
      case 'group':
        return await group(rest[0], rest.slice(1), io);
      case 'cluster':
        return await cluster(rest[0], rest.slice(1), io);
      case 'message':
        return await messageCommand(rest[0], rest.slice(1), io);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`bolide: ${err.message}`);
      io.err('Run "bolide help" for usage.');
      return 2;
    }
    io.err(`bolide ${command}: ${(err as Error).message}`);
    return 1;
  }
}
