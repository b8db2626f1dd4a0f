import { describe, expect, it } from 'vitest';
import {
  normaliseSubscription,
  parseTagSubscription,
  SubscriptionParseError,
  subscriptionMatches,
  tagFilterOf,
  tagHashCode,
} from './subscription.js';
import { isSendForbidden, isSystemTopic, topicNameProblem } from './topic-validation.js';

describe('tag subscriptions', () => {
  it('hashes tags like Java String.hashCode', () => {
    expect(tagHashCode('TagA')).toBe(2598919);
    expect(tagHashCode('TagB')).toBe(2598920);
    expect(tagHashCode('')).toBe(0);
    expect(tagHashCode('a much longer tag that overflows')).toBeLessThan(2 ** 31);
  });

  it('parses expressions and filters by tag hash', () => {
    const all = parseTagSubscription('T', ' * ', 1);
    expect(all.subString).toBe('*');
    expect(tagFilterOf(all)).toBeUndefined();
    const ab = parseTagSubscription('T', 'TagA || TagB ||TagA', 1);
    expect(ab.tagsSet).toEqual(['TagA', 'TagB']);
    expect(ab.codeSet).toEqual([2598919, 2598920]);
    const filter = tagFilterOf(ab)!;
    expect(filter(2598919n)).toBe(true);
    expect(filter(0n)).toBe(false);
    expect(subscriptionMatches(ab, 2598920n)).toBe(true);
    expect(() => parseTagSubscription('T', '||', 1)).toThrow(SubscriptionParseError);
  });

  it('normalises heartbeat subscriptions from ali-ons (no expressionType) and recomputes codes', () => {
    const sub = normaliseSubscription({
      topic: 'T',
      subString: 'TagA',
      tagsSet: ['TagA'],
      codeSet: [1],
      subVersion: 5,
    });
    expect(sub).toMatchObject({ expressionType: 'TAG', codeSet: [2598919], subVersion: 5 });
  });
});

describe('topic validation', () => {
  it('checks names and system topics', () => {
    expect(topicNameProblem('TopicTest')).toBeUndefined();
    expect(topicNameProblem('%RETRY%CG')).toBeUndefined();
    expect(topicNameProblem('bad topic')).toContain('illegal characters');
    expect(topicNameProblem('')).toContain('blank');
    expect(topicNameProblem('x'.repeat(128))).toContain('longer');
    expect(isSystemTopic('TBW102', 'C', 'B')).toBe(true);
    expect(isSystemTopic('rmq_sys_x', 'C', 'B')).toBe(true);
    expect(isSystemTopic('B', 'C', 'B')).toBe(true);
    expect(isSystemTopic('TopicTest', 'C', 'B')).toBe(false);
    expect(isSendForbidden('SCHEDULE_TOPIC_XXXX')).toBe(true);
    expect(isSendForbidden('TBW102')).toBe(false);
  });
});
