// Images map to local programs: the image's ENTRYPOINT becomes a shim script on the container's
// PATH that runs the TypeScript source with tsx, so pods run the code of this checkout.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');

export interface LocalImage {
  /** The image's ENTRYPOINT (used when a container has no command). */
  entrypoint: string[];
  /** The image's CMD (used when a container has neither command nor args). */
  cmd: string[];
}

/** Programs the shims provide, by name: the argv to exec. */
const PROGRAMS: Record<string, string[]> = {
  bolide: ['node', '--import', 'tsx', join(REPO_ROOT, 'broker-image/src/main.ts')],
  'bolide-operator': ['node', '--import', 'tsx', join(REPO_ROOT, 'operator/src/main.ts')],
};

/** Repository (the image name without tag or digest) → what the Dockerfile would run. */
const IMAGES: Record<string, LocalImage> = {
  'bolide/broker': { entrypoint: ['bolide'], cmd: ['standalone', '--data-dir', '/var/lib/bolide'] },
  'bolide/operator': { entrypoint: ['bolide-operator'], cmd: [] },
};

export function imageRepository(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  const repo = colon > slash ? noDigest.slice(0, colon) : noDigest;
  return repo.replace(/^(docker\.io\/|ghcr\.io\/[^/]+\/)/, '');
}

export function localImage(image: string, extra: Record<string, LocalImage> = {}): LocalImage {
  const repo = imageRepository(image);
  const found = extra[repo] ?? IMAGES[repo];
  if (!found)
    throw new Error(
      `no local program for image ${image} (known: ${Object.keys({ ...IMAGES, ...extra }).join(', ')})`,
    );
  return found;
}

/** The argv a container runs, by Kubernetes' rules for command/args vs ENTRYPOINT/CMD. */
export function containerArgv(image: LocalImage, command?: string[], args?: string[]): string[] {
  if (command && command.length > 0) return [...command, ...(args ?? [])];
  return [...image.entrypoint, ...(args && args.length > 0 ? args : image.cmd)];
}

/** Writes the shim scripts into `dir` (put it first on PATH). */
export async function writeShims(dir: string, extraPrograms: Record<string, string[]> = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  for (const [name, argv] of Object.entries({ ...PROGRAMS, ...extraPrograms })) {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\ncd ${quote(REPO_ROOT)}\nexec ${argv.map(quote).join(' ')} "$@"\n`);
    await chmod(path, 0o755);
  }
}
