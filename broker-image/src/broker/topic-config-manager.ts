// The broker's topic table (protocol.md §3.1): system topics, user topics, auto-creation from
// TBW102 on send, retry/DLQ topics, persisted as topics.json and versioned for the name server.

import { parseBodyJson, writeBodyJson } from '../protocol/index.js';
import type { ConfigFiles } from './config-files.js';
import {
  AUTO_CREATE_TOPIC_KEY_TOPIC,
  BENCHMARK_TOPIC,
  isInherited,
  OFFSET_MOVED_EVENT,
  Perm,
  REPLY_TOPIC_POSTFIX,
  SCHEDULE_QUEUE_NUMS,
  SCHEDULE_TOPIC,
  SELF_TEST_TOPIC,
} from './constants.js';
import { type DataVersion, initialDataVersion, nextDataVersion } from './data-version.js';

export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: 'SINGLE_TAG' | 'MULTI_TAG';
  topicSysFlag: number;
  order: boolean;
}

export interface TopicConfigSettings {
  brokerClusterName: string;
  brokerName: string;
  autoCreateTopicEnable: boolean;
  defaultTopicQueueNums: number;
  clusterTopicEnable: boolean;
  brokerTopicEnable: boolean;
  traceTopicEnable: boolean;
  msgTraceTopicName: string;
}

export const TOPICS_FILE = 'topics.json';

export function newTopicConfig(
  topicName: string,
  queues = 16,
  perm: number = Perm.READ | Perm.WRITE,
): TopicConfig {
  return {
    topicName,
    readQueueNums: queues,
    writeQueueNums: queues,
    perm,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: false,
  };
}

/** Accepts a TopicConfig from JSON (file, admin body) with Java's defaults for absent fields. */
export function topicConfigFromJson(raw: Record<string, unknown>, name?: string): TopicConfig {
  const queues = (v: unknown, d: number) => (v === undefined || v === null ? d : Number(v));
  return {
    topicName: String(raw.topicName ?? name ?? ''),
    readQueueNums: queues(raw.readQueueNums, 16),
    writeQueueNums: queues(raw.writeQueueNums, 16),
    perm: queues(raw.perm, Perm.READ | Perm.WRITE),
    topicFilterType: raw.topicFilterType === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG',
    topicSysFlag: queues(raw.topicSysFlag, 0),
    order: raw.order === true || raw.order === 'true',
  };
}

export class TopicConfigManager {
  private readonly table = new Map<string, TopicConfig>();
  private version: DataVersion;
  private readonly settings: TopicConfigSettings;
  private readonly files: ConfigFiles;
  private readonly onChange: () => void;

  constructor(
    settings: TopicConfigSettings,
    files: ConfigFiles,
    now: number,
    onChange: () => void = () => {},
  ) {
    this.settings = settings;
    this.files = files;
    this.onChange = onChange;
    this.version = initialDataVersion(now);
  }

  get dataVersion(): DataVersion {
    return { ...this.version };
  }

  /** Loads topics.json, then makes sure the system topics exist as configured. */
  async load(): Promise<void> {
    const text = await this.files.read(TOPICS_FILE);
    if (text !== null && text.trim() !== '') {
      const parsed = parseBodyJson(text, { largeIntegers: 'number' }) as {
        dataVersion?: { counter?: number; timestamp?: number };
        topicConfigTable?: Record<string, Record<string, unknown>>;
      };
      for (const [name, raw] of Object.entries(parsed.topicConfigTable ?? {})) {
        const config = topicConfigFromJson(raw, name);
        this.table.set(config.topicName, config);
      }
      if (parsed.dataVersion) {
        this.version = {
          counter: Number(parsed.dataVersion.counter ?? 0),
          timestamp: Number(parsed.dataVersion.timestamp ?? this.version.timestamp),
        };
      }
    }
    this.ensureSystemTopics();
  }

  private ensureSystemTopics(): void {
    const s = this.settings;
    const put = (config: TopicConfig) => {
      if (!this.table.has(config.topicName)) this.table.set(config.topicName, config);
    };
    put(newTopicConfig(SELF_TEST_TOPIC, 1));
    if (s.autoCreateTopicEnable) {
      // The template must reflect the current settings even if an older topics.json had another one.
      this.table.set(
        AUTO_CREATE_TOPIC_KEY_TOPIC,
        newTopicConfig(
          AUTO_CREATE_TOPIC_KEY_TOPIC,
          s.defaultTopicQueueNums,
          Perm.INHERIT | Perm.READ | Perm.WRITE,
        ),
      );
    } else {
      this.table.delete(AUTO_CREATE_TOPIC_KEY_TOPIC);
    }
    put(newTopicConfig(BENCHMARK_TOPIC, 1024));
    put(
      newTopicConfig(
        s.brokerClusterName,
        16,
        Perm.INHERIT | (s.clusterTopicEnable ? Perm.READ | Perm.WRITE : 0),
      ),
    );
    put(newTopicConfig(s.brokerName, 1, Perm.INHERIT | (s.brokerTopicEnable ? Perm.READ | Perm.WRITE : 0)));
    put(newTopicConfig(OFFSET_MOVED_EVENT, 1));
    put(newTopicConfig(SCHEDULE_TOPIC, SCHEDULE_QUEUE_NUMS));
    if (s.traceTopicEnable) put(newTopicConfig(s.msgTraceTopicName, 1));
    put(newTopicConfig(`${s.brokerClusterName}_${REPLY_TOPIC_POSTFIX}`, 1));
  }

  get(topic: string): TopicConfig | undefined {
    return this.table.get(topic);
  }

  has(topic: string): boolean {
    return this.table.has(topic);
  }

  topics(): IterableIterator<TopicConfig> {
    return this.table.values();
  }

  isOrderTopic(topic: string): boolean {
    return this.table.get(topic)?.order === true;
  }

  /**
   * Auto-creation on send: when `defaultTopic` exists with the inherit bit, create `topic` with
   * min(clientQueueNums, template write queues) queues and the template's perm minus inherit.
   * Returns the (new or existing) config, or undefined when the topic may not be created.
   */
  async createInSend(
    topic: string,
    defaultTopic: string,
    clientQueueNums: number,
    topicSysFlag: number,
    now: number,
  ) {
    const existing = this.table.get(topic);
    if (existing) return existing;
    const template = this.table.get(defaultTopic);
    if (!template || !isInherited(template.perm)) return undefined;
    const queues = Math.max(0, Math.min(clientQueueNums, template.writeQueueNums));
    if (queues <= 0) return undefined;
    const config: TopicConfig = {
      topicName: topic,
      readQueueNums: queues,
      writeQueueNums: queues,
      perm: template.perm & ~Perm.INHERIT,
      topicFilterType: template.topicFilterType,
      topicSysFlag,
      order: false,
    };
    await this.put(config, now);
    return config;
  }

  /** Creates a retry/DLQ-style topic if absent. */
  async createIfAbsent(topic: string, queues: number, perm: number, topicSysFlag: number, now: number) {
    const existing = this.table.get(topic);
    if (existing) return { config: existing, created: false };
    const config: TopicConfig = { ...newTopicConfig(topic, queues, perm), topicSysFlag };
    await this.put(config, now);
    return { config, created: true };
  }

  /** UPDATE_AND_CREATE_TOPIC: create or replace. */
  async update(config: TopicConfig, now: number): Promise<void> {
    await this.put({ ...config }, now);
  }

  async delete(topic: string, now: number): Promise<boolean> {
    if (!this.table.delete(topic)) return false;
    this.version = nextDataVersion(this.version, now);
    await this.persist();
    this.onChange();
    return true;
  }

  private async put(config: TopicConfig, now: number): Promise<void> {
    this.table.set(config.topicName, config);
    this.version = nextDataVersion(this.version, now);
    await this.persist();
    this.onChange();
  }

  /** TopicConfigSerializeWrapper, optionally with every perm masked by the broker permission. */
  wrapper(brokerPermission = Perm.READ | Perm.WRITE): {
    dataVersion: DataVersion;
    topicConfigTable: Record<string, TopicConfig>;
  } {
    const topicConfigTable: Record<string, TopicConfig> = {};
    const full = (brokerPermission & (Perm.READ | Perm.WRITE)) === (Perm.READ | Perm.WRITE);
    for (const [name, config] of this.table) {
      topicConfigTable[name] = full ? { ...config } : { ...config, perm: config.perm & brokerPermission };
    }
    return { dataVersion: this.dataVersion, topicConfigTable };
  }

  async persist(): Promise<void> {
    await this.files.write(TOPICS_FILE, writeBodyJson(this.wrapper()));
  }
}
