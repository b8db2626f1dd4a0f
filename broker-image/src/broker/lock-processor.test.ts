import { describe, expect, it } from 'vitest';
import { parseLockBody } from './lock-processor.js';

const body = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('lock request bodies', () => {
  it('parses the Java shape', () => {
    expect(
      parseLockBody(
        body({
          clientId: '10.0.0.9@1',
          consumerGroup: 'CG',
          onlyThisBroker: false,
          mqSet: [{ brokerName: 'broker-a', queueId: 1, topic: 'T' }],
        }),
        'broker-a',
      ),
    ).toEqual({
      clientId: '10.0.0.9@1',
      consumerGroup: 'CG',
      mqSet: [{ topic: 'T', brokerName: 'broker-a', queueId: 1 }],
    });
    expect(parseLockBody(body({ clientId: 'c', consumerGroup: 'CG' }), 'b')).toEqual({
      clientId: 'c',
      consumerGroup: 'CG',
      mqSet: [],
    });
  });

  it('names what is wrong with bad input', () => {
    expect(parseLockBody(undefined, 'broker-a')).toMatch(/no body/);
    expect(parseLockBody(Buffer.from('{'), 'broker-a')).toMatch(/not JSON/);
    expect(parseLockBody(body({ consumerGroup: 'CG', mqSet: [] }), 'broker-a')).toMatch(/clientId/);
    expect(parseLockBody(body({ clientId: 'c', consumerGroup: 'a b', mqSet: [] }), 'broker-a')).toMatch(
      /illegal characters/,
    );
    expect(
      parseLockBody(
        body({ clientId: 'c', consumerGroup: 'CG', mqSet: [{ topic: 'T', queueId: 1 }] }),
        'broker-a',
      ),
    ).toMatch(/bad message queue/);
    expect(
      parseLockBody(
        body({
          clientId: 'c',
          consumerGroup: 'CG',
          mqSet: [{ topic: 'T', brokerName: 'broker-b', queueId: 1 }],
        }),
        'broker-a',
      ),
    ).toMatch(/belongs to broker broker-b; this is broker broker-a/);
  });
});
