// Where the broker's managers keep their JSON files (topics.json, subscriptionGroup.json,
// consumerOffset.json), as Java does under `<storePathRootDir>/config`.

import { parseBodyJson } from '../protocol/index.js';
import { createConfigFileStore } from '../store/index.js';

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

/**
 * Files in `dir` (Java: `<storePathRootDir>/config`) through the store's crash-safe writer; a
 * version that does not parse (fastjson dialect accepted) is skipped in favour of the backup.
 */
export function directoryConfigFiles(dir: string): ConfigFiles {
  return createConfigFileStore(dir, (_name, text) => {
    if (text.trim() === '') return false;
    try {
      parseBodyJson(text);
      return true;
    } catch {
      return false;
    }
  });
}
