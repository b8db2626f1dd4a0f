// Tag subscription expressions ("*", "TagA || TagB") → the SubscriptionData a heartbeat carries
// and the client-side tag re-check (protocol.md §3.5, §4.4).

import { javaStringHashCode } from '../message/index.js';

export const SUB_ALL = '*';

export interface SubscriptionData {
  topic: string;
  subString: string;
  tagsSet: string[];
  /** Java String.hashCode() of each tag. */
  codeSet: number[];
  /** Version of the subscription: the client time it was made. */
  subVersion: number;
  expressionType: 'TAG';
  classFilterMode: false;
}

/** Java String.hashCode(): 31·h + c over UTF-16 code units, as a signed int32. */
export const javaStringHash = (s: string): number => javaStringHashCode(s);

/** Like FilterAPI.buildSubscriptionData; throws on an expression that names no tag. */
export function buildSubscription(
  topic: string,
  expression: string | undefined,
  subVersion: number,
): SubscriptionData {
  const trimmed = expression?.trim() ?? '';
  if (trimmed === '' || trimmed === SUB_ALL) {
    return {
      topic,
      subString: SUB_ALL,
      tagsSet: [],
      codeSet: [],
      subVersion,
      expressionType: 'TAG',
      classFilterMode: false,
    };
  }
  const tagsSet: string[] = [];
  const codeSet: number[] = [];
  for (const part of trimmed.split('||')) {
    const tag = part.trim();
    if (tag.length === 0 || tagsSet.includes(tag)) continue;
    tagsSet.push(tag);
    const code = javaStringHash(tag);
    if (!codeSet.includes(code)) codeSet.push(code);
  }
  if (tagsSet.length === 0) throw new Error(`subscription expression names no tag: "${expression}"`);
  return {
    topic,
    subString: trimmed,
    tagsSet,
    codeSet,
    subVersion,
    expressionType: 'TAG',
    classFilterMode: false,
  };
}

/** The client-side re-check after the broker's hash filter (hash collisions pass the broker). */
export function matchesTags(subscription: SubscriptionData, tags: string | undefined): boolean {
  if (subscription.tagsSet.length === 0) return true;
  return tags !== undefined && subscription.tagsSet.includes(tags);
}
