// The Dockerfile, without a Docker engine: its stages and targets are checked as text, then its
// build is replayed into a scratch folder (the same COPY steps, the same `npm run build`) and the
// images' entrypoints run from there as plain processes: /healthz answers, the `bolide` CLI works
// against the server, and SIGTERM ends the process with exit code 0 after a clean shutdown.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BOLIDE_COMMAND,
  BROKER_CONF_DIR,
  BROKER_DATA_DIR,
  BROKER_HA_PORT,
  BROKER_HTTP_PORT,
  BROKER_PORT,
  NAMESRV_HTTP_PORT,
  NAMESRV_PORT,
  RUN_AS_USER,
} from '../../operator/src/desired/index.js';
import { type ControlPlane, startControlPlane } from '../harness/control-plane.js';
import { installCrds } from '../harness/crds.js';
import {
  allOf,
  type Dockerfile,
  effective,
  environment,
  type ImageTree,
  layOutImages,
  lineage,
  parseDockerfile,
  stage,
} from './dockerfile.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dockerfile: Dockerfile = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
const TARGETS = ['operator', 'broker'] as const;
const TINI = ['/usr/bin/tini', '--'];

/** Static `import … from 'x'` / `export … from 'x'`, side-effect `import 'x'`, and `import('x')` in emitted JS. */
const MODULE_SPECIFIER =
  /^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"\s]+)['"]|^\s*import\s*['"]([^'"\s]+)['"]|\bimport\(\s*['"]([^'"\s]+)['"]\s*\)/gm;

/** ENTRYPOINT + CMD of a target, as the container runtime would join them. */
function command(target: string): string[] {
  return [
    ...(effective(dockerfile, target, 'ENTRYPOINT')?.exec ?? []),
    ...(effective(dockerfile, target, 'CMD')?.exec ?? []),
  ];
}

/** The container's PATH (node images put /usr/local/bin first), mapped into the scratch tree. */
function imagePath(tree: ImageTree): string {
  const dirs = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  return [...dirs.map((d) => tree.hostPath(d)), dirname(process.execPath), process.env.PATH ?? ''].join(
    delimiter,
  );
}

describe('Dockerfile (read as text)', () => {
  it('builds once in deps → build stages and has operator and broker targets from one runtime', () => {
    const names = dockerfile.stages.map((s) => s.name);
    for (const name of ['deps', 'build', 'runtime', ...TARGETS]) expect(names).toContain(name);
    // One build: both targets derive from the same runtime stage, which copies the one build's dist.
    for (const target of TARGETS) expect(lineage(dockerfile, target).map((s) => s.name)).toContain('runtime');
    const copiesFromBuild = allOf(dockerfile, 'runtime', 'COPY').filter((c) =>
      c.args.includes('--from=build'),
    );
    expect(copiesFromBuild.map((c) => c.args)).toEqual(['--from=build /app/dist ./dist']);
    const buildRuns = stage(dockerfile, 'build').instructions.filter((i) => i.keyword === 'RUN');
    expect(buildRuns.map((r) => r.args)).toEqual(['npm run build']);
    expect(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).scripts.build).toMatch(/^tsc\b/);
    // Runtime dependencies come from an --omit=dev install: no compiler or test tools in the images.
    const prodDeps = allOf(dockerfile, 'prod-deps', 'RUN').map((r) => r.args);
    expect(prodDeps.some((r) => /npm ci\b.*--omit=dev/.test(r))).toBe(true);
  });

  it('starts from node 20 slim pinned to an exact release', () => {
    const bases = dockerfile.stages.filter((s) => !dockerfile.stages.some((p) => p.name === s.from));
    expect(bases.length).toBeGreaterThan(0);
    for (const base of bases) expect(base.from).toMatch(/^node:20\.\d+\.\d+-(bookworm-)?slim$/);
  });

  it('runs both targets as the non-root uid the operator expects, under tini', () => {
    for (const target of TARGETS) {
      const user = effective(dockerfile, target, 'USER')?.args;
      expect(user, `${target} USER`).toBeDefined();
      // Numeric, so the kubelet can enforce runAsNonRoot without reading /etc/passwd.
      const [uid, gid] = (user ?? '').split(':');
      expect(Number(uid)).toBe(RUN_AS_USER);
      expect(Number(gid)).toBe(RUN_AS_USER);
      expect(command(target).slice(0, 2)).toEqual(TINI);
    }
    const installsTini = allOf(dockerfile, 'runtime', 'RUN').some((r) =>
      /apt-get install\b[^&]*\btini\b/.test(r.args),
    );
    expect(installsTini).toBe(true);
    // Folders the broker pods mount are writable by that uid in the image too (docker run -v).
    const runtimeRuns = allOf(dockerfile, 'runtime', 'RUN')
      .map((r) => r.args)
      .join(' && ');
    expect(runtimeRuns).toContain(`mkdir -p ${BROKER_CONF_DIR} ${BROKER_DATA_DIR}`);
    expect(runtimeRuns).toContain(`chown ${RUN_AS_USER}:${RUN_AS_USER} ${BROKER_DATA_DIR}`);
  });

  it('exposes the ports the operator and its children use', () => {
    const exposed = (target: string) =>
      allOf(dockerfile, target, 'EXPOSE').flatMap((e) => e.args.split(/\s+/).map(Number));
    expect(exposed('broker').sort()).toEqual(
      [NAMESRV_PORT, NAMESRV_HTTP_PORT, BROKER_PORT, BROKER_HA_PORT, BROKER_HTTP_PORT].sort(),
    );
    const chartValues = yaml.load(readFileSync(join(REPO, 'helm/bolide/values.yaml'), 'utf8')) as {
      http: { port: number };
    };
    expect(exposed('operator')).toEqual([chartValues.http.port]);
  });

  it('keeps the build context to what the build copies (.dockerignore)', () => {
    const ignore = readFileSync(join(REPO, '.dockerignore'), 'utf8');
    expect(ignore.split('\n')[0].startsWith('#') || ignore.includes('\n*\n')).toBe(true);
    for (const copy of dockerfile.stages.flatMap((s) => s.instructions)) {
      if (copy.keyword !== 'COPY' || copy.args.startsWith('--from')) continue;
      for (const source of copy.args.split(/\s+/).slice(0, -1)) {
        expect(ignore, `.dockerignore re-includes ${source}`).toMatch(new RegExp(`^!${source}/?$`, 'm'));
      }
    }
  });
});

describe('Dockerfile entrypoints (build replayed, run as processes)', () => {
  let scratch: string;
  let trees: Record<string, ImageTree>;
  const children: ChildProcess[] = [];
  let controlPlane: ControlPlane | undefined;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'bolide-image-'));
    trees = await layOutImages({ repoRoot: REPO, dockerfile, targets: [...TARGETS], scratch });
  });

  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await controlPlane?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('has every entrypoint file in the built tree', () => {
    const operator = command('operator').slice(TINI.length);
    expect(operator[0]).toBe('node');
    expect(existsSync(trees.operator.hostPath(operator[1])), operator[1]).toBe(true);

    const broker = command('broker').slice(TINI.length);
    expect(broker[0]).toBe(BOLIDE_COMMAND);
    const onPath = trees.broker.hostPath(`/usr/local/bin/${BOLIDE_COMMAND}`);
    expect(existsSync(onPath)).toBe(true);
    const script = realpathSync(onPath);
    expect(script).toBe(realpathSync(trees.broker.hostPath('/app/bin/bolide.js')));
    expect(existsSync(trees.broker.hostPath('/app/dist/broker-image/src/main.js'))).toBe(true);
    // Tests and benchmarks stay out of the image.
    expect(readdirSync(trees.broker.hostPath('/app'))).not.toContain('test');
    expect(existsSync(trees.broker.hostPath('/app/dist/broker-image/src/main.test.js'))).toBe(false);
  });

  it('imports at run time only what the --omit=dev install provides', () => {
    const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const runtime = new Set(Object.keys(manifest.dependencies));
    const imported = new Map<string, string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.js')) {
          const code = readFileSync(path, 'utf8');
          for (const m of code.matchAll(MODULE_SPECIFIER)) {
            const specifier = m[1] ?? m[2] ?? m[3];
            if (
              specifier.startsWith('.') ||
              specifier.startsWith('node:') ||
              builtinModules.includes(specifier)
            )
              continue;
            const name = specifier.startsWith('@')
              ? specifier.split('/').slice(0, 2).join('/')
              : specifier.split('/')[0];
            imported.set(name, path);
          }
        }
      }
    };
    walk(trees.broker.hostPath('/app/dist'));
    expect(imported.size).toBeGreaterThan(0);
    const missing = [...imported]
      .filter(([name]) => !runtime.has(name))
      .map(([name, file]) => `${name} (${file})`);
    expect(missing).toEqual([]);
  });

  it('broker image: `bolide standalone` serves /healthz, the bundled CLI produces and consumes, SIGTERM exits 0', async () => {
    const tree = trees.broker;
    const [, , bin, ...cmd] = command('broker');
    // CMD's container paths point into the scratch tree; ports 0 so parallel test runs never collide.
    const args = [...cmd.map((a) => (a.startsWith('/') ? tree.hostPath(a) : a))];
    args.push('--namesrv-port', '0', '--broker-port', '0', '--http-port', '0');
    const env = {
      ...process.env,
      ...environment(dockerfile, 'broker'),
      PATH: imagePath(tree),
      HOME: tree.hostPath('/home/node'),
    };
    const server = spawn(bin, args, {
      cwd: tree.hostPath(tree.workdir),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(server);
    let stderr = '';
    server.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const ready = await new Promise<string>((resolveReady, reject) => {
      let out = '';
      server.stdout?.on('data', (chunk) => {
        out += chunk;
        const line = out.split('\n').find((l) => l.includes(' ready '));
        if (line) resolveReady(line);
      });
      server.once('exit', (code) => reject(new Error(`bolide standalone exited with ${code}\n${stderr}`)));
    });
    const namesrv = /namesrv=(\S+)/.exec(ready)?.[1];
    const http = /http=(\d+)/.exec(ready)?.[1];
    expect(namesrv).toBeDefined();
    const health = await fetch(`http://127.0.0.1:${http}/healthz`);
    expect(health.status).toBe(200);

    const cli = (...cliArgs: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolveRun) => {
        const child = spawn(bin, [...cliArgs, '--namesrv-addr', namesrv!], {
          env,
          cwd: tree.hostPath(tree.workdir),
        });
        children.push(child);
        let out = '';
        let err = '';
        child.stdout.on('data', (c) => {
          out += c;
        });
        child.stderr.on('data', (c) => {
          err += c;
        });
        child.on('exit', (code) => resolveRun({ code, out, err }));
      });
    const produced = await cli(
      'produce',
      '--topic',
      'ImageSmoke',
      '--count',
      '3',
      '--body',
      'from the image tree',
    );
    expect(produced.code, produced.err).toBe(0);
    const consumed = await cli(
      'consume',
      '--topic',
      'ImageSmoke',
      '--group',
      'image-smoke',
      '--from',
      'first',
      '--count',
      '3',
    );
    expect(consumed.code, consumed.err).toBe(0);
    expect(consumed.out.match(/from the image tree/g)).toHaveLength(3);

    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
      server.once('exit', (code, signal) => resolveExit({ code, signal })),
    );
    server.kill('SIGTERM');
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(stderr).toContain('SIGTERM received, shutting down');
    // The store lives in the image's data folder (the CMD's --data-dir), and was written there.
    expect(readdirSync(tree.hostPath(BROKER_DATA_DIR)).length).toBeGreaterThan(0);
  });

  it('operator image: the compiled operator answers /healthz and /readyz against an API server, SIGTERM exits 0', async () => {
    const tree = trees.operator;
    controlPlane = await startControlPlane();
    await installCrds(controlPlane.kubeConfig);
    const [, , node, script, ...rest] = command('operator');
    expect(node).toBe('node');
    const env = {
      PATH: imagePath(tree),
      HOME: tree.hostPath('/home/node'),
      ...environment(dockerfile, 'operator'),
      // What the chart's Deployment sets, with an admin kubeconfig standing in for the pod's token.
      KUBECONFIG: controlPlane.kubeconfigPath,
      POD_NAME: 'bolide-operator-test',
      POD_NAMESPACE: 'default',
      BOLIDE_METRICS_PORT: '0',
    };
    const operator = spawn(process.execPath, [tree.hostPath(script), ...rest], {
      cwd: tree.hostPath(tree.workdir),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(operator);
    let output = '';
    operator.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const ready = await new Promise<string>((resolveReady, reject) => {
      operator.stdout?.on('data', (chunk) => {
        output += chunk;
        const line = output.split('\n').find((l) => l.startsWith('bolide-operator ready'));
        if (line) resolveReady(line);
      });
      operator.once('exit', (code) => reject(new Error(`bolide-operator exited with ${code}\n${output}`)));
    });
    const port = /http=(\d+)/.exec(ready)?.[1];
    expect(port).toBeDefined();
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const deadline = Date.now() + 60_000;
    while ((await fetch(`http://127.0.0.1:${port}/readyz`)).status !== 200) {
      if (Date.now() > deadline) throw new Error(`operator never became ready\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('bolide_operator_leader');

    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
      operator.once('exit', (code, signal) => resolveExit({ code, signal })),
    );
    operator.kill('SIGTERM');
    expect(await exit).toEqual({ code: 0, signal: null });
  });
});
