// BrokerAdmin over the project's TypeScript RocketMQ admin client (the operator's only edge into
// broker-image: client, protocol, remoting). One AdminClient serves every cluster: all calls here
// address a broker or name server directly.
import { AdminClient, MQBrokerError } from '../../../broker-image/src/client/index.js';
import {
  BrokerRequestCode,
  createRequest,
  NamesrvRequestCode,
  ResponseCode,
} from '../../../broker-image/src/protocol/index.js';
import {
  RemotingClient,
  RemotingError,
  type RemotingLogger,
} from '../../../broker-image/src/remoting/index.js';
import type { BrokerEndpoint, BrokerGroupConfig, BrokerTopicConfig } from '../desired/index.js';
import { type BrokerAdmin, BrokerCallError, type ClusterTarget } from './ports.js';

export interface RocketMqAdminOptions {
  /** Per call, connecting included. Default 3000 ms. */
  requestTimeoutMs?: number;
  logger?: RemotingLogger;
}

/** MQBrokerError = the server answered; RemotingError = no answer (refused, timeout, DNS, closed). */
function wrap(what: string, err: unknown): BrokerCallError {
  if (err instanceof BrokerCallError) return err;
  if (err instanceof MQBrokerError) {
    return new BrokerCallError(
      `${what} refused: code ${err.code}${err.remark ? ` (${err.remark})` : ''}`,
      false,
    );
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new BrokerCallError(`${what}: ${reason}`, err instanceof RemotingError || isSocketError(err));
}

function isSocketError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  return [
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EHOSTUNREACH',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EPIPE',
  ].includes(code);
}

export class RocketMqAdmin implements BrokerAdmin {
  private readonly admin: AdminClient;
  /** DELETE_TOPIC_IN_BROKER/NAMESRV to one address; AdminClient only deletes cluster-wide so far. */
  private readonly remoting: RemotingClient;
  private readonly timeoutMs: number;

  constructor(options: RocketMqAdminOptions = {}) {
    this.timeoutMs = options.requestTimeoutMs ?? 3000;
    this.admin = new AdminClient({ requestTimeoutMs: this.timeoutMs, logger: options.logger });
    this.remoting = new RemotingClient({
      connectTimeoutMs: this.timeoutMs,
      logger: options.logger,
      name: 'operator-admin',
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.admin.close(), this.remoting.close()]);
  }

  private async call<R>(what: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      throw wrap(what, err);
    }
  }

  /** One request to `address`; non-success codes become MQBrokerError. */
  private async invoke(address: string, code: number, extFields: Record<string, string>): Promise<void> {
    const response = await this.remoting.invoke(address, createRequest(code, { extFields }), this.timeoutMs);
    if (response.code !== ResponseCode.SUCCESS)
      throw new MQBrokerError(response.code, response.remark, address);
  }

  createOrUpdateTopic(broker: BrokerEndpoint, config: BrokerTopicConfig): Promise<void> {
    return this.call(`create topic ${config.topicName}`, () =>
      this.admin.createOrUpdateTopic(broker.address, config),
    );
  }

  deleteTopic(broker: BrokerEndpoint, topic: string): Promise<void> {
    return this.call(`delete topic ${topic}`, () =>
      this.invoke(broker.address, BrokerRequestCode.DELETE_TOPIC_IN_BROKER, { topic }),
    );
  }

  async deleteTopicRoute(cluster: ClusterTarget, topic: string): Promise<void> {
    for (const ns of cluster.nameServers) {
      await this.call(`delete route of ${topic}`, () =>
        this.invoke(ns, NamesrvRequestCode.DELETE_TOPIC_IN_NAMESRV, {
          topic,
          clusterName: cluster.clusterName,
        }),
      );
    }
  }

  createOrUpdateGroup(broker: BrokerEndpoint, config: BrokerGroupConfig): Promise<void> {
    return this.call(`create subscription group ${config.groupName}`, () =>
      this.admin.createOrUpdateSubscriptionGroup(broker.address, config),
    );
  }

  deleteGroup(broker: BrokerEndpoint, groupName: string): Promise<void> {
    return this.call(`delete subscription group ${groupName}`, () =>
      this.admin.deleteSubscriptionGroup(broker.address, groupName, true),
    );
  }
}
