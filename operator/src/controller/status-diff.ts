import { canonicalJson } from '../desired/index.js';

/** True when `next` differs from the fields of the same names in `old` (absent and undefined are equal). */
export function statusChanged(old: object | undefined, next: object): boolean {
  const current = (old ?? {}) as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(next)) picked[key] = current[key];
  return canonicalJson(picked) !== canonicalJson(next);
}

/** RFC 3339 with whole seconds, as metav1.Time is stored (so a re-read status compares equal). */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
