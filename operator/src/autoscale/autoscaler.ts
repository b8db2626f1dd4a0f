// The autoscaler as a reconciler keyed by ConsumerGroup: every poll interval (and at once when an
// alert names the group) it reads the group's lag from the masters, decides, sets the target's
// /scale, grows topics that cap it, and writes the autoscaling half of the group's status.
// It talks to ports only; main.ts wires the Kubernetes and RocketMQ adapters.

import {
  type BrokerCluster,
  type ConsumerGroup,
  type ConsumerGroupStatus,
  type DefaultedConsumerGroup,
  defaultConsumerGroup,
  defaultTopic,
  effectiveQueues,
  type ScaleTargetRef,
  type Topic,
} from '../api/index.js';
import {
  type BrokerAdmin,
  type Cache,
  type ClusterTarget,
  type EndpointOverrides,
  type Events,
  parseKey,
  type Reconcile,
  type ReconcileResult,
  resolveCluster,
  type StatusWriter,
} from '../controller/index.js';
import { type BrokerEndpoint, topicConfig } from '../desired/index.js';
import { type Decision, decide, policyOf, type QueueGrowth, type ScaleState } from './decide.js';
import { type LagSummary, lagTopics, type QueueProgress, summarizeLag } from './lag.js';

/** Per-queue progress of a group, read from every master. Throws when any master gives no answer. */
export interface LagReader {
  read(
    masters: readonly BrokerEndpoint[],
    group: string,
    topics: readonly string[],
  ): Promise<QueueProgress[]>;
}

export type TargetRef = Required<ScaleTargetRef>;

/** A workload's /scale subresource. */
export interface ScaleTarget {
  /** spec.replicas as stored. */
  getReplicas(namespace: string, target: TargetRef): Promise<number>;
  setReplicas(namespace: string, target: TargetRef, replicas: number): Promise<void>;
}

/** What metrics see of each evaluation. */
export interface AutoscaleObserver {
  lagMeasured(namespace: string, group: string, summary: LagSummary): void;
  replicas(namespace: string, group: string, current: number, desired: number): void;
  scaled(namespace: string, group: string, direction: 'up' | 'down'): void;
  queuesGrown(namespace: string, group: string, topic: string, queues: number): void;
  /** The group is gone or no longer measured: drop its series. */
  forget(namespace: string, group: string): void;
}

export interface AutoscalerDeps {
  groups: Cache<ConsumerGroup>;
  topics: Cache<Topic>;
  clusters: Cache<BrokerCluster>;
  overrides?: EndpointOverrides;
  lag: LagReader;
  scale: ScaleTarget;
  /** Grows topics on each master (the Topic controller's admin). */
  admin: Pick<BrokerAdmin, 'createOrUpdateTopic'>;
  /** Merge patch of status: of ConsumerGroups (lag, replicas) and Topics (autoscaled queues). */
  kube: StatusWriter;
  events: Events;
  observer?: AutoscaleObserver;
  now: () => number;
  /** How often groups without autoscaling have their lag measured (status and metrics). Default 30 s. */
  lagPollMs?: number;
  /** Failures the user cannot see in events (e.g. logs). */
  onError?: (key: string, what: string, err: unknown) => void;
}

export interface Autoscaler {
  /** Reconcile of one `namespace/name` ConsumerGroup key. */
  reconcile: Reconcile;
  /** The state carried between evaluations of a key (tests, debugging). */
  stateOf(key: string): ScaleState | undefined;
}

/** RFC 3339 with whole seconds, as metav1.Time is stored. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function parseTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The status fields this service owns; `null` clears a field in the merge patch. */
type AutoscaleStatus = Pick<ConsumerGroupStatus, 'lag' | 'lagPerTopic' | 'queues' | 'lagTime'> & {
  currentReplicas?: number | null;
  desiredReplicas?: number | null;
  lastScaleTime?: string | null;
  lastScaleReason?: string | null;
  lowLagSince?: string | null;
  saturatedSince?: string | null;
};

/** True when a field other than lagTime differs (a poll that measured the same thing writes nothing). */
function statusDiffers(old: ConsumerGroupStatus | undefined, next: AutoscaleStatus): boolean {
  const current = (old ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(next)) {
    if (key === 'lagTime') continue;
    const before = current[key] ?? null;
    if (JSON.stringify(before) !== JSON.stringify(value ?? null)) return true;
  }
  return false;
}

interface Memo {
  uid: string | undefined;
  state: ScaleState;
}

export function createAutoscaler(deps: AutoscalerDeps): Autoscaler {
  const overrides: EndpointOverrides = deps.overrides ?? new Map();
  const lagPollMs = deps.lagPollMs ?? 30_000;
  // The decision's state per group, so an evaluation right after another (an alert) does not depend
  // on the informer having seen our last status write. Seeded from status after a restart.
  const memos = new Map<string, Memo>();

  const stateFor = (key: string, group: ConsumerGroup): ScaleState => {
    const memo = memos.get(key);
    if (memo && memo.uid === group.metadata.uid) return memo.state;
    const s = group.status;
    return {
      lowLagSince: parseTime(s?.lowLagSince),
      saturatedSince: parseTime(s?.saturatedSince),
      lastLag: s?.lag,
    };
  };

  const fail = async (group: ConsumerGroup, key: string, reason: string, what: string, err: unknown) => {
    deps.onError?.(key, what, err);
    await deps.events.record(group, 'Warning', reason, `${what}: ${message(err)}`);
  };

  /** The Topic resource that manages `topicName` on the group's cluster, if any. */
  const topicResource = (group: DefaultedConsumerGroup, namespace: string, topicName: string) =>
    deps.topics
      .list({ namespace })
      .find(
        (t) =>
          !t.metadata.deletionTimestamp &&
          t.spec.clusterRef.name === group.spec.clusterRef.name &&
          defaultTopic(t).spec.topicName === topicName,
      );

  /** Records the new count in the Topic's status first (so the Topic controller keeps it), then grows every master. */
  const growTopic = async (
    group: DefaultedConsumerGroup,
    namespace: string,
    target: ClusterTarget,
    growth: QueueGrowth,
  ): Promise<void> => {
    const topic = topicResource(group, namespace, growth.topic);
    if (!topic) throw new Error(`no Topic resource manages ${growth.topic}`);
    const t = defaultTopic(topic);
    const queues = Math.max(growth.to, t.status?.autoscaledQueues ?? 0);
    const grown: Topic = { ...topic, status: { ...topic.status, autoscaledQueues: queues } };
    await deps.kube.patchStatus(topic, {
      autoscaledQueues: queues,
      effectiveQueues: effectiveQueues(defaultTopic(grown)),
      autoscaledTime: rfc3339(deps.now()),
    });
    const config = topicConfig(grown);
    await Promise.all(target.masters.map((m) => deps.admin.createOrUpdateTopic(m, config)));
    const text = `queues of topic ${growth.topic} grown from ${growth.from} to ${config.writeQueueNums} per master (ConsumerGroup ${group.metadata.name} at full replicas with growing lag)`;
    await deps.events.record(topic, 'Normal', 'QueuesExpanded', text);
    await deps.events.record(group, 'Normal', 'QueuesExpanded', text);
  };

  const reconcile: Reconcile = async (key): Promise<ReconcileResult | undefined> => {
    const { namespace, name } = parseKey(key);
    const cached = deps.groups.get(name, namespace);
    if (!cached || cached.metadata.deletionTimestamp) {
      memos.delete(key);
      deps.observer?.forget(namespace, name);
      return undefined;
    }
    const group = defaultConsumerGroup(cached);
    const autoscaling = group.spec.autoscaling;
    const subscribed = group.spec.subscriptions.map((s) => s.topic);
    if (subscribed.length === 0 || group.spec.consumeMode !== 'Clustering') {
      // Nothing to measure (or lag per consumer is meaningless in broadcasting).
      memos.delete(key);
      deps.observer?.forget(namespace, name);
      return undefined;
    }
    const pollMs = autoscaling ? autoscaling.pollIntervalSeconds * 1000 : lagPollMs;
    const clusterName = group.spec.clusterRef.name;
    const target = resolveCluster(
      namespace,
      clusterName,
      deps.clusters.get(clusterName, namespace),
      overrides,
    );
    // No cluster or no masters: the ConsumerGroup controller reports that in the conditions.
    if (!target || target.masters.length === 0) return { requeueAfter: pollMs };

    let summary: LagSummary;
    try {
      const rows = await deps.lag.read(
        target.masters,
        group.spec.groupName,
        lagTopics(group.spec.groupName, subscribed),
      );
      summary = summarizeLag(group.spec.groupName, subscribed, rows);
    } catch (err) {
      await fail(cached, key, 'LagUnavailable', `reading the lag of ${group.spec.groupName}`, err);
      return { requeueAfter: pollMs };
    }
    const now = deps.now();
    deps.observer?.lagMeasured(namespace, name, summary);
    const subscribedTopics = summary.topics.filter((t) => !t.retry);
    const status: AutoscaleStatus = {
      lag: summary.lag,
      lagPerTopic: summary.topics.map((t) => ({ topic: t.topic, lag: t.lag, queues: t.queues })),
      queues: subscribedTopics.reduce((m, t) => Math.max(m, t.queues), 0),
      lagTime: rfc3339(now),
    };

    if (!autoscaling) {
      Object.assign(status, {
        currentReplicas: null,
        desiredReplicas: null,
        lowLagSince: null,
        saturatedSince: null,
      });
      memos.delete(key);
    } else {
      const targetRef = autoscaling.target;
      let current: number | undefined;
      try {
        current = await deps.scale.getReplicas(namespace, targetRef);
      } catch (err) {
        const what = `reading /scale of ${targetRef.kind} ${targetRef.name}`;
        await fail(cached, key, 'ScaleTargetUnavailable', what, err);
      }
      if (current !== undefined) {
        const prior = stateFor(key, cached);
        const decision = decide(
          policyOf(autoscaling),
          {
            lag: summary.lag,
            topics: subscribedTopics.map((t) => ({
              topic: t.topic,
              lag: t.lag,
              queues: t.queues,
              queuesPerMaster: t.queuesPerMaster,
              expandable: topicResource(group, namespace, t.topic) !== undefined,
            })),
            currentReplicas: current,
            now,
          },
          prior,
        );
        const state = await act(cached, group, {
          namespace,
          key,
          cluster: target,
          targetRef,
          current,
          prior,
          decision,
          status,
        });
        memos.set(key, { uid: cached.metadata.uid, state });
      }
    }

    if (statusDiffers(cached.status, status)) await deps.kube.patchStatus(cached, status);
    return { requeueAfter: pollMs };
  };

  /** Applies a decision: queue growth, then the scale change; fills the status; returns the next state. */
  const act = async (
    cached: ConsumerGroup,
    group: DefaultedConsumerGroup,
    ctx: {
      namespace: string;
      key: string;
      cluster: ClusterTarget;
      targetRef: TargetRef;
      current: number;
      /** The state the decision started from. */
      prior: ScaleState;
      decision: Decision;
      status: AutoscaleStatus;
    },
  ): Promise<ScaleState> => {
    const { namespace, key, cluster, targetRef, current, prior, decision, status } = ctx;
    const name = group.metadata.name ?? '';
    let state = decision.state;
    for (const growth of decision.grow) {
      try {
        await growTopic(group, namespace, cluster, growth);
        deps.observer?.queuesGrown(namespace, name, growth.topic, growth.to);
      } catch (err) {
        await fail(cached, key, 'QueueExpansionFailed', `growing topic ${growth.topic}`, err);
        // Try again at the next evaluation rather than waiting a whole `after` again.
        state = { ...state, saturatedSince: prior.saturatedSince ?? deps.now() };
      }
    }

    let replicas = current;
    status.lastScaleTime = cached.status?.lastScaleTime ?? null;
    status.lastScaleReason = cached.status?.lastScaleReason ?? null;
    const change = decision.change;
    if (change) {
      try {
        await deps.scale.setReplicas(namespace, targetRef, change.to);
        replicas = change.to;
        const now = deps.now();
        status.lastScaleTime = rfc3339(now);
        status.lastScaleReason = change.reason;
        deps.observer?.scaled(namespace, name, change.direction);
        await deps.events.record(
          cached,
          'Normal',
          change.direction === 'up' ? 'ScaledUp' : 'ScaledDown',
          `${targetRef.kind} ${targetRef.name} scaled from ${change.from} to ${change.to}: ${change.reason}`,
        );
      } catch (err) {
        const what = `scaling ${targetRef.kind} ${targetRef.name} to ${change.to}`;
        await fail(cached, key, 'ScaleFailed', what, err);
        // Nothing changed on the workload: a scale-down stays due (the window is not restarted).
        if (change.direction === 'down')
          state = { ...state, lowLagSince: prior.lowLagSince, lowLagPeak: prior.lowLagPeak };
      }
    }
    status.currentReplicas = replicas;
    status.desiredReplicas = decision.desiredReplicas;
    status.lowLagSince = state.lowLagSince === undefined ? null : rfc3339(state.lowLagSince);
    status.saturatedSince = state.saturatedSince === undefined ? null : rfc3339(state.saturatedSince);
    deps.observer?.replicas(namespace, name, replicas, decision.desiredReplicas);
    return state;
  };

  return {
    reconcile,
    stateOf: (key) => memos.get(key)?.state,
  };
}
