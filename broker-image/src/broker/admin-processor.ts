// Admin and monitoring codes used by mqadmin, the dashboard and the operator (protocol.md §3.8):
// topic and subscription-group CRUD, broker config and runtime info, topic and consume stats,
// connection lists, offset reset, and the consumer running-info relay.

import { statfs } from 'node:fs/promises';
import {
  BrokerRequestCode,
  createRequest,
  createResponse,
  decodeHeader,
  encodeBodyJson,
  MQVersion,
  markOneway,
  parseBodyJson,
  type RemotingCommand,
  ResponseCode,
} from '../protocol/index.js';
import { RemotingTimeoutError } from '../remoting/index.js';
import { readStoreTimestamp } from '../store/index.js';
import { dlqTopicOf, Perm, retryTopicOf } from './constants.js';
import {
  consumeStatsBody,
  consumeStatsTopics,
  type QueueConsumeProgress,
  topicStatsBody,
  totalDiff,
} from './consume-stats.js';
import type { BrokerRuntime } from './runtime.js';
import { subscriptionGroupFromJson } from './subscription-group-manager.js';
import type { TopicConfig } from './topic-config-manager.js';
import { groupNameProblem, isSystemTopic, systemTopicList, topicNameProblem } from './topic-validation.js';

const ok = (req: RemotingCommand, body?: unknown) =>
  createResponse(req, ResponseCode.SUCCESS, body === undefined ? {} : { body: encodeBodyJson(body) });
const error = (req: RemotingCommand, code: number, remark: string) => createResponse(req, code, { remark });

/** Store time of the record at `offset`, 0 when there is none. */
async function storeTimeAt(
  rt: BrokerRuntime,
  topic: string,
  queueId: number,
  offset: bigint,
): Promise<number> {
  if (offset < 0n) return 0;
  const t = await rt.store.getMessageStoreTimestamp(topic, queueId, offset);
  return Math.max(t, 0);
}

export function updateAndCreateTopic(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, {
      topic: 'string',
      defaultTopic: 'string?',
      readQueueNums: 'int',
      writeQueueNums: 'int',
      perm: 'int',
      topicFilterType: 'string?',
      topicSysFlag: 'int?',
      order: 'boolean?',
    });
    const problem = topicNameProblem(h.topic);
    if (problem) return error(req, ResponseCode.SYSTEM_ERROR, problem);
    if (isSystemTopic(h.topic, rt.config.brokerClusterName, rt.config.brokerName)) {
      return error(req, ResponseCode.SYSTEM_ERROR, `The topic[${h.topic}] is conflict with system topic.`);
    }
    for (const [name, value] of [
      ['readQueueNums', h.readQueueNums],
      ['writeQueueNums', h.writeQueueNums],
    ] as const) {
      if (value < 0 || value > 65535) {
        return error(req, ResponseCode.SYSTEM_ERROR, `${name} must be between 0 and 65535, got ${value}`);
      }
    }
    if (h.perm < 0 || h.perm > 15)
      return error(req, ResponseCode.SYSTEM_ERROR, `perm must be between 0 and 15, got ${h.perm}`);
    const filter = h.topicFilterType ?? 'SINGLE_TAG';
    if (filter !== 'SINGLE_TAG' && filter !== 'MULTI_TAG') {
      return error(
        req,
        ResponseCode.SYSTEM_ERROR,
        `topicFilterType must be SINGLE_TAG or MULTI_TAG, got ${filter}`,
      );
    }
    const config: TopicConfig = {
      topicName: h.topic,
      readQueueNums: h.readQueueNums,
      writeQueueNums: h.writeQueueNums,
      perm: h.perm,
      topicFilterType: filter,
      topicSysFlag: h.topicSysFlag ?? 0,
      order: h.order ?? false,
    };
    await rt.topics.update(config, rt.now());
    rt.logger.info('topic created or updated', {
      topic: h.topic,
      read: h.readQueueNums,
      write: h.writeQueueNums,
      perm: h.perm,
    });
    return ok(req);
  };
}

export function deleteTopicInBroker(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const { topic } = decodeHeader(req.extFields, { topic: 'string' });
    const problem = topicNameProblem(topic);
    if (problem) return error(req, ResponseCode.SYSTEM_ERROR, problem);
    if (isSystemTopic(topic, rt.config.brokerClusterName, rt.config.brokerName)) {
      return error(req, ResponseCode.SYSTEM_ERROR, `The topic[${topic}] is conflict with system topic.`);
    }
    await rt.topics.delete(topic, rt.now());
    await rt.store.deleteTopics([topic]);
    rt.logger.info('topic deleted', { topic });
    return ok(req);
  };
}

export function getAllTopicConfig(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const wrapper = rt.topics.wrapper();
    if (Object.keys(wrapper.topicConfigTable).length === 0) {
      return error(req, ResponseCode.SYSTEM_ERROR, 'No topic in this broker');
    }
    return ok(req, wrapper);
  };
}

export function updateAndCreateSubscriptionGroup(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    if (!req.body || req.body.length === 0)
      return error(req, ResponseCode.SYSTEM_ERROR, 'no subscription group config in the body');
    let config: ReturnType<typeof subscriptionGroupFromJson>;
    try {
      config = subscriptionGroupFromJson(
        parseBodyJson(req.body, { largeIntegers: 'number' }) as Record<string, unknown>,
      );
    } catch (err) {
      return error(
        req,
        ResponseCode.SYSTEM_ERROR,
        `bad subscription group config: ${(err as Error).message}`,
      );
    }
    const problem = groupNameProblem(config.groupName);
    if (problem) return error(req, ResponseCode.SYSTEM_ERROR, problem);
    if (config.retryQueueNums < 0 || config.retryMaxTimes < 0) {
      return error(req, ResponseCode.SYSTEM_ERROR, 'retryQueueNums and retryMaxTimes must not be negative');
    }
    await rt.groups.update(config, rt.now());
    rt.logger.info('subscription group created or updated', { group: config.groupName });
    return ok(req);
  };
}

export function getAllSubscriptionGroupConfig(rt: BrokerRuntime) {
  return async (req: RemotingCommand) => ok(req, rt.groups.wrapper());
}

export function deleteSubscriptionGroup(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, { groupName: 'string', removeOffset: 'boolean?' });
    await rt.groups.delete(h.groupName, rt.now());
    if (h.removeOffset) rt.offsets.removeGroup(h.groupName);
    rt.logger.info('subscription group deleted', {
      group: h.groupName,
      removeOffset: h.removeOffset === true,
    });
    return ok(req);
  };
}

export function getTopicStatsInfo(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const { topic } = decodeHeader(req.extFields, { topic: 'string' });
    const config = rt.topics.get(topic);
    if (!config) return error(req, ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist`);
    const queues = [];
    for (let q = 0; q < config.writeQueueNums; q++) {
      const min = rt.store.getMinOffsetInQueue(topic, q);
      const max = rt.store.getMaxOffsetInQueue(topic, q);
      const last = max > 0n ? await storeTimeAt(rt, topic, q, max - 1n) : 0;
      queues.push({
        minOffset: min < 0n ? 0n : min,
        maxOffset: max < 0n ? 0n : max,
        lastUpdateTimestamp: last,
      });
    }
    return ok(req, topicStatsBody(rt.config.brokerName, topic, queues));
  };
}

/** Consume progress of one group on one topic's queues (the rows of a ConsumeStats). */
export async function groupProgress(
  rt: BrokerRuntime,
  group: string,
  topic: string,
): Promise<QueueConsumeProgress[]> {
  const config = rt.topics.get(topic);
  if (!config) return [];
  const rows: QueueConsumeProgress[] = [];
  for (let q = 0; q < config.readQueueNums; q++) {
    let brokerOffset = rt.store.getMaxOffsetInQueue(topic, q);
    if (brokerOffset < 0n) brokerOffset = 0n;
    let consumerOffset = rt.offsets.query(group, topic, q) ?? 0n;
    if (consumerOffset < 0n) consumerOffset = 0n;
    const lastTimestamp = consumerOffset > 0n ? await storeTimeAt(rt, topic, q, consumerOffset - 1n) : 0;
    rows.push({ topic, queueId: q, brokerOffset, consumerOffset, lastTimestamp });
  }
  return rows;
}

async function consumeStatsOf(rt: BrokerRuntime, group: string, topic: string | undefined) {
  const live = rt.consumers.get(group);
  const topics = consumeStatsTopics(
    topic,
    rt.offsets.topicsOfGroup(group),
    live ? new Set(live.subscriptionTable.keys()) : undefined,
    [retryTopicOf(group), dlqTopicOf(group)].filter((t) => rt.topics.has(t)),
  );
  const rows: QueueConsumeProgress[] = [];
  let tps = 0;
  const now = rt.now();
  for (const t of topics) {
    rows.push(...(await groupProgress(rt, group, t)));
    tps += rt.stats.groupGetTps(t, group, now);
  }
  return { rows, tps };
}

export function getConsumeStats(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, { consumerGroup: 'string', topic: 'string?' });
    const { rows, tps } = await consumeStatsOf(rt, h.consumerGroup, h.topic);
    return ok(req, consumeStatsBody(rt.config.brokerName, rows, tps));
  };
}

export function getBrokerConsumeStats(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, { isOrder: 'boolean' });
    const list: Record<string, unknown[]>[] = [];
    let diff = 0n;
    const groups = new Set(rt.offsets.entries().map(([, g]) => g));
    for (const group of groups) {
      const statsList: unknown[] = [];
      for (const topic of rt.offsets.topicsOfGroup(group)) {
        const config = rt.topics.get(topic);
        if (!config || (h.isOrder && !config.order)) continue;
        const rows = await groupProgress(rt, group, topic);
        diff += totalDiff(rows);
        statsList.push(
          consumeStatsBody(rt.config.brokerName, rows, rt.stats.groupGetTps(topic, group, rt.now())),
        );
      }
      if (statsList.length > 0) list.push({ [group]: statsList });
    }
    return ok(req, { brokerAddr: rt.brokerAddr, totalDiff: diff, consumeStatsList: list });
  };
}

export function getConsumerConnectionList(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const { consumerGroup } = decodeHeader(req.extFields, { consumerGroup: 'string' });
    const info = rt.consumers.get(consumerGroup);
    if (!info || info.channels.size === 0) {
      return error(req, ResponseCode.CONSUMER_NOT_ONLINE, `the consumer group[${consumerGroup}] not online`);
    }
    return ok(req, {
      connectionSet: [...info.channels.values()].map((c) => ({
        clientAddr: c.clientAddr,
        clientId: c.clientId,
        language: c.language,
        version: c.version,
      })),
      consumeFromWhere: info.consumeFromWhere,
      consumeType: info.consumeType,
      messageModel: info.messageModel,
      subscriptionTable: Object.fromEntries(info.subscriptionTable),
    });
  };
}

export function getProducerConnectionList(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const { producerGroup } = decodeHeader(req.extFields, { producerGroup: 'string' });
    const members = rt.producers.members(producerGroup);
    if (members.length === 0) {
      return error(req, ResponseCode.SYSTEM_ERROR, `the producer group[${producerGroup}] not exist`);
    }
    return ok(req, {
      connectionSet: members.map((c) => ({
        clientAddr: c.clientAddr,
        clientId: c.clientId,
        language: c.language,
        version: c.version,
      })),
    });
  };
}

export function queryTopicConsumeByWho(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const { topic } = decodeHeader(req.extFields, { topic: 'string' });
    const groups = new Set([...rt.consumers.groupsSubscribing(topic), ...rt.offsets.groupsOfTopic(topic)]);
    return ok(req, { groupList: [...groups] });
  };
}

export function getSystemTopicListFromBroker(rt: BrokerRuntime) {
  return async (req: RemotingCommand) =>
    ok(req, { topicList: systemTopicList(rt.config.brokerClusterName, rt.config.brokerName) });
}

export function viewBrokerStatsData(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, { statsName: 'string', statsKey: 'string' });
    const view = rt.stats.view(h.statsName, h.statsKey, rt.now());
    if (!view)
      return error(req, ResponseCode.SYSTEM_ERROR, `The stats <${h.statsName}> <${h.statsKey}> not exist`);
    return ok(req, view);
  };
}

export function cloneGroupOffset(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, {
      srcGroup: 'string',
      destGroup: 'string',
      topic: 'string?',
      offline: 'boolean?',
    });
    rt.offsets.clone(h.srcGroup, h.destGroup, h.topic || undefined);
    return ok(req);
  };
}

export function resetOffset(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, {
      topic: 'string',
      group: 'string',
      timestamp: 'long',
      isForce: 'boolean',
    });
    const config = rt.topics.get(h.topic);
    if (!config) return error(req, ResponseCode.SYSTEM_ERROR, `[reset-offset] topic[${h.topic}] not exist`);
    const offsetTable = new Map<{ brokerName: string; queueId: number; topic: string }, bigint>();
    for (let q = 0; q < config.writeQueueNums; q++) {
      const current = rt.offsets.query(h.group, h.topic, q);
      if (current === undefined) {
        return error(req, ResponseCode.SYSTEM_ERROR, `THe consumer group <${h.group}> not exist`);
      }
      let target =
        h.timestamp === -1n
          ? rt.store.getMaxOffsetInQueue(h.topic, q)
          : await rt.store.getOffsetInQueueByTime(h.topic, q, Number(h.timestamp));
      if (!h.isForce && target >= current) target = current;
      offsetTable.set({ brokerName: rt.config.brokerName, queueId: q, topic: h.topic }, target);
    }
    const body = encodeBodyJson({ offsetTable });
    const info = rt.consumers.get(h.group);
    if (!info || info.channels.size === 0) {
      return error(
        req,
        ResponseCode.CONSUMER_NOT_ONLINE,
        `Consumer not online, so can not reset offset, Group: ${h.group} Topic: ${h.topic} Timestamp: ${h.timestamp}`,
      );
    }
    for (const ch of info.channels.values()) {
      const notify = markOneway(
        createRequest(BrokerRequestCode.RESET_CONSUMER_CLIENT_OFFSET, {
          extFields: { topic: h.topic, group: h.group, timestamp: h.timestamp.toString() },
          body,
        }),
      );
      rt.sendOneway(ch.channelId, notify);
    }
    return createResponse(req, ResponseCode.SUCCESS, { body });
  };
}

export function getConsumerRunningInfo(rt: BrokerRuntime) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(req.extFields, { consumerGroup: 'string', clientId: 'string' });
    const info = rt.consumers.get(h.consumerGroup);
    const channel = info ? [...info.channels.values()].find((c) => c.clientId === h.clientId) : undefined;
    if (!channel) {
      return error(
        req,
        ResponseCode.SYSTEM_ERROR,
        `The Consumer <${h.consumerGroup}> <${h.clientId}> not online`,
      );
    }
    const forward = createRequest(BrokerRequestCode.GET_CONSUMER_RUNNING_INFO, {
      extFields: { ...req.extFields },
      body: req.body,
    });
    try {
      const answer = await rt.invokeClient(channel.channelId, forward, 10_000);
      return createResponse(req, answer.code, { remark: answer.remark, body: answer.body });
    } catch (err) {
      if (err instanceof RemotingTimeoutError) {
        return error(
          req,
          ResponseCode.CONSUME_MSG_TIMEOUT,
          `consumer <${h.clientId}> did not answer within 10 s`,
        );
      }
      return error(
        req,
        ResponseCode.SYSTEM_ERROR,
        `invoke consumer <${h.clientId}> failed: ${(err as Error).message}`,
      );
    }
  };
}

function runtimeText(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `[ ${Math.floor(s / 86400)} days, ${Math.floor((s % 86400) / 3600)} hours, ${Math.floor((s % 3600) / 60)} minutes, ${s % 60} seconds ]`;
}

export function getBrokerRuntimeInfo(
  rt: BrokerRuntime,
  bootTimestamp: number,
  extra: () => Record<string, string> = () => ({}),
) {
  return async (req: RemotingCommand): Promise<RemotingCommand> => {
    const now = rt.now();
    const s = rt.stats;
    s.putDaily.observe(s.put.total, now);
    s.getDaily.observe(s.get.total, now);
    const minPhy = rt.store.getMinPhyOffset();
    const maxPhy = rt.store.getMaxPhyOffset();
    let earliest = 0;
    if (maxPhy > minPhy) {
      const record = await rt.store.lookMessageByOffset(minPhy);
      if (record) earliest = readStoreTimestamp(record);
    }
    let diskRatio = 0;
    let capacity = 'unknown';
    try {
      const fsStats = await statfs(rt.config.storePathRootDir);
      const total = fsStats.blocks * fsStats.bsize;
      const free = fsStats.bavail * fsStats.bsize;
      diskRatio = total > 0 ? (total - free) / total : 0;
      capacity = `Total : ${(total / 2 ** 30).toFixed(1)} GiB, Free : ${(free / 2 ** 30).toFixed(1)} GiB.`;
    } catch {
      // The store directory may be gone during shutdown; report what is known.
    }
    const table: Record<string, string> = {
      brokerVersionDesc: 'V4_9_8',
      brokerVersion: String(MQVersion.V4_9_8),
      bootTimestamp: String(bootTimestamp),
      runtime: runtimeText(now - bootTimestamp),
      msgPutTotalYesterdayMorning: String(s.putDaily.yesterdayMorning),
      msgPutTotalTodayMorning: String(s.putDaily.todayMorning),
      msgPutTotalTodayNow: String(s.put.total),
      msgGetTotalYesterdayMorning: String(s.getDaily.yesterdayMorning),
      msgGetTotalTodayMorning: String(s.getDaily.todayMorning),
      msgGetTotalTodayNow: String(s.get.total),
      putTps: s.put.tpsString(now),
      getTransferedTps: s.get.tpsString(now),
      getTotalTps: s.pullRequests.tpsString(now),
      getFoundTps: s.pullFound.tpsString(now),
      getMissTps: s.pullMiss.tpsString(now),
      putMessageTimesTotal: String(s.putTimesTotal),
      putMessageSizeTotal: String(s.putSizeTotal),
      putMessageAverageSize: String(s.putTimesTotal > 0 ? s.putSizeTotal / s.putTimesTotal : 0),
      putMessageEntireTimeMax: String(s.putLatencyMaxMs),
      getMessageEntireTimeMax: '0',
      putLatency99: '0',
      putLatency999: '0',
      sendThreadPoolQueueSize: '0',
      sendThreadPoolQueueCapacity: '10000',
      pullThreadPoolQueueSize: '0',
      pullThreadPoolQueueCapacity: '100000',
      queryThreadPoolQueueSize: '0',
      queryThreadPoolQueueCapacity: '20000',
      sendThreadPoolQueueHeadWaitTimeMills: '0',
      pullThreadPoolQueueHeadWaitTimeMills: '0',
      pageCacheLockTimeMills: '0',
      EndTransactionQueueSize: '0',
      EndTransactionThreadPoolQueueCapacity: '100000',
      earliestMessageTimeStamp: String(earliest),
      startAcceptSendRequestTimeStamp: '0',
      commitLogDiskRatio: String(diskRatio),
      consumeQueueDiskRatio: String(diskRatio),
      commitLogMinOffset: minPhy.toString(),
      commitLogMaxOffset: maxPhy.toString(),
      commitLogDirCapacity: capacity,
      dispatchBehindBytes: '0',
      dispatchMaxBuffer: '0',
      remainHowManyDataToFlush: '0',
      remainTransientStoreBufferNumbs: '0',
      ...extra(),
    };
    return ok(req, { table });
  };
}

/** The perm value advertised for the broker's topics (for GET_BROKER_CONFIG readers). */
export const DEFAULT_PERM = Perm.READ | Perm.WRITE;
