// Schema-driven configuration: defaults < properties file < environment < command line.
// Every bad value is reported at start naming the key, where it came from and what is accepted;
// unknown keys are only warned about (RocketMQ's broker.conf files carry many keys Bolide ignores).

import { type PropertyEntry, parseProperties } from './properties.js';

export type FieldSpec =
  | { type: 'string'; default: string; doc: string; check?: (value: string) => string | undefined }
  | { type: 'int'; default: number; doc: string; min?: number; max?: number }
  | { type: 'bool'; default: boolean; doc: string }
  | { type: 'enum'; default: string; doc: string; values: readonly string[] };

export type ConfigSchema<T> = { [K in keyof T]: FieldSpec & { aliases?: readonly string[] } };

/** Where a value came from, for messages. */
export type ConfigOrigin = 'default' | `file ${string}` | `env ${string}` | `option ${string}`;

export interface ConfigSources {
  /** Properties text and the file name used in messages. */
  file?: { name: string; text: string };
  /** Process environment (overrides the file; see envKeyFor). */
  env?: Record<string, string | undefined>;
  /** Explicit overrides from the command line, by config key; `origin` names the flag. */
  overrides?: { key: string; value: string; origin: string }[];
}

export interface LoadedConfig<T> {
  config: T;
  /** Human-readable warnings (unknown keys, keys accepted for compatibility but without effect). */
  warnings: string[];
  /** Where each key's effective value came from. */
  origins: Record<keyof T & string, ConfigOrigin>;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Environment prefix; `BOLIDE_<key>` with the key in its own spelling or UPPER_SNAKE form. */
export const ENV_PREFIX = 'BOLIDE_';

function normaliseKey(key: string): string {
  return key.replace(/[_.-]/g, '').toLowerCase();
}

function describeAccepted(spec: FieldSpec): string {
  switch (spec.type) {
    case 'bool':
      return 'true or false';
    case 'enum':
      return spec.values.join(', ');
    case 'int': {
      const lo = spec.min ?? Number.MIN_SAFE_INTEGER;
      const hi = spec.max ?? Number.MAX_SAFE_INTEGER;
      if (spec.min !== undefined && spec.max !== undefined) return `an integer from ${lo} to ${hi}`;
      if (spec.min !== undefined) return `an integer ≥ ${lo}`;
      if (spec.max !== undefined) return `an integer ≤ ${hi}`;
      return 'an integer';
    }
    case 'string':
      return spec.doc;
  }
}

/** Converts one raw text value; returns an error text (without the key) on failure. */
function convert(spec: FieldSpec, raw: string): { value: unknown } | { error: string } {
  const text = raw.trim();
  switch (spec.type) {
    case 'string': {
      const problem = spec.check?.(text);
      return problem ? { error: problem } : { value: text };
    }
    case 'bool': {
      const lower = text.toLowerCase();
      if (lower === 'true') return { value: true };
      if (lower === 'false') return { value: false };
      return { error: `accepted values are ${describeAccepted(spec)}` };
    }
    case 'enum': {
      const match = spec.values.find((v) => v.toLowerCase() === text.toLowerCase());
      return match ? { value: match } : { error: `accepted values are ${describeAccepted(spec)}` };
    }
    case 'int': {
      if (!/^[+-]?\d+$/.test(text)) return { error: `accepted values are ${describeAccepted(spec)}` };
      const n = Number(text);
      if (!Number.isSafeInteger(n)) return { error: `accepted values are ${describeAccepted(spec)}` };
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        return { error: `accepted values are ${describeAccepted(spec)}` };
      }
      return { value: n };
    }
  }
}

export interface LoadOptions {
  /** Keys of the Java config that Bolide accepts but does not act on (warned as "no effect"). */
  ignoredKeys?: ReadonlySet<string>;
  /** Extra environment variables mapped to config keys (e.g. NAMESRV_ADDR → namesrvAddr). */
  envAliases?: Record<string, string>;
}

/** Builds a config of shape T from the schema and the sources; throws ConfigError listing every problem. */
export function loadConfig<T>(
  schema: ConfigSchema<T>,
  sources: ConfigSources,
  options: LoadOptions = {},
): LoadedConfig<T> {
  const keys = Object.keys(schema) as (keyof T & string)[];
  const byNormalised = new Map<string, keyof T & string>();
  for (const key of keys) {
    byNormalised.set(normaliseKey(key), key);
    for (const alias of schema[key].aliases ?? []) byNormalised.set(normaliseKey(alias), key);
  }
  const ignored = new Set([...(options.ignoredKeys ?? [])].map(normaliseKey));

  const config = {} as Record<string, unknown>;
  const origins = {} as Record<string, ConfigOrigin>;
  for (const key of keys) {
    config[key] = schema[key].default;
    origins[key] = 'default';
  }
  const problems: string[] = [];
  const warnings: string[] = [];

  const apply = (key: keyof T & string, raw: string, origin: ConfigOrigin) => {
    const spec = schema[key];
    const result = convert(spec, raw);
    if ('error' in result) {
      problems.push(`${key}=${JSON.stringify(raw.trim())} (${origin}): ${result.error}`);
      return;
    }
    config[key] = result.value;
    origins[key] = origin;
  };

  if (sources.file) {
    const entries: PropertyEntry[] = parseProperties(sources.file.text);
    for (const entry of entries) {
      const key = byNormalised.get(normaliseKey(entry.key));
      const origin: ConfigOrigin = `file ${sources.file.name}:${entry.line}`;
      if (key) apply(key, entry.value, origin);
      else if (ignored.has(normaliseKey(entry.key))) {
        warnings.push(`${entry.key} (${origin}) is accepted for compatibility but has no effect in Bolide`);
      } else warnings.push(`unknown key ${entry.key} (${origin}) ignored`);
    }
  }

  if (sources.env) {
    for (const [name, value] of Object.entries(sources.env)) {
      if (value === undefined) continue;
      let key: (keyof T & string) | undefined;
      const aliasTarget = options.envAliases?.[name];
      if (aliasTarget !== undefined) key = byNormalised.get(normaliseKey(aliasTarget));
      else if (name.startsWith(ENV_PREFIX))
        key = byNormalised.get(normaliseKey(name.slice(ENV_PREFIX.length)));
      if (key) apply(key, value, `env ${name}`);
    }
  }

  for (const override of sources.overrides ?? []) {
    const key = byNormalised.get(normaliseKey(override.key));
    if (!key) throw new Error(`internal: override for unknown config key ${override.key}`);
    apply(key, override.value, `option ${override.origin}`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return { config: config as T, warnings, origins: origins as Record<keyof T & string, ConfigOrigin> };
}

/** `host:port` list separated by `;` (RocketMQ's namesrvAddr syntax); returns an error text or undefined. */
export function checkAddressList(text: string): string | undefined {
  if (text === '') return undefined;
  for (const part of text.split(';')) {
    const addr = part.trim();
    if (addr === '') continue;
    const m = /^(.+):(\d{1,5})$/.exec(addr);
    if (!m || Number(m[2]) > 65535 || Number(m[2]) === 0) {
      return `accepted values are host:port entries separated by ';' (e.g. 127.0.0.1:9876;10.0.0.2:9876); "${addr}" is not one`;
    }
  }
  return undefined;
}

/** Splits a `;`-separated address list into trimmed, non-empty entries. */
export function splitAddressList(text: string): string[] {
  return text
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Renders the effective config as properties entries (GET_BROKER_CONFIG / GET_NAMESRV_CONFIG). */
export function configEntries<T>(config: T): [string, string][] {
  return Object.entries(config as Record<string, unknown>).map(([k, v]) => [k, String(v)]);
}
