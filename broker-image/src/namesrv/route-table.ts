// The name server's routing state (protocol.md §2): clusters, brokers, per-topic queue data and
// broker liveness. Pure state: no sockets, no timers — every time-dependent call takes `now`.

import type { BrokerData, QueueData } from '../protocol/index.js';

export type { BrokerData, QueueData };

export interface DataVersion {
  counter: number;
  timestamp: number;
}

/** A broker's topic config as carried in REGISTER_BROKER (TopicConfig, protocol.md §3.1). */
export interface RegisteredTopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType?: string;
  topicSysFlag?: number;
  order?: boolean;
}

export interface TopicRouteData {
  orderTopicConf?: string;
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
  filterServerTable: Record<string, string[]>;
}

export interface ClusterInfo {
  brokerAddrTable: Record<string, BrokerData>;
  clusterAddrTable: Record<string, string[]>;
}

export interface BrokerRegistration {
  clusterName: string;
  brokerAddr: string;
  brokerName: string;
  brokerId: number;
  haServerAddr: string;
  /** Absent or null = "no topics, DataVersion {0,0}". */
  dataVersion?: DataVersion | null;
  topicConfigTable?: Record<string, RegisteredTopicConfig> | null;
  filterServerList?: string[];
  /** Opaque id of the connection the registration came over (for removal on close). */
  connectionId?: string | number;
}

export interface RegisterResult {
  /** For slaves: the master's HA address and address; empty for masters. */
  haServerAddr: string;
  masterAddr: string;
}

interface BrokerLiveInfo {
  lastUpdateTimestamp: number;
  dataVersion: DataVersion;
  connectionId: string | number | undefined;
  haServerAddr: string;
  clusterName: string;
  brokerName: string;
}

/** Topic sysFlag unit bits (TopicSysFlag): bit 0 = unit topic, bit 1 = has unit subscription. */
const FLAG_UNIT = 0x1;
const FLAG_UNIT_SUB = 0x2;
const PERM_WRITE = 0x2;
const PERM_READ = 0x4;

function sameVersion(a: DataVersion, b: DataVersion): boolean {
  return a.counter === b.counter && a.timestamp === b.timestamp;
}

export class RouteTable {
  private readonly clusterAddrTable = new Map<string, Set<string>>();
  private readonly brokerAddrTable = new Map<string, BrokerData>();
  private readonly topicQueueTable = new Map<string, Map<string, QueueData>>();
  private readonly brokerLiveTable = new Map<string, BrokerLiveInfo>();
  private readonly filterServerTable = new Map<string, string[]>();

  registerBroker(reg: BrokerRegistration, now: number): RegisterResult {
    const dataVersion = reg.dataVersion ?? { counter: 0, timestamp: 0 };
    let names = this.clusterAddrTable.get(reg.clusterName);
    if (!names) {
      names = new Set();
      this.clusterAddrTable.set(reg.clusterName, names);
    }
    names.add(reg.brokerName);

    let firstRegistration = false;
    let brokerData = this.brokerAddrTable.get(reg.brokerName);
    if (!brokerData) {
      firstRegistration = true;
      brokerData = { cluster: reg.clusterName, brokerName: reg.brokerName, brokerAddrs: {} };
      this.brokerAddrTable.set(reg.brokerName, brokerData);
    }
    // One address maps to one id: a broker switching role (slave → master) must not linger under its old id.
    for (const [id, addr] of Object.entries(brokerData.brokerAddrs)) {
      if (addr === reg.brokerAddr && Number(id) !== reg.brokerId) delete brokerData.brokerAddrs[id];
    }
    const previous = brokerData.brokerAddrs[String(reg.brokerId)];
    brokerData.brokerAddrs[String(reg.brokerId)] = reg.brokerAddr;
    firstRegistration ||= previous === undefined;

    const oldLive = this.brokerLiveTable.get(reg.brokerAddr);
    if (reg.brokerId === 0) {
      const changed = !oldLive || !sameVersion(oldLive.dataVersion, dataVersion);
      if (firstRegistration || changed) this.replaceQueueData(reg.brokerName, reg.topicConfigTable ?? {});
    }

    this.brokerLiveTable.set(reg.brokerAddr, {
      lastUpdateTimestamp: now,
      dataVersion: { ...dataVersion },
      connectionId: reg.connectionId,
      haServerAddr: reg.haServerAddr,
      clusterName: reg.clusterName,
      brokerName: reg.brokerName,
    });
    if (reg.filterServerList && reg.filterServerList.length > 0) {
      this.filterServerTable.set(reg.brokerAddr, [...reg.filterServerList]);
    } else {
      this.filterServerTable.delete(reg.brokerAddr);
    }

    const result: RegisterResult = { haServerAddr: '', masterAddr: '' };
    if (reg.brokerId !== 0) {
      const masterAddr = brokerData.brokerAddrs['0'];
      if (masterAddr) {
        result.masterAddr = masterAddr;
        result.haServerAddr = this.brokerLiveTable.get(masterAddr)?.haServerAddr ?? '';
      }
    }
    return result;
  }

  /** Rebuilds a master's queue data from its full topic config table. */
  private replaceQueueData(brokerName: string, topics: Record<string, RegisteredTopicConfig>): void {
    for (const [topic, queues] of this.topicQueueTable) {
      if (queues.has(brokerName) && !(topic in topics)) {
        queues.delete(brokerName);
        if (queues.size === 0) this.topicQueueTable.delete(topic);
      }
    }
    for (const [topic, cfg] of Object.entries(topics)) {
      const name = cfg.topicName || topic;
      let queues = this.topicQueueTable.get(name);
      if (!queues) {
        queues = new Map();
        this.topicQueueTable.set(name, queues);
      }
      queues.set(brokerName, {
        brokerName,
        readQueueNums: cfg.readQueueNums,
        writeQueueNums: cfg.writeQueueNums,
        perm: cfg.perm,
        topicSysFlag: cfg.topicSysFlag ?? 0,
      });
    }
  }

  /** QUERY_DATA_VERSION: true when the broker's version differs; refreshes liveness when it does not. */
  queryDataVersion(
    brokerAddr: string,
    dataVersion: DataVersion,
    now: number,
  ): { changed: boolean; stored: DataVersion | null } {
    const live = this.brokerLiveTable.get(brokerAddr);
    if (!live) return { changed: true, stored: null };
    const changed = !sameVersion(live.dataVersion, dataVersion);
    if (!changed) live.lastUpdateTimestamp = now;
    return { changed, stored: { ...live.dataVersion } };
  }

  unregisterBroker(clusterName: string, brokerAddr: string, brokerName: string, brokerId: number): void {
    this.brokerLiveTable.delete(brokerAddr);
    this.filterServerTable.delete(brokerAddr);
    const brokerData = this.brokerAddrTable.get(brokerName);
    let brokerNameGone = false;
    if (brokerData) {
      const key = String(brokerId);
      if (brokerData.brokerAddrs[key] === brokerAddr) delete brokerData.brokerAddrs[key];
      if (Object.keys(brokerData.brokerAddrs).length === 0) {
        this.brokerAddrTable.delete(brokerName);
        brokerNameGone = true;
      }
    }
    if (brokerNameGone) {
      const names = this.clusterAddrTable.get(clusterName);
      if (names) {
        names.delete(brokerName);
        if (names.size === 0) this.clusterAddrTable.delete(clusterName);
      }
      this.removeQueueDataOf(brokerName);
    }
  }

  private removeQueueDataOf(brokerName: string): void {
    for (const [topic, queues] of this.topicQueueTable) {
      queues.delete(brokerName);
      if (queues.size === 0) this.topicQueueTable.delete(topic);
    }
  }

  /** Drops the broker address registered over a closed connection. Returns the addresses removed. */
  onConnectionClosed(connectionId: string | number): string[] {
    const removed: string[] = [];
    for (const [addr, live] of this.brokerLiveTable) {
      if (live.connectionId === connectionId) removed.push(addr);
    }
    for (const addr of removed) this.removeBrokerAddr(addr);
    return removed;
  }

  /** Drops brokers whose last registration is older than `expiryMillis`. Returns the addresses removed. */
  expire(now: number, expiryMillis = 120_000): string[] {
    const removed: string[] = [];
    for (const [addr, live] of this.brokerLiveTable) {
      if (live.lastUpdateTimestamp + expiryMillis < now) removed.push(addr);
    }
    for (const addr of removed) this.removeBrokerAddr(addr);
    return removed;
  }

  private removeBrokerAddr(addr: string): void {
    const live = this.brokerLiveTable.get(addr);
    if (live) {
      const data = this.brokerAddrTable.get(live.brokerName);
      const id = data ? Object.entries(data.brokerAddrs).find(([, a]) => a === addr)?.[0] : undefined;
      this.unregisterBroker(live.clusterName, addr, live.brokerName, id === undefined ? -1 : Number(id));
      return;
    }
    // Not live but still listed (should not happen): clean the address tables.
    for (const [name, data] of this.brokerAddrTable) {
      for (const [id, a] of Object.entries(data.brokerAddrs)) {
        if (a === addr) this.unregisterBroker(data.cluster, addr, name, Number(id));
      }
    }
  }

  getRoute(topic: string, orderTopicConf?: string): TopicRouteData | null {
    const queues = this.topicQueueTable.get(topic);
    if (!queues || queues.size === 0) return null;
    const queueDatas: QueueData[] = [];
    const brokerDatas: BrokerData[] = [];
    const filterServerTable: Record<string, string[]> = {};
    for (const qd of queues.values()) {
      queueDatas.push({ ...qd });
      const bd = this.brokerAddrTable.get(qd.brokerName);
      if (!bd) continue;
      brokerDatas.push({
        cluster: bd.cluster,
        brokerName: bd.brokerName,
        brokerAddrs: { ...bd.brokerAddrs },
      });
      for (const addr of Object.values(bd.brokerAddrs)) {
        const servers = this.filterServerTable.get(addr);
        if (servers) filterServerTable[addr] = [...servers];
      }
    }
    if (brokerDatas.length === 0) return null;
    queueDatas.sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
    brokerDatas.sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
    const route: TopicRouteData = { queueDatas, brokerDatas, filterServerTable };
    if (orderTopicConf) route.orderTopicConf = orderTopicConf;
    return route;
  }

  clusterInfo(): ClusterInfo {
    const brokerAddrTable: Record<string, BrokerData> = {};
    for (const [name, bd] of this.brokerAddrTable) {
      brokerAddrTable[name] = {
        cluster: bd.cluster,
        brokerName: bd.brokerName,
        brokerAddrs: { ...bd.brokerAddrs },
      };
    }
    const clusterAddrTable: Record<string, string[]> = {};
    for (const [cluster, names] of this.clusterAddrTable) clusterAddrTable[cluster] = [...names].sort();
    return { brokerAddrTable, clusterAddrTable };
  }

  /** Every topic that has queue data (GET_ALL_TOPIC_LIST_FROM_NAMESERVER). */
  allTopics(): string[] {
    return [...this.topicQueueTable.keys()];
  }

  /** Topics with queue data on any broker of the cluster (GET_TOPICS_BY_CLUSTER). */
  topicsByCluster(cluster: string): string[] {
    const names = this.clusterAddrTable.get(cluster);
    if (!names) return [];
    const out: string[] = [];
    for (const [topic, queues] of this.topicQueueTable) {
      for (const name of queues.keys()) {
        if (names.has(name)) {
          out.push(topic);
          break;
        }
      }
    }
    return out;
  }

  /** GET_SYSTEM_TOPIC_LIST_FROM_NS: cluster and broker names, plus any one broker address. */
  systemTopicList(): { topicList: string[]; brokerAddr?: string } {
    const topics = new Set<string>();
    for (const [cluster, names] of this.clusterAddrTable) {
      topics.add(cluster);
      for (const n of names) topics.add(n);
    }
    let brokerAddr: string | undefined;
    for (const bd of this.brokerAddrTable.values()) {
      const first = Object.values(bd.brokerAddrs)[0];
      if (first) {
        brokerAddr = first;
        break;
      }
    }
    return brokerAddr === undefined ? { topicList: [...topics] } : { topicList: [...topics], brokerAddr };
  }

  /** GET_UNIT_TOPIC_LIST and friends: topics whose (every) queue data matches the unit flags. */
  unitTopics(kind: 'unit' | 'hasUnitSub' | 'hasUnitSubUnUnit'): string[] {
    const out: string[] = [];
    for (const [topic, queues] of this.topicQueueTable) {
      const first = queues.values().next().value;
      if (!first) continue;
      const flag = first.topicSysFlag;
      const match =
        kind === 'unit'
          ? (flag & FLAG_UNIT) !== 0
          : kind === 'hasUnitSub'
            ? (flag & FLAG_UNIT_SUB) !== 0
            : (flag & FLAG_UNIT) === 0 && (flag & FLAG_UNIT_SUB) !== 0;
      if (match) out.push(topic);
    }
    return out;
  }

  /** DELETE_TOPIC_IN_NAMESRV: removes the topic, only from that cluster's brokers when given. */
  deleteTopic(topic: string, clusterName?: string): void {
    const queues = this.topicQueueTable.get(topic);
    if (!queues) return;
    if (!clusterName) {
      this.topicQueueTable.delete(topic);
      return;
    }
    const names = this.clusterAddrTable.get(clusterName);
    if (!names) return;
    for (const name of names) queues.delete(name);
    if (queues.size === 0) this.topicQueueTable.delete(topic);
  }

  /** WIPE_WRITE_PERM_OF_BROKER: clears the write bit; returns how many topics changed. */
  wipeWritePerm(brokerName: string): number {
    let count = 0;
    for (const queues of this.topicQueueTable.values()) {
      const qd = queues.get(brokerName);
      if (qd) {
        qd.perm &= ~PERM_WRITE;
        count++;
      }
    }
    return count;
  }

  /** ADD_WRITE_PERM_OF_BROKER: sets perm to read|write; returns how many topics changed. */
  addWritePerm(brokerName: string): number {
    let count = 0;
    for (const queues of this.topicQueueTable.values()) {
      const qd = queues.get(brokerName);
      if (qd) {
        qd.perm = PERM_READ | PERM_WRITE;
        count++;
      }
    }
    return count;
  }

  /** Live broker addresses with their last registration time (for metrics and health). */
  liveBrokers(): { addr: string; brokerName: string; clusterName: string; lastUpdateTimestamp: number }[] {
    return [...this.brokerLiveTable].map(([addr, live]) => ({
      addr,
      brokerName: live.brokerName,
      clusterName: live.clusterName,
      lastUpdateTimestamp: live.lastUpdateTimestamp,
    }));
  }
}
