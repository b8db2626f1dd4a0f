// Topic: UPDATE_AND_CREATE_TOPIC on every master; DELETE_TOPIC_IN_BROKER on each, then the route on
// the name servers. A lower queue count is applied safely (desired/topic-queues): write queues first,
// read queues once the removed queues are drained; until then the Topic says so and looks again soon.
import {
  defaultTopic,
  effectiveQueues,
  isRocketMqName,
  RESERVED_TOPIC_NAMES,
  type Topic,
  type TopicBrokerResult,
  type TopicStatus,
} from '../api/index.js';
import {
  type MasterQueueObservation,
  needsQueueObservation,
  planTopicQueues,
  type QueuePlan,
  settleQueuePlan,
  topicConfig,
} from '../desired/index.js';
import { type SyncStatus, topicQueueConditions } from '../status/index.js';
import {
  type BrokerResourceDeps,
  type BrokerResourceKind,
  createBrokerResourceReconciler,
} from './broker-resource.js';
import { BrokerCallError, type Reconcile } from './ports.js';
import { errorMessage, rfc3339 } from './status-diff.js';

const RESERVED: ReadonlySet<string> = new Set(RESERVED_TOPIC_NAMES);

/** The pass's plan once the declare outcomes are known. */
function settled(topic: Topic, pass: TopicPass, sync: SyncStatus): QueuePlan {
  const failed = sync.brokers.filter((b) => b.state === 'Failed').map((b) => b.brokerName);
  return settleQueuePlan(pass.queues, topic.status?.queueShrink ?? undefined, failed);
}

export interface QueueShrinkOptions {
  /**
   * How long after the write queues were lowered producers may still send to the removed queues
   * with routes they have not refreshed (RocketMQ clients poll the name server every 30 s).
   * Default 45 s.
   */
  graceMs?: number;
  /** How often a pending shrink looks at the consumers again. Default 10 s. */
  recheckMs?: number;
}

export const DEFAULT_QUEUE_SHRINK_GRACE_MS = 45_000;
export const DEFAULT_QUEUE_SHRINK_RECHECK_MS = 10_000;

/** The plan of one pass, with the errors of masters that could not be observed (declared as failures). */
export interface TopicPass {
  queues: QueuePlan;
  unobservable: Map<string, unknown>;
  /** When the plan was made (ms). */
  now: number;
}

export function createTopicKind(options: QueueShrinkOptions = {}): BrokerResourceKind<Topic, TopicPass> {
  const graceMs = options.graceMs ?? DEFAULT_QUEUE_SHRINK_GRACE_MS;
  const recheckMs = options.recheckMs ?? DEFAULT_QUEUE_SHRINK_RECHECK_MS;
  return {
    describe: (topic) => `topic ${defaultTopic(topic).spec.topicName}`,
    validate: (topic) => {
      const name = defaultTopic(topic).spec.topicName;
      if (!isRocketMqName(name)) {
        return `spec.topicName ${JSON.stringify(name)} is not a RocketMQ topic name (1-127 of letters, digits, %, |, _ and -)`;
      }
      if (RESERVED.has(name) || name.startsWith('rmq_sys_'))
        return `spec.topicName ${name} is a RocketMQ system topic`;
      return undefined;
    },
    plan: async (admin, cluster, topic, now) => {
      const t = defaultTopic(topic);
      const target = effectiveQueues(t);
      const name = t.spec.topicName;
      const masters = cluster.masters.map((m) => m.brokerName);
      const unobservable = new Map<string, unknown>();
      const base = { target, masters, recorded: topic.status?.queueShrink, now, graceMs };
      if (!needsQueueObservation(topic.status, topic.metadata.generation, target)) {
        return { queues: planTopicQueues(base), unobservable, now };
      }
      const observed = new Map<string, MasterQueueObservation>();
      await Promise.all(
        cluster.masters.map(async (m) => {
          try {
            const counts = await admin.topicQueues(m, name);
            if (!counts) {
              observed.set(m.brokerName, { state: 'absent' });
              return;
            }
            if (counts.readQueues <= target) {
              observed.set(m.brokerName, { state: 'present', counts });
              return;
            }
            try {
              const progress = await admin.topicConsumeProgress(m, name);
              observed.set(m.brokerName, { state: 'present', counts, progress });
            } catch (err) {
              observed.set(m.brokerName, { state: 'present', counts, progressError: errorMessage(err) });
            }
          } catch (err) {
            unobservable.set(m.brokerName, err);
            observed.set(m.brokerName, { state: 'failed', message: errorMessage(err) });
          }
        }),
      );
      return { queues: planTopicQueues({ ...base, observed }), unobservable, now };
    },
    declare: async (admin, broker, topic, pass) => {
      const counts = pass.queues.counts.get(broker.brokerName);
      if (!counts) {
        const err = pass.unobservable.get(broker.brokerName);
        throw err ?? new BrokerCallError(`no queue plan for ${broker.brokerName}`, false);
      }
      await admin.createOrUpdateTopic(broker, {
        ...topicConfig(topic),
        readQueueNums: counts.readQueues,
        writeQueueNums: counts.writeQueues,
      });
    },
    remove: (admin, broker, topic) => admin.deleteTopic(broker, defaultTopic(topic).spec.topicName),
    afterRemove: (admin, cluster, topic) =>
      admin.deleteTopicRoute(cluster, defaultTopic(topic).spec.topicName),
    status: (topic, sync: SyncStatus, pass, now) => {
      const t = defaultTopic(topic);
      const queues = effectiveQueues(t);
      const brokers: TopicBrokerResult[] = sync.brokers.map((b) => {
        if (b.state !== 'Synced') return b;
        const counts = pass?.queues.counts.get(b.brokerName);
        return {
          ...b,
          readQueues: counts?.readQueues ?? queues,
          writeQueues: counts?.writeQueues ?? queues,
        };
      });
      const plan = pass ? settled(topic, pass, sync) : undefined;
      const conditions = plan
        ? topicQueueConditions(sync.conditions, plan, topic.metadata.generation, rfc3339(now))
        : sync.conditions;
      const status: Omit<TopicStatus, 'queueShrink'> & {
        queueShrink?: TopicStatus['queueShrink'] | null;
      } & Record<string, unknown> = {
        conditions,
        topicName: t.spec.topicName,
        effectiveQueues: queues,
        brokers,
      };
      if (plan?.shrink) status.queueShrink = plan.shrink;
      // Merge patch: null removes the record; only sent when there is one to remove.
      else if (plan && topic.status?.queueShrink) status.queueShrink = null;
      if (sync.observedGeneration !== undefined) status.observedGeneration = sync.observedGeneration;
      return status;
    },
    afterDeclare: async (topic, pass, sync, events) => {
      const plan = settled(topic, pass, sync);
      const name = defaultTopic(topic).spec.topicName;
      if (plan.transition === 'started') {
        await events.record(topic, 'Normal', 'QueueShrinkStarted', `topic ${name}: ${plan.summary}`);
      } else if (plan.transition === 'completed') {
        await events.record(topic, 'Normal', 'QueueShrinkCompleted', `topic ${name}: ${plan.summary}`);
      } else if (plan.transition === 'abandoned') {
        await events.record(topic, 'Normal', 'QueueShrinkAbandoned', `topic ${name}: ${plan.summary}`);
      }
      if (!plan.shrink) return {};
      // Come back at the recheck interval, or just after the grace ends if that is sooner.
      const untilGrace = (plan.graceEndsAt ?? pass.now) - pass.now;
      return { requeueAfterMs: untilGrace > 0 ? Math.min(recheckMs, untilGrace + 50) : recheckMs };
    },
  };
}

export type TopicReconcilerDeps = BrokerResourceDeps<Topic> & { queueShrink?: QueueShrinkOptions };

export function createTopicReconciler(deps: TopicReconcilerDeps): Reconcile {
  return createBrokerResourceReconciler(createTopicKind(deps.queueShrink), deps);
}
