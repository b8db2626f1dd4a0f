import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { encodeBodyJson, parseBodyJson, parseObjectKey, writeBodyJson } from './body-json.js';
import { BodyParseError } from './errors.js';

const mq = (topic: string, brokerName: string, queueId: number) => ({ brokerName, queueId, topic });

describe('writeBodyJson (fastjson dialect, protocol.md §1.6)', () => {
  it('writes integer-keyed maps with bare keys', () => {
    const brokerData = {
      brokerAddrs: new Map([
        [0, '10.0.0.1:10911'],
        [1, '10.0.0.2:10911'],
      ]),
    };
    expect(writeBodyJson(brokerData)).toBe('{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"}}');
  });

  it('writes MessageQueue-keyed maps with raw object keys (the §1.6 example)', () => {
    const body = { offsetTable: new Map([[mq('TopicTest', 'broker-a', 0), { brokerOffset: 10 }]]) };
    expect(writeBodyJson(body)).toBe(
      '{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:{"brokerOffset":10}}}',
    );
  });

  it('writes plain-object keys quoted: the §2.4 route body is standard JSON', () => {
    const route = {
      brokerDatas: [
        {
          brokerAddrs: { 0: '10.0.0.1:10911', 1: '10.0.0.2:10911' },
          brokerName: 'broker-a',
          cluster: 'DefaultCluster',
        },
      ],
      filterServerTable: {},
      queueDatas: [{ brokerName: 'broker-a', perm: 6, readQueueNums: 4, topicSysFlag: 0, writeQueueNums: 4 }],
    };
    const text = writeBodyJson(route);
    expect(text).toBe(
      '{"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}],' +
        '"filterServerTable":{},' +
        '"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}',
    );
    expect(JSON.parse(text)).toEqual(route);
  });

  it('omits null and undefined members, writes bigint bare, Set as array, Date as millis', () => {
    const value = {
      a: null,
      b: undefined,
      offset: 9223372036854775807n,
      tags: new Set(['TagA', 'TagB']),
      at: new Date(1700000000000),
      list: [1, undefined, null],
      nested: new Map<string, unknown>([
        ['x', null],
        ['y', 1],
      ]),
    };
    expect(writeBodyJson(value)).toBe(
      '{"offset":9223372036854775807,"tags":["TagA","TagB"],"at":1700000000000,"list":[1,null,null],"nested":{"y":1}}',
    );
  });

  it('escapes control characters like JSON (fastjson writes \\u0001)', () => {
    expect(writeBodyJson({ p: 'K\u0001V\u0002' })).toBe('{"p":"K\\u0001V\\u0002"}');
  });

  it('encodeBodyJson returns UTF-8 bytes', () => {
    expect(encodeBodyJson({ t: 'é' }).equals(Buffer.from('{"t":"é"}'))).toBe(true);
  });
});

describe('parseBodyJson (tolerant)', () => {
  it('parses standard JSON like JSON.parse', () => {
    const text = '{"a":[1,2.5,-3e2,true,false,null,"s\\n\\u00e9\\"x"],"b":{"c":{}},"d":[]}';
    expect(parseBodyJson(text)).toEqual(JSON.parse(text));
  });

  it('accepts fastjson bare numeric keys (§1.6 cluster info)', () => {
    const text =
      '{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"10.0.0.1:10911",-1:"x"},"brokerName":"broker-a","cluster":"DefaultCluster"}},' +
      '"clusterAddrTable":{"DefaultCluster":["broker-a"]}}';
    expect(parseBodyJson(text)).toEqual({
      brokerAddrTable: {
        'broker-a': {
          brokerAddrs: { '0': '10.0.0.1:10911', '-1': 'x' },
          brokerName: 'broker-a',
          cluster: 'DefaultCluster',
        },
      },
      clusterAddrTable: { DefaultCluster: ['broker-a'] },
    });
  });

  it('turns object keys into their compact JSON, decodable with parseObjectKey', () => {
    const text =
      '{"offsetTable":{ {"brokerName" : "broker-a","queueId":0,"topic":"TopicTest"} :{"brokerOffset":10}}}';
    const parsed = parseBodyJson(text) as { offsetTable: Record<string, unknown> };
    const [key] = Object.keys(parsed.offsetTable);
    expect(key).toBe('{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}');
    expect(parseObjectKey(key)).toEqual(mq('TopicTest', 'broker-a', 0));
    expect(parsed.offsetTable[key]).toEqual({ brokerOffset: 10 });
  });

  it('reads back what writeBodyJson wrote, including Map keys', () => {
    const value = {
      offsetTable: new Map([
        [mq('T', 'b', 0), { brokerOffset: 5n, consumerOffset: 3 }],
        [mq('T', 'b', 1), { brokerOffset: 7, consumerOffset: 7 }],
      ]),
      ids: new Map([[2, 'x']]),
    };
    const parsed = parseBodyJson(writeBodyJson(value)) as Record<string, Record<string, unknown>>;
    expect(Object.keys(parsed.offsetTable).map(parseObjectKey)).toEqual([mq('T', 'b', 0), mq('T', 'b', 1)]);
    expect(parsed.ids).toEqual({ '2': 'x' });
  });

  it('keeps integers beyond 2^53 exact as bigint (or rounds them on request)', () => {
    const text = '{"big":9223372036854775807,"neg":-9007199254740993,"safe":9007199254740991,"f":1.5e300}';
    expect(parseBodyJson(text)).toEqual({
      big: 9223372036854775807n,
      neg: -9007199254740993n,
      safe: 9007199254740991,
      f: 1.5e300,
    });
    expect((parseBodyJson(text, { largeIntegers: 'number' }) as { big: unknown }).big).toBe(2 ** 63);
  });

  it('accepts single quotes, identifier keys, raw control characters and a BOM', () => {
    expect(parseBodyJson("\ufeff{'a':'x\u0001y', plain_key$: 1}")).toEqual({ a: 'x\u0001y', plain_key$: 1 });
  });

  it('accepts a Buffer', () => {
    expect(parseBodyJson(Buffer.from('{"consumerIdList":["a@1","b@2"]}'))).toEqual({
      consumerIdList: ['a@1', 'b@2'],
    });
  });

  it('stores "__proto__" as an own key, not as the prototype', () => {
    const parsed = parseBodyJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['', 'unexpected end of input'],
    ['{"a":1', 'expected "," or "}"'],
    ['{"a" 1}', 'expected ":"'],
    ['[1 2]', 'expected "," or "]"'],
    ['{"a":"unterminated}', 'unterminated string'],
    ['"bad \\x escape"', 'bad escape'],
    ['"\\u12"', 'bad \\u escape'],
    ['{"a":1} trailing', 'unexpected text after the JSON value'],
    ['{:1}', 'expected an object key'],
    ['@', 'unexpected character'],
  ])('rejects %j with a positioned BodyParseError (%s)', (text, message) => {
    expect(() => parseBodyJson(text)).toThrow(BodyParseError);
    expect(() => parseBodyJson(text)).toThrow(message);
  });

  it('rejects nesting deeper than maxDepth instead of overflowing the stack', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(() => parseBodyJson(deep)).toThrow(/nesting deeper than 512/);
    expect(parseBodyJson('[[[1]]]', { maxDepth: 3 })).toEqual([[[1]]]);
    expect(() => parseBodyJson('[[[[1]]]]', { maxDepth: 3 })).toThrow(BodyParseError);
  });

  it('reports where the error is', () => {
    expect(() => parseBodyJson('{"a":1,"b":x}')).toThrow(expect.objectContaining({ position: 11 }));
  });
});
