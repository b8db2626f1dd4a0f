// Topic name rules and the system-topic sets (protocol.md §3.1). Results, not exceptions: the
// processors turn a problem into a response code at one place.

import {
  AUTO_CREATE_TOPIC_KEY_TOPIC,
  BENCHMARK_TOPIC,
  DEFAULT_TRACE_TOPIC,
  OFFSET_MOVED_EVENT,
  SCHEDULE_TOPIC,
  SELF_TEST_TOPIC,
  SYSTEM_TOPIC_PREFIX,
  TRANS_CHECK_MAX_TIME_TOPIC,
  TRANS_HALF_TOPIC,
  TRANS_OP_HALF_TOPIC,
} from './constants.js';

export const TOPIC_MAX_LENGTH = 127;
const VALID_NAME = /^[%|a-zA-Z0-9_-]+$/;

/** Returns a remark describing why the topic name is invalid, or undefined when it is fine. */
export function topicNameProblem(topic: string): string | undefined {
  if (topic.trim() === '') return 'The specified topic is blank.';
  if (!VALID_NAME.test(topic)) {
    return `The specified topic[${topic}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`;
  }
  if (topic.length > TOPIC_MAX_LENGTH) {
    return `The specified topic is longer than topic max length ${TOPIC_MAX_LENGTH}.`;
  }
  return undefined;
}

/** Group names follow the same character rules (255 characters in Java's validator). */
export function groupNameProblem(group: string): string | undefined {
  if (group.trim() === '') return 'The specified group is blank.';
  if (!VALID_NAME.test(group)) {
    return `The specified group[${group}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`;
  }
  if (group.length > 255) return 'The specified group is longer than group max length 255.';
  return undefined;
}

const SYSTEM_TOPICS: ReadonlySet<string> = new Set([
  AUTO_CREATE_TOPIC_KEY_TOPIC,
  SCHEDULE_TOPIC,
  BENCHMARK_TOPIC,
  TRANS_HALF_TOPIC,
  DEFAULT_TRACE_TOPIC,
  TRANS_OP_HALF_TOPIC,
  TRANS_CHECK_MAX_TIME_TOPIC,
  SELF_TEST_TOPIC,
  OFFSET_MOVED_EVENT,
]);

const SEND_FORBIDDEN: ReadonlySet<string> = new Set([
  SCHEDULE_TOPIC,
  TRANS_HALF_TOPIC,
  TRANS_OP_HALF_TOPIC,
  TRANS_CHECK_MAX_TIME_TOPIC,
  SELF_TEST_TOPIC,
  OFFSET_MOVED_EVENT,
]);

/** System topics cannot be created or deleted through the admin codes. */
export function isSystemTopic(topic: string, clusterName: string, brokerName: string): boolean {
  return (
    SYSTEM_TOPICS.has(topic) ||
    topic.startsWith(SYSTEM_TOPIC_PREFIX) ||
    topic === clusterName ||
    topic === brokerName
  );
}

/** The system topics as served by GET_SYSTEM_TOPIC_LIST_FROM_BROKER. */
export function systemTopicList(clusterName: string, brokerName: string): string[] {
  return [...SYSTEM_TOPICS, clusterName, brokerName];
}

export function isSendForbidden(topic: string): boolean {
  return SEND_FORBIDDEN.has(topic);
}
