// Composition root of the `bolide` program: `bolide namesrv`, `bolide broker -c broker.conf`,
// `bolide standalone` (both in one process); every other subcommand goes to the client CLI
// (./cli/index.js, `runCli(argv)`). Owns config loading, ports, the HTTP endpoint and signals.

import { readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { Broker } from './broker/index.js';
import {
  type BrokerConfig,
  ConfigError,
  type ConfigSources,
  createLogger,
  type HttpEndpoint,
  isLogLevel,
  type LoadedConfig,
  type Logger,
  loadBrokerConfig,
  loadNamesrvConfig,
  type NamesrvConfig,
  startHttpEndpoint,
} from './common/index.js';
import { NameServer } from './namesrv/index.js';

export const USAGE = `Usage: bolide <role> [options]

Server roles:
  bolide namesrv    [-c namesrv.properties] [--namesrv-port 9876] [--http-port 9877]
  bolide broker     -c broker.conf [--broker-port 10911] [--data-dir DIR]
                    [--namesrv-addr host:port[;host:port]] [--http-port 10913]
  bolide standalone [-c broker.conf] [--namesrv-port 9876] [--broker-port 10911]
                    [--data-dir DIR] [--http-port 10913]
      A name server and a broker in one process (laptops, demos, the quick start).

Options:
  -c, --config FILE     RocketMQ properties file (broker.conf keys for broker/standalone,
                        namesrv.properties keys for namesrv); unknown keys are warned about
  --namesrv-port N      name server port (0 = any free port)
  --broker-port N       broker port, broker.conf listenPort (0 = any free port)
  --data-dir DIR        storePathRootDir of the broker; the name server keeps its KV config in DIR/namesrv
  --namesrv-addr LIST   name servers the broker registers with (broker.conf namesrvAddr)
  --http-port N         Prometheus /metrics and /healthz (-1 = off)
  -h, --help            this help

Environment: BOLIDE_<key> overrides a config key (e.g. BOLIDE_FLUSH_DISK_TYPE=SYNC_FLUSH or
BOLIDE_brokerName=broker-b); NAMESRV_ADDR sets namesrvAddr. Command-line options win over both.
`;

export type Role = 'namesrv' | 'broker' | 'standalone';

export interface RoleOptions {
  config?: string;
  namesrvPort?: string;
  brokerPort?: string;
  dataDir?: string;
  namesrvAddr?: string;
  httpPort?: string;
}

export interface RunningRoles {
  namesrv?: NameServer;
  broker?: Broker;
  http?: HttpEndpoint;
  /** "127.0.0.1:port" of the name server (standalone/namesrv). */
  namesrvAddr?: string;
  /** Graceful stop: broker first (refuse sends, answer pulls, unregister, flush), then the name server. */
  stop(): Promise<void>;
}

/** Parses role options; throws a UsageError-like Error with a readable message. */
export function parseRoleArgs(argv: string[]): RoleOptions & { help: boolean } {
  // `--http-port -1` would read as an unknown short option; join value-taking flags with negative numbers.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--') && !argv[i].includes('=') && /^-\d+$/.test(argv[i + 1] ?? '')) {
      args.push(`${argv[i]}=${argv[++i]}`);
    } else args.push(argv[i]);
  }
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      'namesrv-port': { type: 'string' },
      'broker-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'namesrv-addr': { type: 'string', short: 'n' },
      'http-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 0) throw new Error(`unexpected argument: ${positionals[0]}`);
  return {
    config: values.config,
    namesrvPort: values['namesrv-port'],
    brokerPort: values['broker-port'],
    dataDir: values['data-dir'],
    namesrvAddr: values['namesrv-addr'],
    httpPort: values['http-port'],
    help: values.help === true,
  };
}

function fileSource(path: string | undefined): ConfigSources['file'] {
  if (!path) return undefined;
  try {
    return { name: path, text: readFileSync(path, 'utf8') };
  } catch (err) {
    throw new ConfigError([`cannot read config file ${path}: ${(err as Error).message}`]);
  }
}

type Override = NonNullable<ConfigSources['overrides']>[number];

export function resolveNamesrvConfig(
  options: RoleOptions,
  env: NodeJS.ProcessEnv,
  useFile: boolean,
): { config: NamesrvConfig; warnings: string[] } {
  const overrides: Override[] = [];
  if (options.namesrvPort !== undefined) {
    overrides.push({ key: 'listenPort', value: options.namesrvPort, origin: '--namesrv-port' });
  }
  if (options.httpPort !== undefined && useFile) {
    overrides.push({ key: 'httpPort', value: options.httpPort, origin: '--http-port' });
  }
  if (options.dataDir !== undefined) {
    overrides.push({
      key: 'kvConfigPath',
      value: join(resolve(options.dataDir), 'namesrv', 'kvConfig.json'),
      origin: '--data-dir',
    });
  }
  const { config, warnings } = loadNamesrvConfig({
    file: useFile ? fileSource(options.config) : undefined,
    env,
    overrides,
  });
  return { config, warnings };
}

export function resolveBrokerConfig(
  options: RoleOptions,
  env: NodeJS.ProcessEnv,
): LoadedConfig<BrokerConfig> {
  const overrides: Override[] = [];
  if (options.brokerPort !== undefined) {
    overrides.push({ key: 'listenPort', value: options.brokerPort, origin: '--broker-port' });
  }
  if (options.dataDir !== undefined) {
    overrides.push({ key: 'storePathRootDir', value: resolve(options.dataDir), origin: '--data-dir' });
  }
  if (options.namesrvAddr !== undefined) {
    overrides.push({ key: 'namesrvAddr', value: options.namesrvAddr, origin: '--namesrv-addr' });
  }
  if (options.httpPort !== undefined) {
    overrides.push({ key: 'httpPort', value: options.httpPort, origin: '--http-port' });
  }
  return loadBrokerConfig({ file: fileSource(options.config), env, overrides });
}

function levelOf(value: string): 'debug' | 'info' | 'warn' | 'error' | 'silent' {
  return isLogLevel(value) ? value : 'info';
}

/** Starts one role (or both, for standalone) in this process. */
export async function startRoles(
  role: Role,
  options: RoleOptions,
  env: NodeJS.ProcessEnv = process.env,
  logger?: Logger,
): Promise<RunningRoles> {
  let namesrv: NameServer | undefined;
  let broker: Broker | undefined;
  let http: HttpEndpoint | undefined;
  let namesrvAddr: string | undefined;
  const registries: Registry[] = [];
  let httpPort = -1;

  const stop = async () => {
    // Broker first, so it can unregister from the (still running) name server.
    if (broker) await broker.stop();
    if (namesrv) await namesrv.stop();
    if (http) await http.close();
  };

  try {
    if (role === 'namesrv' || role === 'standalone') {
      const { config, warnings } = resolveNamesrvConfig(options, env, role === 'namesrv');
      const log = logger ?? createLogger('namesrv', { level: levelOf(config.logLevel) });
      for (const w of warnings) log.warn(w);
      namesrv = new NameServer({ config, logger: log });
      await namesrv.start();
      namesrvAddr = `127.0.0.1:${namesrv.port}`;
      registries.push(namesrv.registry);
      if (role === 'namesrv') httpPort = config.httpPort;
    }
    if (role === 'broker' || role === 'standalone') {
      const { config, warnings, origins } = resolveBrokerConfig(options, env);
      const effective = { ...config };
      if (role === 'standalone') {
        // The standalone broker registers with its own name server and, unless told otherwise,
        // advertises loopback (a laptop's other addresses come and go).
        if (origins.namesrvAddr === 'default') effective.namesrvAddr = namesrvAddr!;
        if (origins.brokerIP1 === 'default') effective.brokerIP1 = '127.0.0.1';
      }
      const log = logger ?? createLogger('broker', { level: levelOf(effective.logLevel) });
      for (const w of warnings) log.warn(w);
      broker = new Broker({ config: effective, logger: log });
      await broker.start();
      registries.push(broker.metrics.registry);
      httpPort = effective.httpPort;
    }
    if (httpPort >= 0) {
      const merged = registries.length === 1 ? registries[0] : Registry.merge(registries);
      const roleName = role;
      http = await startHttpEndpoint(httpPort, {
        metrics: async () => ({ contentType: merged.contentType, text: await merged.metrics() }),
        health: () => ({
          ok: (namesrv === undefined || namesrv.running) && (broker === undefined || broker.running),
          details: {
            role: roleName,
            namesrv: namesrv ? { port: namesrv.port, running: namesrv.running } : undefined,
            broker: broker
              ? { addr: broker.brokerAddr, running: broker.running, heldPulls: broker.heldPulls }
              : undefined,
          },
        }),
      });
    }
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return { namesrv, broker, http, namesrvAddr, stop };
}

/** Runs a server role until SIGTERM/SIGINT, then stops gracefully; resolves with the exit code. */
async function runRole(role: Role, argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseRoleArgs>;
  try {
    options = parseRoleArgs(argv);
  } catch (err) {
    process.stderr.write(`bolide ${role}: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (role === 'broker' && !options.config) {
    process.stderr.write('bolide broker: no -c broker.conf given; using defaults and the environment\n');
  }
  // A stray rejected promise must not take the broker down with it (Java logs and carries on).
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`bolide ${role}: unhandled rejection: ${(reason as Error)?.stack ?? reason}\n`);
  });
  let running: RunningRoles;
  try {
    running = await startRoles(role, options);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`bolide ${role}: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`bolide ${role}: failed to start: ${(err as Error).stack ?? err}\n`);
    return 1;
  }
  const parts = [`bolide ${role} ready`];
  if (running.namesrvAddr) parts.push(`namesrv=${running.namesrvAddr}`);
  if (running.broker) parts.push(`broker=${running.broker.brokerAddr}`);
  if (running.http) parts.push(`http=${running.http.port}`);
  // One machine-readable line on stdout (test harnesses and scripts read the ports from it).
  process.stdout.write(`${parts.join(' ')}\n`);

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`bolide ${role}: second ${signal}, exiting without a clean shutdown\n`);
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`bolide ${role}: ${signal} received, shutting down\n`);
      running.stop().then(
        () => resolveExit(0),
        (err) => {
          process.stderr.write(`bolide ${role}: shutdown failed: ${(err as Error).stack ?? err}\n`);
          resolveExit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

interface CliModule {
  runCli(argv: string[]): Promise<number>;
}

/** Entry point: dispatches argv (without node and script) and resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'namesrv' || command === 'broker' || command === 'standalone')
    return runRole(command, rest);
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    const cli = await loadCli();
    if (cli) await cli.runCli(['--help']).catch(() => 0);
    return command === undefined ? 2 : 0;
  }
  const cli = await loadCli();
  if (!cli) {
    process.stderr.write(`bolide: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  return cli.runCli(argv);
}

async function loadCli(): Promise<CliModule | null> {
  try {
    // Resolved at run time so the server roles start even when the client CLI is absent.
    const specifier = './cli/index.js';
    return (await import(specifier)) as CliModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return null;
    throw err;
  }
}

/** True when this module is the program being run (node main.ts, bin/bolide.js, npx bolide). */
function isEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    const real = realpathSync(script);
    const self = fileURLToPath(import.meta.url);
    return real === self || /[\\/]bin[\\/]bolide(\.js)?$/.test(real);
  } catch {
    return false;
  }
}

if (isEntry()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`bolide: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
