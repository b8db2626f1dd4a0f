// The parts of a topic route shared by the name server (which serves it) and the client (which reads
// it): GET_ROUTEINFO_BY_TOPIC body entries, protocol.md §2.4.

/** One broker's queues of a topic. */
export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

/** One broker set (master and slaves sharing a broker name). */
export interface BrokerData {
  cluster: string;
  brokerName: string;
  /** brokerId (decimal string) → "ip:port"; "0" is the master. */
  brokerAddrs: Record<string, string>;
}
