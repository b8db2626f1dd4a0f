// `bolide message query|view|dlq|resend`: look messages up by key or id, list a group's dead
// letters, and send dead letters (or any message) again to their original topic.

import {
  type AdminClient,
  DLQ_GROUP_TOPIC_PREFIX,
  type MessageExt,
  MQClientError,
  originalTopic,
  Producer,
  parseUserTimestamp,
  resendableCopy,
} from '../client/index.js';
import { clientOptions, intOption, parse, required, withAdmin } from './args.js';
import { type CliIo, formatTable, UsageError } from './io.js';

function time(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString() : '-';
}

function bodyText(m: MessageExt, limit: number): string {
  const text = m.body.toString('utf8');
  return JSON.stringify(text.length > limit ? `${text.slice(0, limit)}…` : text);
}

/** Every field of one message, one per line (what `message view` prints). */
export function formatMessageDetails(m: MessageExt): string[] {
  const lines = [
    `Topic:             ${m.topic}`,
    `Queue:             ${m.brokerName || '-'}:${m.queueId}`,
    `Queue offset:      ${m.queueOffset}`,
    `Tags:              ${m.tags ?? ''}`,
    `Keys:              ${m.keys ?? ''}`,
    `Msg id:            ${m.msgId}`,
    `Offset msg id:     ${m.offsetMsgId}`,
    `Born:              ${time(m.bornTimestamp)} from ${m.bornHost}`,
    `Stored:            ${time(m.storeTimestamp)} on ${m.storeHost}`,
    `Reconsume times:   ${m.reconsumeTimes}`,
    `Commit log offset: ${m.commitLogOffset}`,
    `Body size:         ${m.body.length}`,
    'Properties:',
  ];
  for (const [k, v] of Object.entries(m.properties).sort(([a], [b]) => (a < b ? -1 : 1))) {
    lines.push(`  ${k}=${v}`);
  }
  lines.push(`Body:              ${bodyText(m, 4096)}`);
  return lines;
}

function messageRows(msgs: readonly MessageExt[]): string[] {
  return formatTable(
    ['MSG ID', 'OFFSET MSG ID', 'QUEUE', 'OFFSET', 'STORED', 'TAGS', 'KEYS', 'BODY'],
    msgs.map((m) => [
      m.msgId,
      m.offsetMsgId,
      `${m.brokerName}:${m.queueId}`,
      m.queueOffset,
      time(m.storeTimestamp),
      m.tags ?? '',
      m.keys ?? '',
      bodyText(m, 60),
    ]),
  );
}

function timestampOption(value: string | boolean | undefined, name: string): number | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const ts = parseUserTimestamp(value);
    if (ts < 0) throw new Error('must not be negative');
    return ts;
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

/** Dead letters of a group: every DLQ queue read from its first to its last message. */
async function readDeadLetters(admin: AdminClient, group: string, max: number): Promise<MessageExt[]> {
  const dlq = `${DLQ_GROUP_TOPIC_PREFIX}${group}`;
  if (!(await admin.getTopicRoute(dlq))) return [];
  const out: MessageExt[] = [];
  for (const q of await admin.getTopicStats(dlq)) {
    let offset = q.minOffset;
    while (offset < q.maxOffset && out.length < max) {
      const batch = await admin.pullFromQueue(q.messageQueue, offset, Math.min(32, max - out.length));
      if (batch.messages.length === 0) break;
      out.push(...batch.messages);
      offset = batch.nextBeginOffset;
    }
  }
  return out;
}

async function resend(
  values: Record<string, string | boolean | undefined>,
  msgs: readonly MessageExt[],
  io: CliIo,
): Promise<number> {
  const producer = new Producer({ ...clientOptions(values), producerGroup: 'BOLIDE_CLI_RESEND' });
  await producer.start();
  let failures = 0;
  try {
    for (const m of msgs) {
      const copy = resendableCopy(m);
      try {
        const r = await producer.send(copy);
        io.out(
          `resent ${m.msgId} to ${copy.topic}: ${r.sendStatus} msgId=${r.msgId} offsetMsgId=${r.offsetMsgId}`,
        );
      } catch (err) {
        failures++;
        io.err(`resend of ${m.msgId} to ${originalTopic(m)} failed: ${(err as Error).message}`);
      }
    }
  } finally {
    await producer.shutdown();
  }
  return failures === 0 ? 0 : 1;
}

export async function messageCommand(sub: string | undefined, args: string[], io: CliIo): Promise<number> {
  switch (sub) {
    case 'query': {
      const v = parse(args, {
        topic: { type: 'string' },
        key: { type: 'string' },
        'uniq-key': { type: 'string' },
        begin: { type: 'string' },
        end: { type: 'string' },
        max: { type: 'string' },
      });
      const topic = required(v.topic, 'topic');
      if ((v.key === undefined) === (v['uniq-key'] === undefined)) {
        throw new UsageError('give exactly one of --key and --uniq-key');
      }
      const maxNum = intOption(v.max, 'max', 64, 1, 64);
      const begin = timestampOption(v.begin, 'begin');
      const end = timestampOption(v.end, 'end');
      return withAdmin(v, async (admin) => {
        const found =
          typeof v.key === 'string'
            ? await admin.queryMessagesByKey(topic, v.key, { maxNum, begin, end })
            : [await admin.queryMessageByUniqKey(topic, v['uniq-key'] as string)].filter(
                (m): m is MessageExt => m !== undefined,
              );
        if (found.length === 0) {
          io.err(`no message of ${topic} with that key`);
          return 1;
        }
        for (const line of messageRows(found)) io.out(line);
        return 0;
      });
    }
    case 'view': {
      const v = parse(args, { id: { type: 'string' }, topic: { type: 'string' } });
      const id = required(v.id, 'id');
      return withAdmin(v, async (admin) => {
        const msg = await admin.findMessage(id, v.topic as string | undefined);
        if (!msg) {
          io.err(`no message ${id}${v.topic ? ` in ${v.topic}` : ''}`);
          return 1;
        }
        for (const line of formatMessageDetails(msg)) io.out(line);
        return 0;
      });
    }
    case 'dlq': {
      const v = parse(args, {
        group: { type: 'string' },
        max: { type: 'string' },
        resend: { type: 'boolean' },
      });
      const group = required(v.group, 'group');
      const max = intOption(v.max, 'max', 1000, 1, 100_000);
      return withAdmin(v, async (admin) => {
        const dead = await readDeadLetters(admin, group, max);
        if (dead.length === 0) {
          io.out(`no dead letters for group ${group}`);
          return 0;
        }
        for (const line of formatTable(
          ['MSG ID', 'ORIGINAL TOPIC', 'STORED', 'RECONSUME', 'KEYS', 'BODY'],
          dead.map((m) => [
            m.msgId,
            originalTopic(m),
            time(m.storeTimestamp),
            m.reconsumeTimes,
            m.keys ?? '',
            bodyText(m, 60),
          ]),
        )) {
          io.out(line);
        }
        io.out(`${dead.length} dead letter(s) in ${DLQ_GROUP_TOPIC_PREFIX}${group}`);
        return v.resend === true ? resend(v, dead, io) : 0;
      });
    }
    case 'resend': {
      const v = parse(args, { id: { type: 'string' }, topic: { type: 'string' } });
      const id = required(v.id, 'id');
      return withAdmin(v, async (admin) => {
        const msg = await admin.findMessage(id, v.topic as string | undefined);
        if (!msg) throw new MQClientError(`no message ${id}`);
        return resend(v, [msg], io);
      });
    }
    default:
      throw new UsageError(`unknown message subcommand "${sub ?? ''}" (query, view, dlq, resend)`);
  }
}
