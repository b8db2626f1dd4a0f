import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { type ApiStatus, apiErrorFrom } from './errors.js';

/**
 * Raw JSON over HTTPS, authenticated by client-node's KubeConfig.
 *
 * Why not client-node's generated APIs or KubernetesObjectApi for the requests themselves (1.4.0):
 * - their ObjectSerializer turns timestamps into Date objects and, for built-in kinds, keeps only the
 *   fields its models know — on the way out too, so a server-side apply of a field newer than the models
 *   would silently drop (and disown) it; objects from a watch stay plain JSON, so a cache would mix both;
 * - KubeConfig.applySecurityAuthentication builds a new https.Agent per request (no keep-alive: one TLS
 *   handshake per call);
 * - KubernetesObjectApi has no subresources (/status, /scale), and the generated patch calls pick
 *   `application/json-patch+json` unless a Content-Type header override is passed.
 * So KubeConfig supplies auth headers and TLS material per request (tokens may rotate), and this module
 * keeps one keep-alive agent while that material stays the same.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type Query = Record<string, string | number | boolean | undefined>;

export interface KubeRequest {
  method: HttpMethod;
  path: string;
  query?: Query;
  body?: unknown;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  /** Socket idle timeout; default 30 s. */
  timeoutMs?: number;
}

export interface StreamRequest {
  path: string;
  query?: Query;
  /** Abort to end the stream (resolves, does not reject). */
  signal: AbortSignal;
  /** Fail the stream when no byte arrives for this long. */
  idleTimeoutMs: number;
}

/** The seam below KubeClient: tests of error paths can plug in a fake. */
export interface KubeTransport {
  /** Sends a request; resolves the parsed JSON body, rejects with ApiError on an error status. */
  request<T>(req: KubeRequest): Promise<T>;
  /** Opens a streaming GET and calls `onLine` per newline-delimited line; resolves when the server ends it. */
  stream(req: StreamRequest, onLine: (line: string) => void): Promise<void>;
  /** Closes idle keep-alive sockets. */
  close(): void;
}

interface TlsMaterial {
  ca?: Buffer | string | (Buffer | string)[];
  cert?: Buffer | string | (Buffer | string)[];
  key?: unknown;
  pfx?: unknown;
  passphrase?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
}

function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  const eq = (x: unknown, y: unknown) =>
    Buffer.isBuffer(x) && Buffer.isBuffer(y) ? x.equals(y) : JSON.stringify(x) === JSON.stringify(y);
  return (
    eq(a.ca, b.ca) &&
    eq(a.cert, b.cert) &&
    eq(a.key, b.key) &&
    eq(a.pfx, b.pfx) &&
    a.passphrase === b.passphrase &&
    a.rejectUnauthorized === b.rejectUnauthorized &&
    a.servername === b.servername
  );
}

function buildUrl(server: string, path: string, query: Query | undefined): URL {
  const url = new URL(server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined) url.searchParams.set(k, String(v));
  }
  return url;
}

function statusFromBody(code: number, text: string): ApiStatus {
  try {
    const parsed = JSON.parse(text) as ApiStatus;
    if (parsed && typeof parsed === 'object') return parsed;
  } catch {
    // Not JSON (a proxy or a bare error page): keep the text as the message.
  }
  return { code, message: text.slice(0, 500) || http.STATUS_CODES[code] || 'error' };
}

export class HttpsTransport implements KubeTransport {
  private agent: http.Agent | undefined;
  private material: TlsMaterial | undefined;
  private readonly server: string;
  private readonly secure: boolean;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly userAgent = 'bolide-operator',
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server;
    this.secure = cluster.server.startsWith('https:');
    if (!this.secure && !cluster.skipTLSVerify) {
      throw new Error(`refusing plain HTTP to ${cluster.server} without insecure-skip-tls-verify`);
    }
  }

  /** Auth headers and an agent for one request; the agent is reused while the TLS material is unchanged. */
  private async prepare(): Promise<{ headers: Record<string, string>; agent: http.Agent }> {
    const opts: https.RequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    if (this.kubeConfig.getCurrentCluster()?.proxyUrl) {
      // Proxy agents come from client-node; reuse its per-request agent rather than re-implementing them.
      return { headers, agent: opts.agent as http.Agent };
    }
    const material: TlsMaterial = {
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      pfx: opts.pfx,
      passphrase: opts.passphrase,
      rejectUnauthorized: opts.rejectUnauthorized,
      servername: opts.servername,
    };
    if (!this.agent || !this.material || !sameMaterial(this.material, material)) {
      this.agent?.destroy();
      this.material = material;
      this.agent = this.secure
        ? new https.Agent({ keepAlive: true, maxSockets: 32, ...(material as https.AgentOptions) })
        : new http.Agent({ keepAlive: true, maxSockets: 32 });
    }
    return { headers, agent: this.agent };
  }

  private async open(
    method: HttpMethod,
    url: URL,
    body: string | undefined,
    contentType: string | undefined,
  ): Promise<http.ClientRequest> {
    const { headers, agent } = await this.prepare();
    headers.Accept = 'application/json';
    headers['User-Agent'] = this.userAgent;
    if (body !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const mod = this.secure ? https : http;
    return mod.request(url, { method, headers, agent });
  }

  async request<T>(req: KubeRequest): Promise<T> {
    const url = buildUrl(this.server, req.path, req.query);
    const what = `${req.method} ${req.path}`;
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const request = await this.open(req.method, url, body, req.contentType);
    return new Promise<T>((resolve, reject) => {
      request.setTimeout(req.timeoutMs ?? 30_000, () => {
        request.destroy(new Error(`${what}: no response within ${req.timeoutMs ?? 30_000} ms`));
      });
      request.on('error', (err) => reject(new Error(`${what}: ${err.message}`, { cause: err })));
      request.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new Error(`${what}: ${err.message}`, { cause: err })));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) {
            try {
              resolve((text ? JSON.parse(text) : undefined) as T);
            } catch (err) {
              reject(new Error(`${what}: unparsable JSON response`, { cause: err }));
            }
          } else {
            reject(apiErrorFrom(code, statusFromBody(code, text), what));
          }
        });
      });
      request.end(body);
    });
  }

  async stream(req: StreamRequest, onLine: (line: string) => void): Promise<void> {
    if (req.signal.aborted) return;
    const url = buildUrl(this.server, req.path, req.query);
    const what = `GET ${req.path} (stream)`;
    const request = await this.open('GET', url, undefined, undefined);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        req.signal.removeEventListener('abort', onAbort);
        if (err && !req.signal.aborted) reject(err);
        else resolve();
      };
      const onAbort = () => {
        request.destroy();
        finish();
      };
      req.signal.addEventListener('abort', onAbort, { once: true });
      request.setTimeout(req.idleTimeoutMs, () => {
        request.destroy(new Error(`${what}: idle for ${req.idleTimeoutMs} ms`));
      });
      request.on('error', (err) => finish(new Error(`${what}: ${err.message}`, { cause: err })));
      request.on('response', (res) => {
        const code = res.statusCode ?? 0;
        if (code !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            finish(apiErrorFrom(code, statusFromBody(code, text), what));
          });
          res.on('error', (err) => finish(err));
          return;
        }
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          let nl = pending.indexOf('\n');
          while (nl >= 0) {
            const line = pending.slice(0, nl).trim();
            pending = pending.slice(nl + 1);
            if (line) {
              try {
                onLine(line);
              } catch (err) {
                request.destroy();
                finish(err instanceof Error ? err : new Error(String(err)));
                return;
              }
            }
            nl = pending.indexOf('\n');
          }
        });
        res.on('error', (err) => finish(new Error(`${what}: ${err.message}`, { cause: err })));
        res.on('close', () => {
          if (!res.complete) finish(new Error(`${what}: connection closed mid-stream`));
        });
        res.on('end', () => {
          if (pending.trim()) {
            try {
              onLine(pending.trim());
            } catch (err) {
              finish(err instanceof Error ? err : new Error(String(err)));
              return;
            }
          }
          finish();
        });
      });
      request.end();
    });
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
    this.material = undefined;
  }
}
