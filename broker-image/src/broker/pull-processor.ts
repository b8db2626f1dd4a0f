// PULL_MESSAGE (11) with long polling (protocol.md §3.3). A pull that finds nothing and may be
// suspended is parked in the hold table; it is re-run (never suspending again) when the store
// reports a matching arrival, when the periodic check sees the queue grew, or when its hold ends.

import { createResponse, decodeHeader, type RemotingCommand, ResponseCode } from '../protocol/index.js';
import type { RequestContext } from '../remoting/index.js';
import type { GetResult, GetStatus } from '../store/index.js';
import { isReadable, PullSysFlag } from './constants.js';
import { PullHoldTable } from './pull-hold-table.js';
import type { BrokerRuntime } from './runtime.js';
import {
  parseTagSubscription,
  type SubscriptionData,
  SubscriptionParseError,
  subscriptionMatches,
  tagFilterOf,
} from './subscription.js';
import { groupNameProblem } from './topic-validation.js';

const PULL_HEADER = {
  consumerGroup: 'string',
  topic: 'string',
  queueId: 'int',
  queueOffset: 'long',
  maxMsgNums: 'int',
  sysFlag: 'int',
  commitOffset: 'long',
  suspendTimeoutMillis: 'long',
  subscription: 'string?',
  subVersion: 'long',
  expressionType: 'string?',
} as const;

type PullHeader = ReturnType<typeof decodeHeader<typeof PULL_HEADER>>;

const FAQ = '\nSee http://rocketmq.apache.org/docs/faq/ for further details.';

interface HeldRequest {
  request: RemotingCommand;
  header: PullHeader;
  ctx: RequestContext;
  subscription: SubscriptionData;
  resolve: (response: RemotingCommand | null) => void;
  heldAt: number;
}

/** Outcome of one pass of the pull logic: an answer, or "park me". */
type PullOutcome =
  | { response: RemotingCommand }
  | { suspend: { subscription: SubscriptionData; holdMs: number } };

export class PullMessageService {
  private readonly rt: BrokerRuntime;
  private readonly holds = new PullHoldTable<HeldRequest>();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(rt: BrokerRuntime) {
    this.rt = rt;
  }

  get heldCount(): number {
    return this.holds.size;
  }

  start(checkIntervalMs = 1000): void {
    this.unsubscribe = this.rt.store.onArrival((topic, queueId, maxOffset, tagsCode) => {
      const woken = this.holds.onArrival(topic, queueId, maxOffset, tagsCode, this.rt.now());
      for (const held of woken) this.rerun(held.payload);
    });
    this.timer = setInterval(() => this.check(), checkIntervalMs);
    this.timer.unref();
  }

  /** Answers every held pull (as after its hold) and stops listening. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const all = this.holds.drain();
    await Promise.all(all.map((held) => this.rerun(held.payload)));
  }

  /** A connection closed: its held pulls are dropped without an answer. */
  onChannelClose(channelId: string): void {
    for (const held of this.holds.removeChannel(channelId)) held.payload.resolve(null);
  }

  private check(): void {
    const due = this.holds.due(this.rt.now(), (topic, queueId) =>
      this.rt.store.getMaxOffsetInQueue(topic, queueId),
    );
    for (const held of due) this.rerun(held.payload);
  }

  private async rerun(held: HeldRequest): Promise<void> {
    try {
      const outcome = await this.execute(held.request, held.header, held.ctx, undefined);
      held.resolve('response' in outcome ? outcome.response : null);
    } catch (err) {
      held.resolve(
        createResponse(held.request, ResponseCode.SYSTEM_ERROR, { remark: (err as Error).message }),
      );
    }
  }

  /** The PULL_MESSAGE processor. */
  readonly process = async (
    request: RemotingCommand,
    ctx: RequestContext,
  ): Promise<RemotingCommand | null> => {
    const header = decodeHeader(request.extFields, PULL_HEADER);
    // Taken before the first await: requests behind this one on the connection may commit first.
    const arrivedAt = this.rt.offsets.mark();
    const outcome = await this.execute(request, header, ctx, arrivedAt);
    if ('response' in outcome) return outcome.response;
    const { subscription, holdMs } = outcome.suspend;
    // Held pulls must not block heartbeats and commits on the same connection.
    ctx.detachFromFlowControl();
    const now = this.rt.now();
    return new Promise<RemotingCommand | null>((resolve) => {
      this.holds.hold({
        topic: header.topic,
        queueId: header.queueId,
        offset: header.queueOffset,
        deadline: now + holdMs,
        channelId: ctx.channelId,
        matches: (tagsCode) => subscriptionMatches(subscription, tagsCode),
        payload: { request, header, ctx, subscription, resolve, heldAt: now },
      });
      if (ctx.channel.closed) this.onChannelClose(ctx.channelId);
    });
  };

  private async execute(
    request: RemotingCommand,
    h: PullHeader,
    ctx: RequestContext,
    /** The offsets mark taken on arrival; undefined when a held pull runs again. */
    arrivedAt: number | undefined,
  ): Promise<PullOutcome> {
    const allowSuspend = arrivedAt !== undefined;
    const rt = this.rt;
    const answer = (code: number, remark: string): PullOutcome => ({
      response: createResponse(request, code, { remark }),
    });
    if (!rt.acceptingRequests()) {
      return answer(
        ResponseCode.SYSTEM_BUSY,
        '[REJECTREQUEST]broker is starting or stopping, try again later',
      );
    }
    if (!isReadable(rt.config.brokerPermission)) {
      return answer(ResponseCode.NO_PERMISSION, `the broker[${rt.brokerAddr}] pulling message is forbidden`);
    }
    const groupProblem = groupNameProblem(h.consumerGroup);
    if (groupProblem) return answer(ResponseCode.SYSTEM_ERROR, groupProblem);
    const now = rt.now();
    const group = await rt.groups.findOrCreate(h.consumerGroup, now);
    if (!group) {
      return answer(
        ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
        `subscription group [${h.consumerGroup}] does not exist, ${FAQ}`,
      );
    }
    if (!group.consumeEnable) {
      return answer(ResponseCode.NO_PERMISSION, `subscription group no permission, ${h.consumerGroup}`);
    }
    const topic = rt.topics.get(h.topic);
    if (!topic) {
      return answer(ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist, apply first please!${FAQ}`);
    }
    if (!isReadable(topic.perm)) {
      return answer(ResponseCode.NO_PERMISSION, `the topic[${h.topic}] pulling message is forbidden`);
    }
    if (h.queueId < 0 || h.queueId >= topic.readQueueNums) {
      return answer(
        ResponseCode.SYSTEM_ERROR,
        `queueId[${h.queueId}] is illegal, topic:[${h.topic}] topicConfig.readQueueNums:[${topic.readQueueNums}] consumer:[${ctx.remoteAddress}]`,
      );
    }

    let subscription: SubscriptionData;
    if ((h.sysFlag & PullSysFlag.SUBSCRIPTION) !== 0) {
      const type = h.expressionType ?? 'TAG';
      if (type !== 'TAG') {
        return answer(
          ResponseCode.SYSTEM_ERROR,
          `The broker does not support consumer to filter message by ${type}`,
        );
      }
      try {
        subscription = parseTagSubscription(h.topic, h.subscription, Number(h.subVersion));
      } catch (err) {
        const reason = err instanceof SubscriptionParseError ? err.message : String(err);
        return answer(
          ResponseCode.SUBSCRIPTION_PARSE_FAILED,
          `parse the consumer's subscription failed: ${reason}`,
        );
      }
    } else {
      const info = rt.consumers.get(h.consumerGroup);
      if (!info) {
        return answer(ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's group info not exist${FAQ}`);
      }
      if (!group.consumeBroadcastEnable && info.messageModel === 'BROADCASTING') {
        return answer(
          ResponseCode.NO_PERMISSION,
          `the consumer group[${h.consumerGroup}] can not consume by broadcast way`,
        );
      }
      const sub = info.subscriptionTable.get(h.topic);
      if (!sub) {
        return answer(ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's subscription not exist${FAQ}`);
      }
      if (sub.subVersion < Number(h.subVersion)) {
        return answer(ResponseCode.SUBSCRIPTION_NOT_LATEST, `the consumer's subscription not latest`);
      }
      subscription = sub;
      if (sub.expressionType !== 'TAG' && !rt.config.enablePropertyFilter) {
        return answer(
          ResponseCode.SYSTEM_ERROR,
          `The broker does not support consumer to filter message by ${sub.expressionType}`,
        );
      }
    }

    const maxMsgNums = Math.max(1, Math.min(h.maxMsgNums, 1024));
    const result = await rt.store.getMessage(
      h.topic,
      h.queueId,
      h.queueOffset,
      maxMsgNums,
      tagFilterOf(subscription),
    );
    const mapped = mapStatus(result, h.queueOffset);

    // Offset piggy-back: only on the first execution, and only a master stores it.
    if (allowSuspend && (h.sysFlag & PullSysFlag.COMMIT_OFFSET) !== 0 && rt.config.brokerRole !== 'SLAVE') {
      rt.offsets.commit(h.consumerGroup, h.topic, h.queueId, h.commitOffset, arrivedAt);
    }

    if (
      mapped.code === ResponseCode.PULL_NOT_FOUND &&
      allowSuspend &&
      (h.sysFlag & PullSysFlag.SUSPEND) !== 0
    ) {
      const holdMs = rt.config.longPollingEnable
        ? Number(h.suspendTimeoutMillis)
        : rt.config.shortPollingTimeMills;
      if (holdMs > 0) return { suspend: { subscription, holdMs } };
    }

    let body: Buffer | undefined;
    let bytes = 0;
    if (mapped.code === ResponseCode.SUCCESS) {
      body = joinRecords(result.records);
      bytes = body.length;
      rt.metrics.messagesOut.inc({ topic: h.topic, group: h.consumerGroup }, result.records.length);
      rt.metrics.bytesOut.inc({ topic: h.topic, group: h.consumerGroup }, bytes);
    }
    rt.stats.recordGet(h.topic, h.consumerGroup, result.records.length, bytes, rt.now());
    return {
      response: createResponse(request, mapped.code, {
        remark: result.status,
        body,
        extFields: {
          nextBeginOffset: mapped.nextBeginOffset.toString(),
          minOffset: result.minOffset.toString(),
          maxOffset: result.maxOffset.toString(),
          suggestWhichBrokerId: '0',
        },
      }),
    };
  }
}

/** The records as one body: a view when they lie back to back in one buffer (as hot reads return them), else a copy. */
export function joinRecords(records: readonly Buffer[]): Buffer {
  if (records.length === 0) return Buffer.alloc(0);
  if (records.length === 1) return records[0];
  const first = records[0];
  let end = first.byteOffset + first.length;
  for (let i = 1; i < records.length; i++) {
    const r = records[i];
    if (r.buffer !== first.buffer || r.byteOffset !== end) return Buffer.concat(records);
    end += r.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}

function mapStatus(result: GetResult, requested: bigint): { code: number; nextBeginOffset: bigint } {
  const status: GetStatus = result.status;
  switch (status) {
    case 'FOUND':
      return { code: ResponseCode.SUCCESS, nextBeginOffset: result.nextBeginOffset };
    case 'NO_MATCHED_MESSAGE':
      return { code: ResponseCode.PULL_RETRY_IMMEDIATELY, nextBeginOffset: result.nextBeginOffset };
    case 'NO_MESSAGE_IN_QUEUE':
    case 'NO_MATCHED_LOGIC_QUEUE':
      return {
        code: requested === 0n ? ResponseCode.PULL_NOT_FOUND : ResponseCode.PULL_OFFSET_MOVED,
        nextBeginOffset: result.nextBeginOffset,
      };
    case 'OFFSET_FOUND_NULL':
    case 'OFFSET_OVERFLOW_ONE':
      return { code: ResponseCode.PULL_NOT_FOUND, nextBeginOffset: result.nextBeginOffset };
    case 'OFFSET_OVERFLOW_BADLY':
    case 'OFFSET_TOO_SMALL':
      return { code: ResponseCode.PULL_OFFSET_MOVED, nextBeginOffset: result.nextBeginOffset };
    default:
      return { code: ResponseCode.PULL_NOT_FOUND, nextBeginOffset: requested };
  }
}
