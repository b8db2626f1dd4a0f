// DataVersion: how a broker tells the name server its topic table changed (protocol.md §2.2).

export interface DataVersion {
  counter: number;
  timestamp: number;
}

export function initialDataVersion(now: number): DataVersion {
  return { counter: 0, timestamp: now };
}

export function nextDataVersion(current: DataVersion, now: number): DataVersion {
  return { counter: current.counter + 1, timestamp: now };
}
