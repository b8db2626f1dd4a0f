// SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320), in the Java broker's
// order of checks (protocol.md §3.2.2). Store statuses map to response codes here and only here.

import {
  createResponse,
  type ExtFields,
  HeaderFieldError,
  parseBooleanField,
  parseIntField,
  parseLongField,
  type RemotingCommand,
  ResponseCode,
} from '../protocol/index.js';
import type { RequestContext } from '../remoting/index.js';
import type { HostAddress, MessageToStore, PutResult } from '../store/index.js';
import { decodeBatchBody, decodeProperties, parseHost } from '../store/index.js';
import {
  dlqTopicOf,
  isWriteable,
  MessageProperty,
  MessageSysFlag,
  Perm,
  RETRY_GROUP_TOPIC_PREFIX,
  TRANS_HALF_TOPIC,
  VERSION_HONOURING_MAX_RECONSUME,
} from './constants.js';
import { isDelayable, requestedDelay, toScheduled } from './delay-levels.js';
import type { BrokerRuntime } from './runtime.js';
import { isSendForbidden, topicNameProblem } from './topic-validation.js';
import { toHalfMessage } from './transaction-messages.js';

/** SendMessageRequestHeader (protocol.md §3.2.1), as the processor uses it. */
interface SendHeader {
  producerGroup: string;
  topic: string;
  defaultTopic: string;
  defaultTopicQueueNums: number;
  queueId: number;
  sysFlag: number;
  bornTimestamp: number;
  flag: number;
  properties: string | undefined;
  reconsumeTimes: number | undefined;
  unitMode: boolean | undefined;
  maxReconsumeTimes: number | undefined;
  batch: boolean | undefined;
}

// Field keys in SendMessageRequestHeader order: V1 names, and the single letters of V2 / batch.
const V1_KEYS = [
  'producerGroup',
  'topic',
  'defaultTopic',
  'defaultTopicQueueNums',
  'queueId',
  'sysFlag',
  'bornTimestamp',
  'flag',
  'properties',
  'reconsumeTimes',
  'unitMode',
  'maxReconsumeTimes',
  'batch',
] as const;
const V2_KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm'] as const;

type SendKeys = typeof V1_KEYS | typeof V2_KEYS;

function rawField(ext: ExtFields, keys: SendKeys, i: number): string | undefined {
  return Object.hasOwn(ext, keys[i]) ? ext[keys[i]] : undefined;
}

function requiredField(ext: ExtFields, keys: SendKeys, i: number): string {
  const value = rawField(ext, keys, i);
  if (value === undefined) throw new HeaderFieldError(V1_KEYS[i], `the custom field <${V1_KEYS[i]}> is null`);
  return value;
}

function optionalIntField(ext: ExtFields, keys: SendKeys, i: number): number | undefined {
  const value = rawField(ext, keys, i);
  return value === undefined ? undefined : parseIntField(V1_KEYS[i], value);
}

function optionalBooleanField(ext: ExtFields, keys: SendKeys, i: number): boolean | undefined {
  const value = rawField(ext, keys, i);
  return value === undefined ? undefined : parseBooleanField(value);
}

/**
 * Reads the send header from V1 names or V2 letters, parsing like the Java broker (errors name
 * the V1 field). Specialised rather than spec-driven because it runs once per message.
 */
export function decodeSendHeader(ext: ExtFields, v2: boolean): SendHeader {
  const k = v2 ? V2_KEYS : V1_KEYS;
  // In field order, so the first missing field is the one named, as with Java's checkFields.
  const producerGroup = requiredField(ext, k, 0);
  const topic = requiredField(ext, k, 1);
  const defaultTopic = requiredField(ext, k, 2);
  const defaultTopicQueueNums = parseIntField(V1_KEYS[3], requiredField(ext, k, 3));
  const queueId = parseIntField(V1_KEYS[4], requiredField(ext, k, 4));
  const sysFlag = parseIntField(V1_KEYS[5], requiredField(ext, k, 5));
  const born = requiredField(ext, k, 6);
  let bornTimestamp = Number(born);
  // Anything but a plain safe integer goes through Java's Long.parseLong rules (which may throw);
  // a long beyond 2^53 then reaches the store, which refuses it with a clear remark.
  if (!Number.isSafeInteger(bornTimestamp) || !/^[+-]?\d+$/.test(born))
    bornTimestamp = Number(parseLongField(V1_KEYS[6], born));
  return {
    producerGroup,
    topic,
    defaultTopic,
    defaultTopicQueueNums,
    queueId,
    sysFlag,
    bornTimestamp,
    flag: parseIntField(V1_KEYS[7], requiredField(ext, k, 7)),
    properties: rawField(ext, k, 8),
    reconsumeTimes: optionalIntField(ext, k, 9),
    unitMode: optionalBooleanField(ext, k, 10),
    maxReconsumeTimes: optionalIntField(ext, k, 11),
    batch: optionalBooleanField(ext, k, 12),
  };
}

const UNKNOWN_HOST: HostAddress = { address: '127.0.0.1', port: 0 };

/** Parses a connection's peer address once; sends from one connection reuse it. */
function createBornHostCache(): (remoteAddress: string) => HostAddress {
  const cache = new Map<string, HostAddress>();
  return (remoteAddress) => {
    let host = cache.get(remoteAddress);
    if (!host) {
      try {
        host = parseHost(remoteAddress);
      } catch {
        host = UNKNOWN_HOST;
      }
      if (cache.size >= 10_000) cache.clear();
      cache.set(remoteAddress, host);
    }
    return host;
  };
}

const FAQ = '\nSee http://rocketmq.apache.org/docs/faq/ for further details.';

export type SendKind = 'v1' | 'v2' | 'batch';

export function createSendProcessor(rt: BrokerRuntime, kind: SendKind) {
  const bornHostOf = createBornHostCache();
  return async (request: RemotingCommand, ctx: RequestContext): Promise<RemotingCommand> => {
    const started = performance.now();
    const h = decodeSendHeader(request.extFields, kind !== 'v1');
    const response = await handleSend(rt, kind, request, ctx, h, bornHostOf);
    if (response.code !== ResponseCode.SUCCESS) {
      rt.metrics.sendErrors.inc({ code: responseCodeName(response.code) });
    } else {
      rt.metrics.putLatency.observe((performance.now() - started) / 1000);
    }
    return response;
  };
}

const CODE_NAMES = new Map<number, string>(Object.entries(ResponseCode).map(([name, code]) => [code, name]));
function responseCodeName(code: number): string {
  return CODE_NAMES.get(code) ?? String(code);
}

async function handleSend(
  rt: BrokerRuntime,
  kind: SendKind,
  request: RemotingCommand,
  ctx: RequestContext,
  h: SendHeader,
  bornHostOf: (remoteAddress: string) => HostAddress,
): Promise<RemotingCommand> {
  // Java clients read these two unconditionally from every send response (protocol.md §3.2.2 step 1).
  const ext: ExtFields = { MSG_REGION: rt.config.regionId, TRACE_ON: String(rt.config.traceOn) };
  const fail = (code: number, remark: string) => createResponse(request, code, { remark, extFields: ext });

  if (!rt.acceptingRequests()) {
    return fail(
      ResponseCode.SERVICE_NOT_AVAILABLE,
      `broker[${rt.brokerAddr}] is not accepting messages now (starting or stopping)`,
    );
  }
  if (rt.config.brokerRole === 'SLAVE') {
    return fail(
      ResponseCode.SERVICE_NOT_AVAILABLE,
      `broker[${rt.brokerAddr}] is a slave and does not accept messages`,
    );
  }
  const topicProblem = topicNameProblem(h.topic);
  if (topicProblem) return fail(ResponseCode.SYSTEM_ERROR, topicProblem);
  if (isSendForbidden(h.topic)) {
    return fail(ResponseCode.NO_PERMISSION, `Sending message to topic[${h.topic}] is forbidden.`);
  }
  if (!isWriteable(rt.config.brokerPermission) && rt.topics.isOrderTopic(h.topic)) {
    return fail(ResponseCode.NO_PERMISSION, `the broker[${rt.brokerAddr}] sending message is forbidden`);
  }

  const now = rt.now();
  const topicSysFlag = h.unitMode ? 1 : 0;
  let topicConfig = await rt.topics.createInSend(
    h.topic,
    h.defaultTopic,
    h.defaultTopicQueueNums,
    topicSysFlag,
    now,
  );
  if (!topicConfig && h.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
    topicConfig = (await rt.topics.createIfAbsent(h.topic, 1, Perm.READ | Perm.WRITE, topicSysFlag, now))
      .config;
  }
  if (!topicConfig) {
    return fail(ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist, apply first please!${FAQ}`);
  }

  let queueId = h.queueId;
  const idValid = Math.max(topicConfig.writeQueueNums, topicConfig.readQueueNums);
  if (queueId >= idValid) {
    return fail(
      ResponseCode.SYSTEM_ERROR,
      `request queueId[${queueId}] is illegal, ${JSON.stringify(topicConfig)} Producer: ${ctx.remoteAddress}`,
    );
  }
  if (queueId < 0) {
    if (topicConfig.writeQueueNums <= 0) {
      return fail(ResponseCode.SYSTEM_ERROR, `topic[${h.topic}] has no writable queue`);
    }
    queueId = Math.floor(Math.random() * topicConfig.writeQueueNums);
  }

  const body = request.body ?? Buffer.alloc(0);
  if (body.length > rt.config.maxMessageSize) {
    return fail(
      ResponseCode.MESSAGE_ILLEGAL,
      `the message body size ${body.length} bytes is over the limit maxMessageSize=${rt.config.maxMessageSize}`,
    );
  }

  const properties = decodeProperties(h.properties ?? '');
  let topic = h.topic;
  const reconsumeTimes = h.reconsumeTimes ?? 0;

  if (kind === 'batch') {
    if (topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
      return fail(ResponseCode.MESSAGE_ILLEGAL, 'batch request does not support retry group ' + topic);
    }
  } else if (topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
    const group = topic.slice(RETRY_GROUP_TOPIC_PREFIX.length);
    const groupConfig = await rt.groups.findOrCreate(group, now);
    if (!groupConfig) {
      return fail(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${group}${FAQ}`);
    }
    let maxReconsume = groupConfig.retryMaxTimes;
    if (request.version >= VERSION_HONOURING_MAX_RECONSUME && h.maxReconsumeTimes !== undefined) {
      maxReconsume = h.maxReconsumeTimes;
    }
    if (reconsumeTimes >= maxReconsume) {
      topic = dlqTopicOf(group);
      queueId = 0;
      const dlq = await rt.topics.createIfAbsent(topic, 1, Perm.READ | Perm.WRITE, 0, now);
      if (!dlq.config) return fail(ResponseCode.SYSTEM_ERROR, `topic[${topic}] not exist`);
      properties.delete(MessageProperty.DELAY);
    }
  }

  const half =
    properties.get(MessageProperty.TRAN_MSG) === 'true' ||
    (h.sysFlag & MessageSysFlag.TRANSACTION_MASK) === MessageSysFlag.TRANSACTION_PREPARED;
  if (half && rt.config.rejectTransactionMessage) {
    return fail(
      ResponseCode.NO_PERMISSION,
      `the broker[${rt.brokerAddr}] sending transaction message is forbidden`,
    );
  }

  let sysFlag = h.sysFlag;
  if (topicConfig.topicFilterType === 'MULTI_TAG') sysFlag |= MessageSysFlag.MULTI_TAGS;
  // WAIT only steers the reply; it is not stored (saves bytes per record, as Java does).
  properties.delete(MessageProperty.WAIT);
  properties.set(MessageProperty.CLUSTER, rt.config.brokerClusterName);
  const bornHost = bornHostOf(ctx.remoteAddress);

  let result: PutResult;
  let messageCount = 1;
  if (kind === 'batch') {
    if (half) return fail(ResponseCode.MESSAGE_ILLEGAL, 'batch messages cannot be transactional');
    if (properties.has(MessageProperty.DELAY) && Number(properties.get(MessageProperty.DELAY)) > 0) {
      return fail(ResponseCode.MESSAGE_ILLEGAL, 'batch messages do not support delay levels');
    }
    let items: ReturnType<typeof decodeBatchBody>;
    try {
      items = decodeBatchBody(body);
    } catch (err) {
      return fail(ResponseCode.MESSAGE_ILLEGAL, `bad batch body: ${(err as Error).message}`);
    }
    if (items.length === 0) return fail(ResponseCode.MESSAGE_ILLEGAL, 'the batch is empty');
    const messages: MessageToStore[] = [];
    for (const item of items) {
      const itemProps = decodeProperties(item.properties);
      for (const [k, v] of properties) itemProps.set(k, v);
      itemProps.delete(MessageProperty.WAIT);
      messages.push({
        topic,
        queueId,
        flag: item.flag,
        body: item.body,
        properties: itemProps,
        sysFlag,
        bornTimestamp: h.bornTimestamp,
        bornHost,
        reconsumeTimes,
        preparedTransactionOffset: 0n,
      });
    }
    messageCount = messages.length;
    result = await rt.store.putMessages(messages);
  } else {
    const delay = requestedDelay(properties.get(MessageProperty.DELAY), rt.delayLevels);
    if ('problem' in delay) return fail(ResponseCode.MESSAGE_ILLEGAL, delay.problem);
    let msg: MessageToStore = {
      topic,
      queueId,
      flag: h.flag,
      body,
      properties,
      sysFlag,
      bornTimestamp: h.bornTimestamp,
      bornHost,
      reconsumeTimes,
      preparedTransactionOffset: 0n,
    };
    if (half) {
      const halfTopic = await rt.topics.createIfAbsent(TRANS_HALF_TOPIC, 1, Perm.READ | Perm.WRITE, 0, now);
      if (!halfTopic.config) return fail(ResponseCode.SYSTEM_ERROR, `topic[${TRANS_HALF_TOPIC}] not exist`);
      msg = toHalfMessage(msg);
    } else if (delay.level > 0 && isDelayable(sysFlag)) {
      msg = toScheduled(msg, delay.level);
    }
    result = await rt.store.putMessage(msg);
  }

  const stored = result.status === 'PUT_OK' || result.status === 'FLUSH_DISK_TIMEOUT';
  if (stored) {
    const doneAt = rt.now();
    rt.stats.recordPut(topic, result.count || messageCount, body.length, doneAt - now, doneAt);
    rt.metrics.messagesIn.inc({ topic }, result.count || messageCount);
    rt.metrics.bytesIn.inc({ topic }, body.length);
    ext.msgId = result.msgIds.join(',');
    ext.queueId = String(queueId);
    ext.queueOffset = result.queueOffset.toString();
  }
  switch (result.status) {
    case 'PUT_OK':
      return createResponse(request, ResponseCode.SUCCESS, { extFields: ext });
    case 'FLUSH_DISK_TIMEOUT':
      return createResponse(request, ResponseCode.FLUSH_DISK_TIMEOUT, {
        extFields: ext,
        remark: result.remark ?? 'the message is stored but was not flushed to disk in time',
      });
    case 'MESSAGE_ILLEGAL':
    case 'PROPERTIES_SIZE_EXCEEDED':
      return fail(
        ResponseCode.MESSAGE_ILLEGAL,
        result.remark ??
          `the message is illegal, maybe msg body or properties length not matched. msg body length limit ${rt.config.maxMessageSize} bytes, msg properties length limit 32k.`,
      );
    case 'SERVICE_NOT_AVAILABLE':
      return fail(
        ResponseCode.SERVICE_NOT_AVAILABLE,
        result.remark ?? 'service not available now, maybe disk full or the store is shutting down',
      );
    default:
      return fail(ResponseCode.SYSTEM_ERROR, result.remark ?? `UNKNOWN_ERROR storing the message`);
  }
}
