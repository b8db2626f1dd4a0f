import { describe, expect, it } from 'vitest';
import { decodeProperties, splitKeys } from '../message/properties.js';
import { computeTagsCode, emptyRequest, keyHashesInto, SCHEDULE_TOPIC } from './dispatcher.js';
import { indexKeyHash, keyHashSeed, TopicSeeds } from './key-index.js';
import { dispatchRequestAt } from './log-scanner.js';
import { encodeRecord, type RecordFields } from './record-codec.js';

const DELAY_LEVELS = [1000, 5000, 10000];

function record(topic: string, properties: string, overrides: Partial<RecordFields> = {}): Buffer {
  return encodeRecord({
    topic,
    queueId: 3,
    flag: 0,
    queueOffset: 41n,
    physicalOffset: 4096n,
    sysFlag: 0,
    bornTimestamp: 1700000000000,
    bornHost: { address: '10.0.0.9', port: 54321 },
    storeTimestamp: 1700000000123,
    storeHost: { address: '10.0.0.1', port: 10911 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    body: Buffer.from('body'),
    properties,
    ...overrides,
  });
}

/** What dispatch must see, worked out from the decoded strings (the writer's path). */
function expected(topic: string, properties: string, storeTimestamp: number) {
  const props = decodeProperties(properties);
  const hashes: number[] = [];
  const count = keyHashesInto(hashes, keyHashSeed(topic), props.get('UNIQ_KEY'), props.get('KEYS'));
  return {
    tagsCode: computeTagsCode(topic, props.get('TAGS'), props.get('DELAY'), storeTimestamp, DELAY_LEVELS),
    keyHashes: hashes.slice(0, count),
  };
}

const CASES: [string, string][] = [
  ['plain', 'UNIQ_KEY\u0001ABC\u0002KEYS\u0001order-1 customer-2\u0002TAGS\u0001TagA\u0002CLUSTER\u0001c'],
  ['no properties', ''],
  ['unicode tag and keys', 'TAGS\u0001标签\u0002KEYS\u0001clé  ключ \u0002UNIQ_KEY\u0001ü'],
  ['empty values and names', 'TAGS\u0001\u0002KEYS\u0001\u0002\u0001x\u0002UNIQ_KEY\u0001'],
  [
    'look-alike names',
    'TAGSX\u0001a\u0002XTAGS\u0001b\u0002KEY\u0001c\u0002UNIQ_KEYS\u0001d\u0002TAGS\u0001real',
  ],
  ['separator inside a value', 'KEYS\u0001a\u0001b c\u0002TAGS\u0001t\u0001u'],
  ['segment without name separator', 'TAGS\u0002KEYS\u0001k1\u0002\u0002\u0002TAGS\u0001last'],
  ['keys with leading, trailing and repeated spaces', 'KEYS\u0001 a  b '],
  ['later duplicate wins for tags', 'TAGS\u0001first\u0002TAGS\u0001second'],
];

describe('dispatchRequestAt', () => {
  for (const [name, properties] of CASES) {
    it(`reads the same tag code and index keys as the decoded properties: ${name}`, () => {
      const topic = 'TopicTest';
      const buf = Buffer.concat([Buffer.alloc(7), record(topic, properties)]);
      const r = dispatchRequestAt(
        buf,
        7,
        buf.length - 7,
        4096,
        DELAY_LEVELS,
        new TopicSeeds(),
        emptyRequest(),
      );
      const want = expected(topic, properties, 1700000000123);
      expect(r.tagsCode).toBe(want.tagsCode);
      // The same keys (their order does not matter to the index).
      const byValue = (a: number, b: number) => a - b;
      expect(r.keyHashes.slice(0, r.keyCount).sort(byValue)).toEqual(want.keyHashes.sort(byValue));
      expect(r).toMatchObject({
        topic,
        queueId: 3,
        queueOffset: 41,
        physicalOffset: 4096,
        storeTimestamp: 1700000000123,
      });
    });
  }

  it('hashes index keys as "<topic>#<key>"', () => {
    const properties = 'UNIQ_KEY\u0001U1\u0002KEYS\u0001k1 k2';
    const buf = record('Orders', properties);
    const r = dispatchRequestAt(buf, 0, buf.length, 4096, DELAY_LEVELS, new TopicSeeds(), emptyRequest());
    const keys = ['U1', ...splitKeys('k1 k2')];
    expect(r.keyHashes.slice(0, r.keyCount)).toEqual(keys.map((k) => indexKeyHash('Orders', k)));
  });

  it('gives scheduled messages their delivery time as tag code', () => {
    const properties = 'TAGS\u0001t\u0002DELAY\u00012';
    const buf = record(SCHEDULE_TOPIC, properties);
    const r = dispatchRequestAt(buf, 0, buf.length, 4096, DELAY_LEVELS, new TopicSeeds(), emptyRequest());
    expect(r.tagsCode).toBe(1700000000123 + 5000);
  });

  it('reuses the request object without leaking keys of the previous record', () => {
    const seeds = new TopicSeeds();
    const req = emptyRequest();
    const a = record('T', 'KEYS\u0001a b c d');
    const b = record('T', 'TAGS\u0001x');
    dispatchRequestAt(a, 0, a.length, 0, DELAY_LEVELS, seeds, req);
    expect(req.keyCount).toBe(4);
    dispatchRequestAt(b, 0, b.length, a.length, DELAY_LEVELS, seeds, req);
    expect(req.keyCount).toBe(0);
  });
});
