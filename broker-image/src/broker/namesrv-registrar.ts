// Keeps every configured name server informed (protocol.md §2.2): REGISTER_BROKER at start,
// every registerNameServerPeriod, and soon after any topic change (changes in a burst are
// coalesced into one registration); UNREGISTER_BROKER on shutdown.

import { crc32 } from 'node:zlib';
import type { Logger } from '../common/index.js';
import { createRequest, encodeBodyJson, NamesrvRequestCode, ResponseCode } from '../protocol/index.js';
import type { RemotingClient } from '../remoting/index.js';
import type { DataVersion } from './data-version.js';
import type { TopicConfig } from './topic-config-manager.js';

export interface RegistrarIdentity {
  clusterName: string;
  brokerName: string;
  brokerId: number;
  brokerAddr: string;
  haServerAddr: string;
}

export interface RegistrarOptions {
  identity: RegistrarIdentity;
  namesrvAddrs: () => string[];
  client: RemotingClient;
  logger: Logger;
  /** The topic table to publish (already masked by the broker permission). */
  topicWrapper: () => { dataVersion: DataVersion; topicConfigTable: Record<string, TopicConfig> };
  periodMs: number;
  timeoutMs?: number;
}

export class NamesrvRegistrar {
  private readonly options: RegistrarOptions;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Name servers whose last registration failed (logged once per failure streak). */
  private readonly failing = new Set<string>();

  constructor(options: RegistrarOptions) {
    this.options = options;
  }

  /** Registers once (awaited) and starts the periodic registration. */
  async start(): Promise<void> {
    await this.registerAll();
    const period = Math.min(60_000, Math.max(10_000, this.options.periodMs));
    this.timer = setInterval(() => this.requestRegistration(), period);
    this.timer.unref();
  }

  /** Asks for a registration soon; concurrent asks collapse into one follow-up registration. */
  requestRegistration(): void {
    if (this.stopped) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = this.registerAll().finally(() => {
      this.inFlight = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.requestRegistration();
      }
    });
  }

  /** Waits for any registration in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /** Registers with every name server in parallel; failures are logged, never thrown. */
  async registerAll(): Promise<void> {
    const { identity, client, logger } = this.options;
    const wrapper = this.options.topicWrapper();
    const body = encodeBodyJson({ filterServerList: [], topicConfigSerializeWrapper: wrapper });
    const extFields = {
      brokerName: identity.brokerName,
      brokerAddr: identity.brokerAddr,
      clusterName: identity.clusterName,
      haServerAddr: identity.haServerAddr,
      brokerId: String(identity.brokerId),
      compressed: 'false',
      bodyCrc32: String(crc32(body) & 0x7fffffff),
    };
    await Promise.all(
      this.options.namesrvAddrs().map(async (addr) => {
        try {
          const response = await client.invoke(
            addr,
            createRequest(NamesrvRequestCode.REGISTER_BROKER, { extFields, body }),
            this.options.timeoutMs ?? 6000,
          );
          if (response.code !== ResponseCode.SUCCESS)
            throw new Error(`code ${response.code}: ${response.remark ?? ''}`);
          if (this.failing.delete(addr)) logger.info('registered with name server again', { namesrv: addr });
        } catch (err) {
          if (!this.failing.has(addr)) {
            this.failing.add(addr);
            logger.warn('register to name server failed; will retry', {
              namesrv: addr,
              error: (err as Error).message,
            });
          }
        }
      }),
    );
  }

  /** Stops periodic registration and unregisters from every name server. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.idle();
    const { identity, client, logger } = this.options;
    await Promise.all(
      this.options.namesrvAddrs().map(async (addr) => {
        try {
          await client.invoke(
            addr,
            createRequest(NamesrvRequestCode.UNREGISTER_BROKER, {
              extFields: {
                brokerName: identity.brokerName,
                brokerAddr: identity.brokerAddr,
                clusterName: identity.clusterName,
                brokerId: String(identity.brokerId),
              },
            }),
            3000,
          );
        } catch (err) {
          logger.warn('unregister from name server failed', { namesrv: addr, error: (err as Error).message });
        }
      }),
    );
  }
}
