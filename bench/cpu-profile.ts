// Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and ranks functions by self time, so a
// benchmark can say what dominates a process's CPU without opening DevTools.

import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTimeEntry {
  /** `name (file:line)`; file relative to `root` when under it. */
  name: string;
  selfMs: number;
  /** Share of all sampled time, idle included, percent. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  idleMs: number;
  /** Functions by self time. */
  top: SelfTimeEntry[];
  /** Self time per area: a source folder (`broker-image/src/store`), `node_modules/<pkg>`, `node internals`, `native`, `gc`, `idle`. */
  areas: SelfTimeEntry[];
}

function area(node: ProfileNode, root: string): string {
  const { functionName, url } = node.callFrame;
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'gc';
  if (!url) return functionName === '(program)' ? 'program' : 'native (fs/net bindings, builtins)';
  if (url.startsWith('node:')) return 'node internals';
  const file = relative(root, url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url);
  const parts = file.split('/');
  if (parts[0] === 'node_modules') return parts.slice(0, parts[1]?.startsWith('@') ? 3 : 2).join('/');
  return parts.slice(0, Math.max(1, parts.length - 1)).join('/');
}

function label(node: ProfileNode, root: string): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  let file = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  if (file.startsWith(root)) file = relative(root, file);
  // Line numbers of tsx-transpiled TypeScript do not match the source; name and file suffice there.
  return file.endsWith('.ts') ? `${name} (${file})` : `${name} (${file}:${lineNumber + 1})`;
}

/** Self time per function (same name, file and line merged), largest first. */
export async function summarizeCpuProfile(file: string, root: string, top = 20): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the gap before sample i, so sample i's duration is the next delta.
  for (let i = 0; i < samples.length; i++) {
    const duration = deltas[i + 1] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, duration));
  }
  const merged = new Map<string, number>();
  const areas = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    if (node.callFrame.functionName === '(idle)') idleUs += us;
    const key = label(node, root);
    merged.set(key, (merged.get(key) ?? 0) + us);
    const where = area(node, root);
    areas.set(where, (areas.get(where) ?? 0) + us);
  }
  const entries = (m: Map<string, number>, limit: number): SelfTimeEntry[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({
        name,
        selfMs: Math.round(us / 1000),
        percent: totalUs > 0 ? Number(((us / totalUs) * 100).toFixed(1)) : 0,
      }));
  return {
    file,
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    top: entries(merged, top),
    areas: entries(areas, 12),
  };
}

/**
 * The main-thread profile that process `pid` wrote to `dir` (`CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`;
 * thread 0 is the main thread, others are e.g. the module loader's worker).
 */
export async function mainThreadCpuProfile(dir: string, pid: number): Promise<string | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const name = names.find(
    (n) =>
      n.startsWith('CPU.') &&
      n.endsWith('.cpuprofile') &&
      n.split('.')[3] === String(pid) &&
      n.split('.')[4] === '0',
  );
  return name ? join(dir, name) : undefined;
}
