// HttpsTransport's edge cases against a scripted local HTTP server (plain HTTP is allowed only with
// insecure-skip-tls-verify): non-JSON error bodies, watch lines split across chunks, a stream the
// server cuts mid-way, idle timeouts, and keep-alive connection reuse.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiError,
  BuiltinResources,
  HttpsTransport,
  KubeClient,
  type WatchEvent,
} from '../../operator/src/kube/index.js';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

describe('HttpsTransport edge cases', () => {
  let server: Server;
  let route: Route = (_req, res) => res.end();
  const sockets = new Set<Socket>();
  let transport: HttpsTransport;

  beforeAll(async () => {
    server = createServer((req, res) => route(req, res));
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'local', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'tok-123' }],
      contexts: [{ name: 'ctx', cluster: 'local', user: 'u' }],
      currentContext: 'ctx',
    });
    transport = new HttpsTransport(kc);
  });

  afterAll(async () => {
    transport?.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('refuses plain HTTP unless TLS verification is explicitly skipped', () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: false }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    expect(() => new HttpsTransport(kc)).toThrow(/plain HTTP/);
  });

  it('sends the bearer token and reuses one keep-alive connection', async () => {
    const seen: Array<string | undefined> = [];
    sockets.clear();
    route = (req, res) => {
      seen.push(req.headers.authorization);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'ConfigMap', metadata: { name: 'x' } }));
    };
    for (let i = 0; i < 5; i++)
      await transport.request({ method: 'GET', path: '/api/v1/namespaces/a/configmaps/x' });
    expect(seen).toEqual(Array(5).fill('Bearer tok-123'));
    expect(sockets.size).toBe(1);
  });

  it('turns a non-JSON error body into an ApiError that keeps the text', async () => {
    route = (_req, res) => {
      res.statusCode = 502;
      res.end('<html>bad gateway</html>');
    };
    const err = await transport.request({ method: 'GET', path: '/api/v1/pods' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(502);
    expect((err as ApiError).message).toContain('bad gateway');
  });

  it('reassembles watch lines split across chunks', async () => {
    route = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const a = JSON.stringify({
        type: 'ADDED',
        object: { metadata: { name: 'one', resourceVersion: '2' } },
      });
      const b = JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '3' } } });
      res.write(a.slice(0, 10));
      setTimeout(() => {
        res.write(`${a.slice(10)}\n${b.slice(0, 5)}`);
        setTimeout(() => res.end(`${b.slice(5)}\n`), 10);
      }, 10);
    };
    const client = new KubeClient(transport);
    const events: WatchEvent[] = [];
    await client.watch(BuiltinResources.ConfigMap, { signal: new AbortController().signal }, (e) =>
      events.push(e),
    );
    expect(events.map((e) => `${e.type} ${e.object.metadata?.resourceVersion}`)).toEqual([
      'ADDED 2',
      'BOOKMARK 3',
    ]);
  });

  it('rejects a stream the server cuts mid-way, and one that goes silent', async () => {
    route = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const lines: string[] = [];
    const cut = transport.stream(
      { path: '/api/v1/pods', signal: new AbortController().signal, idleTimeoutMs: 5000 },
      (l) => lines.push(l),
    );
    await expect(cut).rejects.toThrow(/closed mid-stream|aborted|socket hang up/);
    expect(lines.length).toBe(1);

    route = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
    };
    const silent = transport.stream(
      { path: '/api/v1/pods', signal: new AbortController().signal, idleTimeoutMs: 200 },
      () => {},
    );
    await expect(silent).rejects.toThrow(/idle for 200 ms/);
  });

  it('ends a stream quietly when the caller aborts, and reports an error status as ApiError', async () => {
    route = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
    };
    const abort = new AbortController();
    const open = transport.stream(
      { path: '/api/v1/pods', signal: abort.signal, idleTimeoutMs: 5000 },
      () => {},
    );
    setTimeout(() => abort.abort(), 50);
    await expect(open).resolves.toBeUndefined();

    route = (_req, res) => {
      res.statusCode = 410;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' }),
      );
    };
    const gone = transport.stream(
      { path: '/api/v1/pods', signal: new AbortController().signal, idleTimeoutMs: 5000 },
      () => {},
    );
    await expect(gone).rejects.toMatchObject({ name: 'GoneError', code: 410 });
  });
});
