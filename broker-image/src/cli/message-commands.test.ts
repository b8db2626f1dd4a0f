import { describe, expect, it } from 'vitest';
import type { MessageExt } from '../client/index.js';
import { formatMessageDetails } from './message-commands.js';

describe('formatMessageDetails', () => {
  it('prints every field, properties sorted, and the body as a JSON string', () => {
    const m = {
      topic: 'T',
      brokerName: 'broker-a',
      queueId: 1,
      queueOffset: 7,
      tags: 'TagA',
      keys: 'k1 k2',
      msgId: 'UNIQ',
      offsetMsgId: 'OFFSET',
      bornTimestamp: 0,
      bornHost: '10.0.0.1:1',
      storeTimestamp: Date.UTC(2024, 0, 1),
      storeHost: '10.0.0.2:10911',
      reconsumeTimes: 2,
      commitLogOffset: 1234,
      body: Buffer.from('hi "there"'),
      properties: { b: '2', a: '1' },
    } as unknown as MessageExt;
    const lines = formatMessageDetails(m);
    expect(lines).toContain('Queue:             broker-a:1');
    expect(lines).toContain('Keys:              k1 k2');
    expect(lines).toContain('Born:              - from 10.0.0.1:1');
    expect(lines).toContain('Stored:            2024-01-01T00:00:00.000Z on 10.0.0.2:10911');
    expect(lines.slice(lines.indexOf('Properties:') + 1, lines.indexOf('Properties:') + 3)).toEqual([
      '  a=1',
      '  b=2',
    ]);
    expect(lines.at(-1)).toBe('Body:              "hi \\"there\\""');
  });
});
