// Crash-safe small files (configuration JSON, manifests): write a temp file, fdatasync it, keep the
// previous version as .bak, rename into place, fsync the directory. A crash leaves the old or the
// new content, never half of either; readers fall back to the temp or backup copy.

import { constants as fsc } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { closeFile, fdatasyncFile, fsyncDir, isNotFound, openFile, writeAt } from './file-io.js';

/** Replaces `path` atomically with `data`. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp`;
  const fd = await openFile(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC);
  try {
    await writeAt(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, 0);
    await fdatasyncFile(fd);
  } finally {
    await closeFile(fd);
  }
  await rename(path, `${path}.bak`).catch((err) => {
    if (!isNotFound(err)) throw err;
  });
  await rename(tmp, path);
  await fsyncDir(dir);
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Thrown when a file exists but neither it nor its temp/backup copy is valid. */
export class CorruptFileError extends Error {
  override readonly name = 'CorruptFileError';
}

/**
 * Reads the newest valid version of a file written by `writeFileAtomic`: the file itself, else the
 * completed temp file of an interrupted replace, else the backup. `valid` decides what counts as
 * whole (by default any text). Returns null when no version exists.
 */
export async function readFileWithFallback(
  path: string,
  valid: (text: string) => boolean = () => true,
): Promise<string | null> {
  let sawAny = false;
  for (const candidate of [path, `${path}.tmp`, `${path}.bak`]) {
    const text = await readIfExists(candidate);
    if (text === null) continue;
    sawAny = true;
    if (valid(text)) return text;
  }
  if (sawAny) throw new CorruptFileError(`${path}: no readable version (checked it, .tmp and .bak)`);
  return null;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Parses the newest valid JSON version of `path`; undefined when none exists. */
export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  const text = await readFileWithFallback(path, parses);
  return text === null ? undefined : (JSON.parse(text) as T);
}

/** Atomic text files in one directory, by name — what the broker's config managers persist through. */
export interface ConfigFileStore {
  /** The file's text, or null when it does not exist yet. */
  read(name: string): Promise<string | null>;
  /** Replaces the file atomically. Concurrent writes of one name are applied in call order. */
  write(name: string, text: string): Promise<void>;
}

/**
 * Config files under `dir` (RocketMQ keeps them in `<storePathRootDir>/config`). `isValid` lets
 * the reader skip a version that does not parse (e.g. a JSON check tolerant of fastjson's bare
 * integer keys); by default any non-empty text counts.
 */
export function createConfigFileStore(
  dir: string,
  isValid: (name: string, text: string) => boolean = (_n, t) => t.trim() !== '',
): ConfigFileStore {
  const chains = new Map<string, Promise<void>>();
  return {
    read: (name) => readFileWithFallback(join(dir, name), (text) => isValid(name, text)),
    write: (name, text) => {
      const prev = chains.get(name) ?? Promise.resolve();
      const next = prev.catch(() => undefined).then(() => writeFileAtomic(join(dir, name), text));
      chains.set(name, next);
      return next;
    },
  };
}
