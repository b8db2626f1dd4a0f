// The name server's namespaced key/value store (PUT/GET/DELETE_KV_CONFIG, GET_KVLIST_BY_NAMESPACE),
// persisted as Java's kvConfig.json `{"configTable":{namespace:{key:value}}}`.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export const ORDER_TOPIC_CONFIG = 'ORDER_TOPIC_CONFIG';

export class KvConfig {
  private readonly table = new Map<string, Map<string, string>>();

  put(namespace: string, key: string, value: string): void {
    let ns = this.table.get(namespace);
    if (!ns) {
      ns = new Map();
      this.table.set(namespace, ns);
    }
    ns.set(key, value);
  }

  get(namespace: string, key: string): string | undefined {
    return this.table.get(namespace)?.get(key);
  }

  delete(namespace: string, key: string): boolean {
    const ns = this.table.get(namespace);
    if (!ns) return false;
    const had = ns.delete(key);
    if (ns.size === 0) this.table.delete(namespace);
    return had;
  }

  list(namespace: string): Record<string, string> | undefined {
    const ns = this.table.get(namespace);
    return ns ? Object.fromEntries(ns) : undefined;
  }

  toJSON(): { configTable: Record<string, Record<string, string>> } {
    const configTable: Record<string, Record<string, string>> = {};
    for (const [ns, kv] of this.table) configTable[ns] = Object.fromEntries(kv);
    return { configTable };
  }

  /** Replaces the contents from kvConfig.json text; throws on malformed input. */
  loadJSON(text: string): void {
    const parsed = JSON.parse(text) as { configTable?: Record<string, Record<string, unknown>> };
    this.table.clear();
    for (const [ns, kv] of Object.entries(parsed.configTable ?? {})) {
      for (const [k, v] of Object.entries(kv ?? {})) this.put(ns, k, String(v));
    }
  }
}

/** Loads a KvConfig from `path`; a missing file is an empty config. */
export async function loadKvConfig(path: string): Promise<KvConfig> {
  const kv = new KvConfig();
  try {
    kv.loadJSON(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read name server KV config ${path}: ${(err as Error).message}`);
    }
  }
  return kv;
}

/** Writes atomically (temp file + rename) so a crash never leaves half a file. */
export async function saveKvConfig(path: string, kv: KvConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(kv.toJSON(), null, 2));
  await rename(tmp, path);
}
