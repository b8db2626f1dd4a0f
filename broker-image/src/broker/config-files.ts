// Where the broker's managers keep their JSON files (topics.json, subscriptionGroup.json,
// consumerOffset.json), as Java does under `<storePathRootDir>/config`.

import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

export interface ConfigFiles {
  /** The file's text, or null when it does not exist yet. */
  read(name: string): Promise<string | null>;
  /** Replaces the file atomically (a crash leaves the old or the new content, never half). */
  write(name: string, text: string): Promise<void>;
}

/** In-memory files, for unit tests and embedded use without persistence. */
export function memoryConfigFiles(
  initial: Record<string, string> = {},
): ConfigFiles & { files: Map<string, string> } {
  const files = new Map(Object.entries(initial));
  return {
    files,
    read: async (name) => files.get(name) ?? null,
    write: async (name, text) => {
      files.set(name, text);
    },
  };
}

/** Files in `dir` (Java: `<storePathRootDir>/config`), written via temp file + fsync + rename. */
export function directoryConfigFiles(dir: string): ConfigFiles {
  return {
    read: async (name) => {
      try {
        return await readFile(join(dir, name), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    write: async (name, text) => {
      await mkdir(dir, { recursive: true });
      const target = join(dir, name);
      const tmp = `${target}.tmp`;
      const handle = await open(tmp, 'w');
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, target);
    },
  };
}
