// Producer and consumer connections learnt from HEART_BEAT (protocol.md §3.5). Pure state: the
// caller passes `now` and acts on what the methods return (e.g. sends NOTIFY_CONSUMER_IDS_CHANGED).

import type { SubscriptionData } from './subscription.js';

/** One client connection as registered in a group. */
export interface ClientChannelInfo {
  channelId: string;
  clientId: string;
  language: string;
  version: number;
  /** "ip:port" of the peer. */
  clientAddr: string;
  lastUpdateTimestamp: number;
}

export interface ConsumerGroupInfo {
  groupName: string;
  consumeType: string;
  messageModel: string;
  consumeFromWhere: string;
  channels: Map<string, ClientChannelInfo>;
  subscriptionTable: Map<string, SubscriptionData>;
  lastUpdateTimestamp: number;
}

export interface ConsumerRegistration {
  group: string;
  consumeType: string;
  messageModel: string;
  consumeFromWhere: string;
  subscriptions: SubscriptionData[];
}

/** A group whose membership changed, and the connections to notify. */
export interface GroupChange {
  group: string;
  channels: ClientChannelInfo[];
}

export class ConsumerManager {
  private readonly groups = new Map<string, ConsumerGroupInfo>();

  /**
   * Registers a connection in a consumer group. Returns true when a new connection joined or a new
   * topic was subscribed (the group's members should then be notified).
   */
  register(reg: ConsumerRegistration, channel: ClientChannelInfo, now: number): boolean {
    let info = this.groups.get(reg.group);
    if (!info) {
      info = {
        groupName: reg.group,
        consumeType: reg.consumeType,
        messageModel: reg.messageModel,
        consumeFromWhere: reg.consumeFromWhere,
        channels: new Map(),
        subscriptionTable: new Map(),
        lastUpdateTimestamp: now,
      };
      this.groups.set(reg.group, info);
    }
    info.consumeType = reg.consumeType;
    info.messageModel = reg.messageModel;
    info.consumeFromWhere = reg.consumeFromWhere;
    info.lastUpdateTimestamp = now;

    let changed = false;
    const existing = info.channels.get(channel.channelId);
    if (!existing || existing.clientId !== channel.clientId) changed = true;
    info.channels.set(channel.channelId, { ...channel, lastUpdateTimestamp: now });

    const seen = new Set<string>();
    for (const sub of reg.subscriptions) {
      seen.add(sub.topic);
      const old = info.subscriptionTable.get(sub.topic);
      if (!old) {
        info.subscriptionTable.set(sub.topic, sub);
        changed = true;
      } else if (sub.subVersion > old.subVersion) {
        info.subscriptionTable.set(sub.topic, sub);
      }
    }
    // Last writer wins per group: topics this heartbeat no longer lists are dropped.
    for (const topic of [...info.subscriptionTable.keys()]) {
      if (!seen.has(topic)) info.subscriptionTable.delete(topic);
    }
    return changed;
  }

  /** UNREGISTER_CLIENT for one group; returns the remaining members when someone left. */
  unregister(group: string, channelId: string): GroupChange | undefined {
    const info = this.groups.get(group);
    if (!info?.channels.delete(channelId)) return undefined;
    if (info.channels.size === 0) {
      this.groups.delete(group);
      return { group, channels: [] };
    }
    return { group, channels: [...info.channels.values()] };
  }

  /** A connection closed: removes it from every group; returns the groups that lost a member. */
  removeChannel(channelId: string): GroupChange[] {
    const changes: GroupChange[] = [];
    for (const group of [...this.groups.keys()]) {
      const change = this.unregister(group, channelId);
      if (change) changes.push(change);
    }
    return changes;
  }

  /** Connections silent for longer than `timeoutMs`; the caller closes them (which removes them). */
  expiredChannels(now: number, timeoutMs: number): string[] {
    const out = new Set<string>();
    for (const info of this.groups.values()) {
      for (const ch of info.channels.values()) {
        if (ch.lastUpdateTimestamp + timeoutMs < now) out.add(ch.channelId);
      }
    }
    return [...out];
  }

  get(group: string): ConsumerGroupInfo | undefined {
    return this.groups.get(group);
  }

  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  /** Client ids of the group's live connections (GET_CONSUMER_LIST_BY_GROUP). */
  clientIds(group: string): string[] {
    const info = this.groups.get(group);
    if (!info) return [];
    return [...new Set([...info.channels.values()].map((c) => c.clientId))];
  }

  /** Groups with a live subscription to the topic. */
  groupsSubscribing(topic: string): string[] {
    const out: string[] = [];
    for (const info of this.groups.values()) if (info.subscriptionTable.has(topic)) out.push(info.groupName);
    return out;
  }

  /** Total connections across groups (metrics). */
  connectionCount(): number {
    const ids = new Set<string>();
    for (const info of this.groups.values()) for (const id of info.channels.keys()) ids.add(id);
    return ids.size;
  }
}

export class ProducerManager {
  private readonly groups = new Map<string, Map<string, ClientChannelInfo>>();

  register(group: string, channel: ClientChannelInfo, now: number): void {
    let members = this.groups.get(group);
    if (!members) {
      members = new Map();
      this.groups.set(group, members);
    }
    members.set(channel.channelId, { ...channel, lastUpdateTimestamp: now });
  }

  unregister(group: string, channelId: string): void {
    const members = this.groups.get(group);
    if (!members) return;
    members.delete(channelId);
    if (members.size === 0) this.groups.delete(group);
  }

  removeChannel(channelId: string): void {
    for (const group of [...this.groups.keys()]) this.unregister(group, channelId);
  }

  expiredChannels(now: number, timeoutMs: number): string[] {
    const out = new Set<string>();
    for (const members of this.groups.values()) {
      for (const ch of members.values()) if (ch.lastUpdateTimestamp + timeoutMs < now) out.add(ch.channelId);
    }
    return [...out];
  }

  members(group: string): ClientChannelInfo[] {
    return [...(this.groups.get(group)?.values() ?? [])];
  }

  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  connectionCount(): number {
    const ids = new Set<string>();
    for (const members of this.groups.values()) for (const id of members.keys()) ids.add(id);
    return ids.size;
  }
}
