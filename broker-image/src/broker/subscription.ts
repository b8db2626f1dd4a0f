// Tag subscriptions on the broker side: parsing expressions, the heartbeat's SubscriptionData,
// and the tag-hash filter a pull applies to consume-queue entries (protocol.md §3.3.3, §4.4).

import type { TagFilter } from '../store/index.js';

export const SUB_ALL = '*';

export interface SubscriptionData {
  topic: string;
  subString: string;
  tagsSet: string[];
  codeSet: number[];
  subVersion: number;
  expressionType: string;
  classFilterMode: boolean;
}

/** Java String.hashCode() as a signed int32 (the tag hash stored in consume queues). */
export function tagHashCode(tag: string): number {
  let h = 0;
  for (let i = 0; i < tag.length; i++) h = (Math.imul(31, h) + tag.charCodeAt(i)) | 0;
  return h;
}

export class SubscriptionParseError extends Error {
  override name = 'SubscriptionParseError';
}

/** FilterAPI.build for TAG expressions: `*`/empty = everything, else tags split on `||`. */
export function parseTagSubscription(
  topic: string,
  expression: string | undefined,
  subVersion: number,
): SubscriptionData {
  const trimmed = expression?.trim() ?? '';
  const base = { topic, subVersion, expressionType: 'TAG', classFilterMode: false };
  if (trimmed === '' || trimmed === SUB_ALL) return { ...base, subString: SUB_ALL, tagsSet: [], codeSet: [] };
  const tagsSet: string[] = [];
  const codeSet: number[] = [];
  for (const part of trimmed.split('||')) {
    const tag = part.trim();
    if (tag === '' || tagsSet.includes(tag)) continue;
    tagsSet.push(tag);
    codeSet.push(tagHashCode(tag));
  }
  if (tagsSet.length === 0)
    throw new SubscriptionParseError(`subscription expression names no tag: "${expression}"`);
  return { ...base, subString: trimmed, tagsSet, codeSet };
}

/** Normalises a heartbeat's subscription entry (ali-ons omits expressionType; codes may be missing). */
export function normaliseSubscription(raw: Record<string, unknown>): SubscriptionData {
  const topic = String(raw.topic ?? '');
  const subString = raw.subString === undefined || raw.subString === null ? SUB_ALL : String(raw.subString);
  const expressionType = raw.expressionType ? String(raw.expressionType) : 'TAG';
  const subVersion = Number(raw.subVersion ?? 0);
  if (expressionType !== 'TAG') {
    return {
      topic,
      subString,
      tagsSet: [],
      codeSet: [],
      subVersion,
      expressionType,
      classFilterMode: Boolean(raw.classFilterMode),
    };
  }
  const parsed = parseTagSubscription(topic, subString, subVersion);
  // The broker recomputes the codes from the tags so a client's wrong hash cannot hide messages.
  return { ...parsed, classFilterMode: Boolean(raw.classFilterMode) };
}

/** Tag filter over consume-queue tag hashes; undefined when everything matches. */
export function tagFilterOf(sub: SubscriptionData): TagFilter | undefined {
  if (sub.expressionType !== 'TAG' || sub.subString === SUB_ALL || sub.codeSet.length === 0) return undefined;
  const codes = new Set(sub.codeSet.map((c) => BigInt(c)));
  return (tagsCode: bigint) => codes.has(tagsCode);
}

/** Whether a record with this tag hash matches (for waking held pulls). */
export function subscriptionMatches(sub: SubscriptionData, tagsCode: bigint): boolean {
  const filter = tagFilterOf(sub);
  return filter === undefined || filter(tagsCode);
}
