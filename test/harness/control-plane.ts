// A real Kubernetes control plane for integration tests: etcd (Debian's etcd-server) and a
// kube-apiserver built from k8s.io/kubernetes by install-control-plane.sh. Each call to
// startControlPlane() gets its own temp dir, free ports, certificates and admin kubeconfig.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { accessSync, closeSync, existsSync, constants as fsConstants, openSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';

const execFileAsync = promisify(execFile);

/** Kubernetes version the harness builds and runs (override with BOLIDE_K8S_VERSION). */
export const KUBERNETES_VERSION = process.env.BOLIDE_K8S_VERSION ?? '1.34.4';

/** The user named in the admin client certificate; member of system:masters. */
export const ADMIN_USER = 'bolide-admin';

export interface StaticTokenUser {
  token: string;
  user: string;
  groups?: string[];
}

export interface ControlPlaneOptions {
  /** Folder holding kube-apiserver (default: the install script's cache folder). */
  binDir?: string;
  /** etcd executable (default: $BOLIDE_ETCD or `etcd` on PATH). */
  etcdBinary?: string;
  /** Extra kube-apiserver flags, appended after the harness's own (later flags win). */
  apiServerArgs?: string[];
  /** Users accepted by bearer token, e.g. to test RBAC as a non-admin. */
  tokenUsers?: StaticTokenUser[];
  /** How long to wait for etcd health and kube-apiserver /readyz. */
  startTimeoutMs?: number;
}

export interface ControlPlaneFiles {
  caCert: string;
  caKey: string;
  serviceAccountPrivateKey: string;
  serviceAccountPublicKey: string;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Admin kubeconfig file (client certificate in system:masters). */
  readonly kubeconfigPath: string;
  /** The same admin credentials, loaded. */
  readonly kubeConfig: KubeConfig;
  /** PEM of the CA that signed the serving and client certificates. */
  readonly caCertPem: string;
  /** http://127.0.0.1:<port> of the etcd member. */
  readonly etcdUrl: string;
  /** Folder with certificates, logs and etcd data; removed by stop(). */
  readonly dir: string;
  /** Process ids, e.g. to check that stop() really ended them. */
  readonly pids: { etcd: number; apiServer: number };
  /** Folder holding the Kubernetes binaries used. */
  readonly binDir: string;
  /** Key and certificate files, e.g. for starting kube-controller-manager against this server. */
  readonly files: ControlPlaneFiles;
  /** A raw HTTPS request as the admin, e.g. for Table output or discovery documents. */
  request(path: string, init?: RawRequest): Promise<RawResponse>;
  /** Kubeconfig text for a token user given in options.tokenUsers. */
  kubeConfigForToken(token: string): KubeConfig;
  /** Last lines of the kube-apiserver log, for failure messages. */
  apiServerLogTail(lines?: number): Promise<string>;
  /** Kills kube-apiserver and etcd and removes dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Where install-control-plane.sh caches the binaries for a version. */
export function controlPlaneBinDir(version = KUBERNETES_VERSION): string {
  const root = process.env.BOLIDE_CACHE ?? join(homedir(), '.cache', 'bolide');
  return join(root, `k8s-v${version}`, 'bin');
}

/** Starts etcd and kube-apiserver; resolves once /readyz answers ok. */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  // Free ports are picked then released, so another process can grab one first; try again then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt >= 3 || !/address already in use/.test((error as Error).message)) throw error;
    }
  }
}

async function startOnce(options: ControlPlaneOptions): Promise<ControlPlane> {
  const binDir = options.binDir ?? controlPlaneBinDir();
  const apiServerBinary = join(binDir, 'kube-apiserver');
  requireExecutable(apiServerBinary, 'kube-apiserver');
  const etcdBinary = options.etcdBinary ?? process.env.BOLIDE_ETCD ?? findOnPath('etcd');
  requireExecutable(etcdBinary, 'etcd');
  const timeoutMs = options.startTimeoutMs ?? 120_000;

  const dir = await mkdtemp(join(scratchRoot(), 'bolide-cp-'));
  const children: ChildProcess[] = [];
  // If the test process exits without stop(), do not leave servers behind.
  const killOnExit = () => {
    for (const child of children) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  // ...and if it is killed outright (no 'exit' event), the watchdog cleans up.
  const pidFile = join(dir, 'pids');
  await writeFile(pidFile, '');
  startWatchdog(dir, pidFile);
  const track = async (child: ChildProcess) => {
    children.push(child);
    await appendFile(pidFile, `${child.pid}\n`);
  };

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    // Reverse order: the API server first, so it does not log etcd errors while shutting down.
    for (const child of [...children].reverse()) await terminate(child);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const pki = await writePki(dir, options.tokenUsers ?? []);
    const [etcdClientPort, etcdPeerPort, apiPort] = await freePorts(3);
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const etcdPeerUrl = `http://127.0.0.1:${etcdPeerPort}`;

    const etcd = launch(etcdBinary, join(dir, 'etcd.log'), [
      '--name=default',
      `--data-dir=${join(dir, 'etcd-data')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${etcdPeerUrl}`,
      `--initial-advertise-peer-urls=${etcdPeerUrl}`,
      `--initial-cluster=default=${etcdPeerUrl}`,
      '--logger=zap',
      '--log-level=warn',
    ]);
    await track(etcd.child);
    await waitUntil(
      'etcd /health',
      async () => (await httpGet(`${etcdUrl}/health`)).includes('"health":"true"'),
      etcd,
      timeoutMs,
    );

    const server = `https://127.0.0.1:${apiPort}`;
    const apiServer = launch(apiServerBinary, join(dir, 'kube-apiserver.log'), [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      ...(pki.tokenFile ? [`--token-auth-file=${pki.tokenFile}`] : []),
      '--authorization-mode=RBAC',
      `--service-account-key-file=${pki.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${pki.serviceAccountPrivateKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--profiling=false',
      '--v=1',
      ...(options.apiServerArgs ?? []),
    ]);
    await track(apiServer.child);
    const tls = { ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem };
    await waitUntil(
      'kube-apiserver /readyz',
      async () => (await httpsGet(`${server}/readyz`, tls)) === 'ok',
      apiServer,
      timeoutMs,
    );

    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfigPath, adminKubeconfig(server, pki), { mode: 0o600 });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);

    return {
      server,
      kubeconfigPath,
      kubeConfig,
      caCertPem: pki.caCertPem,
      etcdUrl,
      dir,
      binDir,
      pids: { etcd: etcd.child.pid ?? -1, apiServer: apiServer.child.pid ?? -1 },
      files: {
        caCert: pki.caCert,
        caKey: pki.caKey,
        serviceAccountPrivateKey: pki.serviceAccountPrivateKey,
        serviceAccountPublicKey: pki.serviceAccountPublicKey,
      },
      request: (path, init = {}) => httpsRequestRaw(`${server}${path}`, tls, init),
      kubeConfigForToken: (token) => tokenKubeConfig(server, pki.caCertPem, token),
      apiServerLogTail: (lines = 40) => tail(apiServer.logPath, lines),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface Pki {
  caCert: string;
  caKey: string;
  caCertPem: string;
  servingCert: string;
  servingKey: string;
  adminCertPem: string;
  adminKeyPem: string;
  serviceAccountPublicKey: string;
  serviceAccountPrivateKey: string;
  tokenFile?: string;
}

// node:crypto can make keys but not X.509 certificates, so certificates come from openssl.
async function writePki(dir: string, tokenUsers: StaticTokenUser[]): Promise<Pki> {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileAsync('openssl', args, { cwd: dir });
  await openssl(
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=bolide-test-ca'],
    ...['-keyout', path('ca.key'), '-out', path('ca.crt')],
    ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  );
  await issue(openssl, dir, 'serving', '/CN=kube-apiserver', [
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc',
    'extendedKeyUsage=serverAuth',
  ]);
  await issue(openssl, dir, 'admin', `/O=system:masters/CN=${ADMIN_USER}`, ['extendedKeyUsage=clientAuth']);

  const serviceAccount = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(path('sa.pub'), serviceAccount.publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(path('sa.key'), serviceAccount.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });

  let tokenFile: string | undefined;
  if (tokenUsers.length > 0) {
    tokenFile = path('tokens.csv');
    const rows = tokenUsers.map((u) => {
      for (const field of [u.token, u.user, ...(u.groups ?? [])]) {
        if (/[",\n]/.test(field))
          throw new Error(`token user field ${JSON.stringify(field)} has , " or newline`);
      }
      return [u.token, u.user, u.user, `"${(u.groups ?? []).join(',')}"`].join(',');
    });
    await writeFile(tokenFile, `${rows.join('\n')}\n`, { mode: 0o600 });
  }

  return {
    caCert: path('ca.crt'),
    caKey: path('ca.key'),
    caCertPem: await readFile(path('ca.crt'), 'utf8'),
    servingCert: path('serving.crt'),
    servingKey: path('serving.key'),
    adminCertPem: await readFile(path('admin.crt'), 'utf8'),
    adminKeyPem: await readFile(path('admin.key'), 'utf8'),
    serviceAccountPublicKey: path('sa.pub'),
    serviceAccountPrivateKey: path('sa.key'),
    tokenFile,
  };
}

async function issue(
  openssl: (...args: string[]) => Promise<unknown>,
  dir: string,
  name: string,
  subject: string,
  extensions: string[],
): Promise<void> {
  const extFile = join(dir, `${name}.ext`);
  await writeFile(extFile, `${extensions.join('\n')}\n`);
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    subject,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  );
  await openssl(
    ...['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'],
    ...['-days', '2', '-extfile', extFile, '-out', `${name}.crt`],
  );
}

function adminKubeconfig(server: string, pki: Pki): string {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'bolide-test', cluster: { server, 'certificate-authority-data': b64(pki.caCertPem) } },
      ],
      users: [
        {
          name: ADMIN_USER,
          user: {
            'client-certificate-data': b64(pki.adminCertPem),
            'client-key-data': b64(pki.adminKeyPem),
          },
        },
      ],
      contexts: [{ name: 'bolide-test', context: { cluster: 'bolide-test', user: ADMIN_USER } }],
      'current-context': 'bolide-test',
    },
    null,
    2,
  );
}

function tokenKubeConfig(server: string, caCertPem: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'bolide-test', server, caData: Buffer.from(caCertPem).toString('base64') }],
    users: [{ name: 'token-user', token }],
    contexts: [{ name: 'bolide-test', cluster: 'bolide-test', user: 'token-user' }],
    currentContext: 'bolide-test',
  });
  return kc;
}

interface Launched {
  child: ChildProcess;
  logPath: string;
  exited: () => string | undefined;
}

function launch(binary: string, logPath: string, args: string[]): Launched {
  // Output goes straight to a file descriptor: a chatty server never blocks on a full pipe.
  const logFd = openSync(logPath, 'a');
  let exit: string | undefined;
  try {
    const child = spawn(binary, args, { stdio: ['ignore', logFd, logFd] });
    child.on('exit', (code, signal) => {
      exit = `exited with ${signal ?? `code ${code}`}`;
    });
    child.on('error', (error) => {
      exit = `failed to start: ${error.message}`;
    });
    return { child, logPath, exited: () => exit };
  } finally {
    closeSync(logFd);
  }
}

// A detached process that outlives a test process killed by a signal: once the parent is gone it
// kills the listed servers and removes the folder; once the folder is gone (stop() ran) it exits.
const WATCHDOG_SOURCE = `
const fs = require('node:fs');
const [parent, dir, pidFile] = [Number(process.argv[1]), process.argv[2], process.argv[3]];
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
setInterval(() => {
  if (!fs.existsSync(dir)) process.exit(0);
  if (alive(parent)) return;
  let pids = [];
  try { pids = fs.readFileSync(pidFile, 'utf8').split('\\n').filter(Boolean).map(Number); } catch {}
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  setTimeout(() => { fs.rmSync(dir, { recursive: true, force: true }); process.exit(0); }, 500);
}, 500);
`;

function startWatchdog(dir: string, pidFile: string): void {
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(process.pid), dir, pidFile], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
}

async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  server: Launched,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    const exit = server.exited();
    if (exit) {
      throw new Error(`${what}: process ${exit}\n${await tail(server.logPath, 30)}`);
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `${what} not ready after ${timeoutMs} ms (${lastError})\n${await tail(server.logPath, 30)}`,
  );
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function tail(path: string, lines: number): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { timeout: 2_000 }, (res) => collect(res, resolve, reject));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function httpsRequestRaw(
  url: string,
  tls: { ca: string; cert: string; key: string },
  init: RawRequest,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ...tls, method: init.method ?? 'GET', headers: init.headers }, (res) =>
      collect(res, (body) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }), reject),
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

function httpsGet(url: string, tls: { ca: string; cert: string; key: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ...tls, timeout: 2_000 }, (res) => collect(res, resolve, reject));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function collect(
  res: import('node:http').IncomingMessage,
  resolve: (body: string) => void,
  reject: (error: Error) => void,
): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  res.on('error', reject);
}

/** Ports the OS reports free right now; all held open together so they are distinct. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

// etcd fsyncs every write; on tmpfs that costs nothing, and test data need not survive a reboot.
function scratchRoot(): string {
  try {
    accessSync('/dev/shm', fsConstants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

function findOnPath(name: string): string {
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(folder, name);
    if (existsSync(candidate)) return candidate;
  }
  return name;
}

function requireExecutable(path: string, what: string): void {
  try {
    accessSync(path, fsConstants.X_OK);
  } catch {
    throw new Error(
      `${what} not found at ${path}; run test/harness/install-control-plane.sh (it installs etcd-server and builds Kubernetes v${KUBERNETES_VERSION})`,
    );
  }
}
