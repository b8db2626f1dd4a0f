// Subscription groups (protocol.md §3.1, §3.8): the consumer-group table the dashboard lists,
// auto-created on first use when allowed, persisted as subscriptionGroup.json.

import { parseBodyJson, writeBodyJson } from '../protocol/index.js';
import type { ConfigFiles } from './config-files.js';
import { PRECREATED_GROUPS } from './constants.js';
import { type DataVersion, initialDataVersion, nextDataVersion } from './data-version.js';

export interface SubscriptionGroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  consumeBroadcastEnable: boolean;
  retryQueueNums: number;
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
  notifyConsumerIdsChangedEnable: boolean;
}

export const SUBSCRIPTION_GROUP_FILE = 'subscriptionGroup.json';

export function defaultSubscriptionGroup(groupName: string): SubscriptionGroupConfig {
  return {
    groupName,
    consumeEnable: true,
    consumeFromMinEnable: true,
    consumeBroadcastEnable: true,
    retryQueueNums: 1,
    retryMaxTimes: 16,
    brokerId: 0,
    whichBrokerWhenConsumeSlowly: 1,
    notifyConsumerIdsChangedEnable: true,
  };
}

/** A SubscriptionGroupConfig from JSON, Java defaults for absent fields; throws without a name. */
export function subscriptionGroupFromJson(raw: Record<string, unknown>): SubscriptionGroupConfig {
  const name = raw.groupName;
  if (typeof name !== 'string' || name === '') throw new Error('subscription group config without groupName');
  const d = defaultSubscriptionGroup(name);
  const bool = (v: unknown, def: boolean) =>
    v === undefined || v === null ? def : v === true || v === 'true';
  const num = (v: unknown, def: number) => {
    if (v === undefined || v === null) return def;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`subscription group config: not a number: ${String(v)}`);
    return n;
  };
  return {
    groupName: name,
    consumeEnable: bool(raw.consumeEnable, d.consumeEnable),
    consumeFromMinEnable: bool(raw.consumeFromMinEnable, d.consumeFromMinEnable),
    consumeBroadcastEnable: bool(raw.consumeBroadcastEnable, d.consumeBroadcastEnable),
    retryQueueNums: num(raw.retryQueueNums, d.retryQueueNums),
    retryMaxTimes: num(raw.retryMaxTimes, d.retryMaxTimes),
    brokerId: num(raw.brokerId, d.brokerId),
    whichBrokerWhenConsumeSlowly: num(raw.whichBrokerWhenConsumeSlowly, d.whichBrokerWhenConsumeSlowly),
    notifyConsumerIdsChangedEnable: bool(
      raw.notifyConsumerIdsChangedEnable,
      d.notifyConsumerIdsChangedEnable,
    ),
  };
}

export class SubscriptionGroupManager {
  private readonly table = new Map<string, SubscriptionGroupConfig>();
  private version: DataVersion;
  private readonly files: ConfigFiles;
  private readonly autoCreate: () => boolean;
  private readonly retryMaxTimesOfNewGroups: () => number;

  /** `retryMaxTimesOfNewGroups`: retryMaxTimes of groups created on first use (broker `maxReconsumeTimes`). */
  constructor(
    autoCreate: boolean | (() => boolean),
    files: ConfigFiles,
    now: number,
    retryMaxTimesOfNewGroups = () => 16,
  ) {
    this.autoCreate = typeof autoCreate === 'function' ? autoCreate : () => autoCreate;
    this.retryMaxTimesOfNewGroups = retryMaxTimesOfNewGroups;
    this.files = files;
    this.version = initialDataVersion(now);
    for (const group of PRECREATED_GROUPS) this.table.set(group, defaultSubscriptionGroup(group));
  }

  get dataVersion(): DataVersion {
    return { ...this.version };
  }

  async load(): Promise<void> {
    const text = await this.files.read(SUBSCRIPTION_GROUP_FILE);
    if (text === null || text.trim() === '') return;
    const parsed = parseBodyJson(text, { largeIntegers: 'number' }) as {
      dataVersion?: { counter?: number; timestamp?: number };
      subscriptionGroupTable?: Record<string, Record<string, unknown>>;
    };
    for (const [name, raw] of Object.entries(parsed.subscriptionGroupTable ?? {})) {
      const config = subscriptionGroupFromJson({ groupName: name, ...raw });
      this.table.set(config.groupName, config);
    }
    if (parsed.dataVersion) {
      this.version = {
        counter: Number(parsed.dataVersion.counter ?? 0),
        timestamp: Number(parsed.dataVersion.timestamp ?? this.version.timestamp),
      };
    }
  }

  get(group: string): SubscriptionGroupConfig | undefined {
    return this.table.get(group);
  }

  groups(): IterableIterator<SubscriptionGroupConfig> {
    return this.table.values();
  }

  /** The group, created with defaults when auto-creation is on; undefined otherwise. */
  async findOrCreate(group: string, now: number): Promise<SubscriptionGroupConfig | undefined> {
    const existing = this.table.get(group);
    if (existing || !this.autoCreate()) return existing;
    const config = { ...defaultSubscriptionGroup(group), retryMaxTimes: this.retryMaxTimesOfNewGroups() };
    this.table.set(group, config);
    this.version = nextDataVersion(this.version, now);
    await this.persist();
    return config;
  }

  async update(config: SubscriptionGroupConfig, now: number): Promise<void> {
    this.table.set(config.groupName, { ...config });
    this.version = nextDataVersion(this.version, now);
    await this.persist();
  }

  async delete(group: string, now: number): Promise<boolean> {
    if (!this.table.delete(group)) return false;
    this.version = nextDataVersion(this.version, now);
    await this.persist();
    return true;
  }

  wrapper(): { subscriptionGroupTable: Record<string, SubscriptionGroupConfig>; dataVersion: DataVersion } {
    return { subscriptionGroupTable: Object.fromEntries(this.table), dataVersion: this.dataVersion };
  }

  async persist(): Promise<void> {
    await this.files.write(SUBSCRIPTION_GROUP_FILE, writeBodyJson(this.wrapper()));
  }
}
