import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { OperatorMetrics } from './metrics.js';

/** Alertmanager's webhook body (version 4), the fields we read. */
export interface AlertmanagerWebhook {
  version?: string;
  status?: 'firing' | 'resolved';
  receiver?: string;
  groupLabels?: Record<string, string>;
  commonLabels?: Record<string, string>;
  alerts: Array<{
    status?: 'firing' | 'resolved';
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    startsAt?: string;
    endsAt?: string;
  }>;
}

export type AlertHandler = (payload: AlertmanagerWebhook) => void | Promise<void>;

type Check = () => boolean | Promise<boolean>;

export interface OperatorHttpServerOptions {
  metrics: OperatorMetrics;
  /** /healthz: the process is alive and not wedged. Default: always. */
  healthy?: Check;
  /** /readyz: caches synced, can serve. Default: always. */
  ready?: Check;
}

function isWebhook(body: unknown): body is AlertmanagerWebhook {
  return (
    typeof body === 'object' &&
    body !== null &&
    Array.isArray((body as { alerts?: unknown }).alerts) &&
    (body as { alerts: unknown[] }).alerts.every((a) => typeof a === 'object' && a !== null)
  );
}

/** `/metrics`, `/healthz`, `/readyz`, and `POST /alerts` once a handler is mounted. */
export class OperatorHttpServer {
  readonly app = express();
  private server: Server | undefined;
  private alertHandler: AlertHandler | undefined;
  private alertToken: string | undefined;

  constructor(opts: OperatorHttpServerOptions) {
    this.app.disable('x-powered-by');
    this.app.get('/metrics', async (_req, res) => {
      res.type(opts.metrics.contentType).send(await opts.metrics.render());
    });
    this.app.get('/healthz', (_req, res, next) => this.check(opts.healthy, res).catch(next));
    this.app.get('/readyz', (_req, res, next) => this.check(opts.ready, res).catch(next));
    this.app.post('/alerts', express.json({ limit: '1mb' }), async (req, res) => {
      if (!this.alertHandler) {
        res.status(404).type('text').send('no alert handler mounted\n');
        return;
      }
      if (this.alertToken && req.get('authorization') !== `Bearer ${this.alertToken}`) {
        res.status(401).type('text').send('missing or wrong bearer token\n');
        return;
      }
      if (!isWebhook(req.body)) {
        res.status(400).type('text').send('expected an Alertmanager webhook body with an "alerts" array\n');
        return;
      }
      await this.alertHandler(req.body);
      res.status(202).json({ accepted: req.body.alerts.length });
    });
    // Malformed JSON and handler failures: a short message, never a stack trace.
    this.app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      const status =
        typeof (err as { status?: unknown })?.status === 'number' ? (err as { status: number }).status : 500;
      const message = status < 500 && err instanceof Error ? err.message : 'internal error';
      res.status(status).type('text').send(`${message}\n`);
    });
  }

  /** Lets later code (the autoscaler) receive Alertmanager webhooks on `POST /alerts`. */
  mountAlerts(handler: AlertHandler, opts: { bearerToken?: string } = {}): void {
    this.alertHandler = handler;
    this.alertToken = opts.bearerToken;
  }

  private async check(check: Check | undefined, res: Response): Promise<void> {
    const ok = check ? await check() : true;
    res
      .status(ok ? 200 : 503)
      .type('text')
      .send(ok ? 'ok\n' : 'not ready\n');
  }

  /** Starts listening; port 0 picks a free port. */
  listen(port: number, host = '0.0.0.0'): Promise<AddressInfo> {
    if (this.server) throw new Error('http server already listening');
    return new Promise((resolve, reject) => {
      const server = this.app.listen(port, host, (err?: Error) => {
        if (err) reject(err);
        else resolve(server.address() as AddressInfo);
      });
      server.once('error', reject);
      this.server = server;
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  }
}
