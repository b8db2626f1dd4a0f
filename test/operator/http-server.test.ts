import { afterEach, describe, expect, it } from 'vitest';
import {
  type AlertmanagerWebhook,
  OperatorHttpServer,
  OperatorMetrics,
} from '../../operator/src/http/index.js';

const servers: OperatorHttpServer[] = [];

async function start(opts: { ready?: () => boolean; healthy?: () => Promise<boolean> } = {}) {
  const metrics = new OperatorMetrics();
  const server = new OperatorHttpServer({ metrics, ...opts });
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { metrics, server, base: `http://127.0.0.1:${port}` };
}

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe('operator HTTP server', () => {
  it('serves Prometheus metrics from its own registry', async () => {
    const { metrics, base } = await start();
    metrics.reconciled('Topic', 'success', 0.01);
    metrics.registerQueue('topics', () => 4);
    metrics.setLeader(true);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('bolide_operator_reconciles_total{controller="Topic",result="success"} 1');
    expect(text).toContain('bolide_operator_workqueue_depth{name="topics"} 4');
    expect(text).toContain('bolide_operator_leader 1');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('answers health and readiness from the checks it was given', async () => {
    let ready = false;
    const { base } = await start({ ready: () => ready, healthy: async () => true });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toBe('not ready\n');
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('accepts Alertmanager webhooks once a handler is mounted, and rejects bad bodies clearly', async () => {
    const { server, base } = await start();
    const body: AlertmanagerWebhook = {
      version: '4',
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'BolideConsumerLag', group: 'orders-cg', namespace: 'shop' },
        },
      ],
    };
    const post = (payload: string, headers: Record<string, string> = {}) =>
      fetch(`${base}/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: payload,
      });

    expect((await post(JSON.stringify(body))).status).toBe(404);

    const received: AlertmanagerWebhook[] = [];
    server.mountAlerts(
      (p) => {
        received.push(p);
      },
      { bearerToken: 's3cret' },
    );
    expect((await post(JSON.stringify(body))).status).toBe(401);
    const ok = await post(JSON.stringify(body), { authorization: 'Bearer s3cret' });
    expect(ok.status).toBe(202);
    expect(await ok.json()).toEqual({ accepted: 1 });
    expect(received[0].alerts[0].labels?.group).toBe('orders-cg');

    const malformed = await post('{"alerts": [', { authorization: 'Bearer s3cret' });
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).not.toContain(' at ');
    const wrongShape = await post('{"alert": {}}', { authorization: 'Bearer s3cret' });
    expect(wrongShape.status).toBe(400);
    expect(await wrongShape.text()).toContain('"alerts" array');

    server.mountAlerts(async () => {
      throw new Error('secret internals');
    });
    const failed = await post(JSON.stringify(body));
    expect(failed.status).toBe(500);
    expect(await failed.text()).toBe('internal error\n');
  });

  it('closes and frees its port', async () => {
    const { server, base } = await start();
    await server.close();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
