/** metav1.LabelSelector as it appears in specs (Deployment.spec.selector, PDBs, …). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }>;
}

export type LabelRequirement =
  | { key: string; op: 'in' | 'notin'; values: readonly string[] }
  | { key: string; op: 'exists' | 'doesnotexist' };

const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, source: string): string {
  if (!KEY.test(key) || key.length > 316) {
    throw new Error(`invalid label key ${JSON.stringify(key)} in selector ${JSON.stringify(source)}`);
  }
  return key;
}

function checkValue(value: string, source: string): string {
  if (!VALUE.test(value) || value.length > 63) {
    throw new Error(`invalid label value ${JSON.stringify(value)} in selector ${JSON.stringify(source)}`);
  }
  return value;
}

/** Splits on commas that are not inside a `( … )` value set. */
function splitTerms(source: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    if (depth < 0) throw new Error(`unbalanced ")" in selector ${JSON.stringify(source)}`);
    if (c === ',' && depth === 0) {
      terms.push(source.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new Error(`unbalanced "(" in selector ${JSON.stringify(source)}`);
  terms.push(source.slice(start));
  return terms.map((t) => t.trim());
}

/**
 * Parses the string form used by `?labelSelector=` and kubectl -l:
 * `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, joined by commas.
 */
export function parseLabelSelector(source: string): LabelRequirement[] {
  if (source.trim() === '') return [];
  const out: LabelRequirement[] = [];
  for (const term of splitTerms(source)) {
    if (term === '') throw new Error(`empty requirement in selector ${JSON.stringify(source)}`);
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
    if (set) {
      const values = set[3].split(',').map((v) => checkValue(v.trim(), source));
      out.push({ key: checkKey(set[1], source), op: set[2] as 'in' | 'notin', values });
      continue;
    }
    const cmp = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (cmp) {
      const key = checkKey(cmp[1], source);
      const value = checkValue(cmp[3], source);
      out.push({ key, op: cmp[2] === '!=' ? 'notin' : 'in', values: [value] });
      continue;
    }
    if (term.startsWith('!')) {
      out.push({ key: checkKey(term.slice(1).trim(), source), op: 'doesnotexist' });
      continue;
    }
    if (/^\S+$/.test(term) && !/[=!()]/.test(term)) {
      out.push({ key: checkKey(term, source), op: 'exists' });
      continue;
    }
    throw new Error(`cannot parse requirement ${JSON.stringify(term)} in selector ${JSON.stringify(source)}`);
  }
  return out;
}

/** Requirements of a structured selector; an empty selector yields none (matches everything). */
export function requirementsOf(selector: LabelSelector): LabelRequirement[] {
  const out: LabelRequirement[] = [];
  const source = JSON.stringify(selector);
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    out.push({ key: checkKey(k, source), op: 'in', values: [checkValue(v, source)] });
  }
  for (const e of selector.matchExpressions ?? []) {
    const key = checkKey(e.key, source);
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (!e.values?.length)
          throw new Error(`operator ${e.operator} on ${e.key} needs values in ${source}`);
        out.push({
          key,
          op: e.operator === 'In' ? 'in' : 'notin',
          values: e.values.map((v) => checkValue(v, source)),
        });
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (e.values?.length)
          throw new Error(`operator ${e.operator} on ${e.key} takes no values in ${source}`);
        out.push({ key, op: e.operator === 'Exists' ? 'exists' : 'doesnotexist' });
        break;
      default:
        throw new Error(`unknown selector operator ${JSON.stringify((e as { operator: unknown }).operator)}`);
    }
  }
  return out;
}

/** Normalises either form into requirements. */
export function toRequirements(selector: string | LabelSelector | undefined): LabelRequirement[] {
  if (selector === undefined) return [];
  return typeof selector === 'string' ? parseLabelSelector(selector) : requirementsOf(selector);
}

/** The string form, for `?labelSelector=`. */
export function formatLabelSelector(selector: string | LabelSelector): string {
  return toRequirements(selector)
    .map((r) => {
      switch (r.op) {
        case 'exists':
          return r.key;
        case 'doesnotexist':
          return `!${r.key}`;
        case 'in':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        default:
          return r.values.length === 1
            ? `${r.key}!=${r.values[0]}`
            : `${r.key} notin (${r.values.join(',')})`;
      }
    })
    .join(',');
}

/** True when `labels` satisfy every requirement (a missing label satisfies `!=` and `notin`). */
export function matchesLabels(
  requirements: readonly LabelRequirement[],
  labels: Record<string, string> = {},
): boolean {
  for (const r of requirements) {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'exists':
        if (!has) return false;
        break;
      case 'doesnotexist':
        if (has) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(labels[r.key])) return false;
        break;
      case 'notin':
        if (has && r.values.includes(labels[r.key])) return false;
        break;
    }
  }
  return true;
}
