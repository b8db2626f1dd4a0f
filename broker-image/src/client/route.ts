// Topic routes from the name server (protocol.md §2.4) and the queue lists producers and consumers
// derive from them (§8.2, §8.3).

import type { BrokerData, QueueData } from '../protocol/index.js';
import type { MessageQueue } from './message.js';

export type { BrokerData, QueueData };

export const Perm = { PRIORITY: 8, READ: 4, WRITE: 2, INHERIT: 1 } as const;

export interface TopicRouteData {
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
  orderTopicConf?: string;
}

export const MASTER_ID = '0';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(value: unknown, field: string): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new Error(`route field ${field} is not an integer`);
  return n;
}

function str(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new Error(`route field ${field} is not a string`);
  return value;
}

/** Validates a parsed GET_ROUTEINFO_BY_TOPIC body; keys of brokerAddrs may be numbers or strings. */
export function parseTopicRoute(json: unknown): TopicRouteData {
  if (!isRecord(json)) throw new Error('route body is not an object');
  const queueDatas = Array.isArray(json.queueDatas) ? json.queueDatas : [];
  const brokerDatas = Array.isArray(json.brokerDatas) ? json.brokerDatas : [];
  const route: TopicRouteData = {
    queueDatas: queueDatas.map((q: unknown) => {
      if (!isRecord(q)) throw new Error('route queueData is not an object');
      return {
        brokerName: str(q.brokerName, 'brokerName'),
        readQueueNums: num(q.readQueueNums, 'readQueueNums'),
        writeQueueNums: num(q.writeQueueNums, 'writeQueueNums'),
        perm: num(q.perm, 'perm'),
        topicSysFlag: q.topicSysFlag === undefined ? 0 : num(q.topicSysFlag, 'topicSysFlag'),
      };
    }),
    brokerDatas: brokerDatas.map((b: unknown) => {
      if (!isRecord(b)) throw new Error('route brokerData is not an object');
      const addrs: Record<string, string> = {};
      if (isRecord(b.brokerAddrs)) {
        for (const [id, addr] of Object.entries(b.brokerAddrs)) addrs[String(id)] = str(addr, 'brokerAddrs');
      }
      return {
        cluster: typeof b.cluster === 'string' ? b.cluster : '',
        brokerName: str(b.brokerName, 'brokerName'),
        brokerAddrs: addrs,
      };
    }),
  };
  if (typeof json.orderTopicConf === 'string' && json.orderTopicConf.length > 0) {
    route.orderTopicConf = json.orderTopicConf;
  }
  return route;
}

export function masterAddress(route: TopicRouteData, brokerName: string): string | undefined {
  return route.brokerDatas.find((b) => b.brokerName === brokerName)?.brokerAddrs[MASTER_ID];
}

/** Every broker address of the route (masters and slaves). */
export function allBrokerAddresses(route: TopicRouteData): string[] {
  return route.brokerDatas.flatMap((b) => Object.values(b.brokerAddrs));
}

const byBrokerName = (a: { brokerName: string }, b: { brokerName: string }) =>
  a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0;

/** Producer queue list: writable queue data with a master, sorted by broker name (or orderTopicConf). */
export function publishQueues(topic: string, route: TopicRouteData): MessageQueue[] {
  const out: MessageQueue[] = [];
  if (route.orderTopicConf) {
    for (const entry of route.orderTopicConf.split(';')) {
      const [brokerName, count] = entry.split(':');
      const n = Number(count);
      if (!brokerName || !Number.isInteger(n)) continue;
      for (let queueId = 0; queueId < n; queueId++) out.push({ topic, brokerName, queueId });
    }
    return out;
  }
  for (const qd of [...route.queueDatas].sort(byBrokerName)) {
    if ((qd.perm & Perm.WRITE) === 0) continue;
    if (!masterAddress(route, qd.brokerName)) continue;
    for (let queueId = 0; queueId < qd.writeQueueNums; queueId++)
      out.push({ topic, brokerName: qd.brokerName, queueId });
  }
  return out;
}

/** Consumer queue list: every readable queue of the route. */
export function subscribeQueues(topic: string, route: TopicRouteData): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const qd of route.queueDatas) {
    if ((qd.perm & Perm.READ) === 0) continue;
    for (let queueId = 0; queueId < qd.readQueueNums; queueId++)
      out.push({ topic, brokerName: qd.brokerName, queueId });
  }
  return out;
}

/** The TBW102 route reshaped for a topic that does not exist yet (auto-create, §8.2). */
export function routeFromDefaultTopic(
  defaultRoute: TopicRouteData,
  defaultTopicQueueNums: number,
): TopicRouteData {
  return {
    brokerDatas: defaultRoute.brokerDatas,
    queueDatas: defaultRoute.queueDatas.map((qd) => {
      const n = Math.min(defaultTopicQueueNums, qd.readQueueNums);
      return { ...qd, readQueueNums: n, writeQueueNums: n };
    }),
  };
}

/** Equality used to decide whether a refreshed route changed anything. */
export function sameRoute(a: TopicRouteData | undefined, b: TopicRouteData): boolean {
  if (!a) return false;
  const norm = (r: TopicRouteData) =>
    JSON.stringify({
      q: [...r.queueDatas].sort(byBrokerName),
      b: [...r.brokerDatas]
        .sort(byBrokerName)
        .map((x) => ({ ...x, brokerAddrs: Object.entries(x.brokerAddrs).sort() })),
      o: r.orderTopicConf ?? '',
    });
  return norm(a) === norm(b);
}
