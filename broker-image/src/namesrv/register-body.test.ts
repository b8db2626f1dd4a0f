import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeRegisterBody } from './register-body.js';

function chunk(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length);
  return Buffer.concat([len, body]);
}

describe('decodeRegisterBody', () => {
  it('reads the JSON RegisterBrokerBody of a Java broker', () => {
    const body = Buffer.from(
      '{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":3,"timestamp":1700000000000},' +
        '"topicConfigTable":{"TopicTest":{"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"TopicTest","topicSysFlag":0,"writeQueueNums":4}}}}',
    );
    expect(decodeRegisterBody(body, false)).toEqual({
      dataVersion: { counter: 3, timestamp: 1700000000000 },
      topicConfigTable: {
        TopicTest: {
          topicName: 'TopicTest',
          readQueueNums: 4,
          writeQueueNums: 4,
          perm: 6,
          topicFilterType: 'SINGLE_TAG',
          topicSysFlag: 0,
          order: false,
        },
      },
      filterServerList: [],
    });
  });

  it('reads the compressed form with space-separated or JSON topic entries', () => {
    const count = Buffer.alloc(4);
    count.writeInt32BE(2);
    const raw = Buffer.concat([
      chunk('{"counter":1,"timestamp":5}'),
      count,
      chunk('TopicA 8 8 6 SINGLE_TAG'),
      chunk('{"topicName":"TopicB","readQueueNums":2,"writeQueueNums":2,"perm":7}'),
      chunk('["10.0.0.1:4000"]'),
    ]);
    const decoded = decodeRegisterBody(deflateSync(raw), true);
    expect(decoded.dataVersion).toEqual({ counter: 1, timestamp: 5 });
    expect(decoded.topicConfigTable.TopicA).toMatchObject({ readQueueNums: 8, writeQueueNums: 8, perm: 6 });
    expect(decoded.topicConfigTable.TopicB).toMatchObject({ readQueueNums: 2, perm: 7 });
    expect(decoded.filterServerList).toEqual(['10.0.0.1:4000']);
  });

  it('treats an empty body as no topics and rejects garbage', () => {
    expect(decodeRegisterBody(undefined, false)).toEqual({
      dataVersion: null,
      topicConfigTable: {},
      filterServerList: [],
    });
    expect(() => decodeRegisterBody(Buffer.from('[1,2'), false)).toThrow();
    expect(() => decodeRegisterBody(Buffer.from('not zlib'), true)).toThrow();
    expect(() => decodeRegisterBody(deflateSync(Buffer.from([0, 0, 0, 50, 1])), true)).toThrow(/length/);
  });
});
