// The HTTP side of a Bolide process: GET /metrics (Prometheus text) and GET /healthz. The caller
// supplies the metrics text and the health check, so this module needs only node:http.

import { createServer, type Server } from 'node:http';

export interface HealthReport {
  ok: boolean;
  /** Free-form details (role, ports, counts) returned as JSON. */
  details?: Record<string, unknown>;
}

export interface HttpEndpointOptions {
  /** Prometheus exposition text and its content type. */
  metrics: () => Promise<{ contentType: string; text: string }>;
  health: () => HealthReport | Promise<HealthReport>;
  host?: string;
}

export interface HttpEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the endpoint on `port` (0 = ephemeral); resolves once it listens. */
export async function startHttpEndpoint(port: number, options: HttpEndpointOptions): Promise<HttpEndpoint> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const respond = (status: number, contentType: string, body: string) => {
      res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      respond(405, 'text/plain', 'method not allowed\n');
      return;
    }
    if (path === '/metrics') {
      options.metrics().then(
        (m) => respond(200, m.contentType, m.text),
        (err: Error) => respond(500, 'text/plain', `metrics failed: ${err.message}\n`),
      );
    } else if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      Promise.resolve()
        .then(() => options.health())
        .then(
          (h) =>
            respond(
              h.ok ? 200 : 503,
              'application/json',
              JSON.stringify({ status: h.ok ? 'ok' : 'unhealthy', ...h.details }) + '\n',
            ),
          (err: Error) =>
            respond(
              503,
              'application/json',
              JSON.stringify({ status: 'unhealthy', error: err.message }) + '\n',
            ),
        );
    } else {
      respond(404, 'text/plain', 'not found; try /metrics or /healthz\n');
    }
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = address && typeof address === 'object' ? address.port : port;
  return {
    port: boundPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
