// Where the broker's managers keep their JSON files (topics.json, subscriptionGroup.json,
// consumerOffset.json). The composition root adapts the store's atomic file helpers to this.

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
