import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand, encodeCommandParts } from './codec.js';
import { RequestCode, ResponseCode } from './codes.js';
import {
  createRequest,
  createResponse,
  isOneway,
  isResponse,
  markOneway,
  type RemotingCommand,
} from './command.js';
import { ProtocolError } from './errors.js';
import { FrameDecoder } from './frame-decoder.js';

/** Hex with spaces and quoted ASCII runs, as protocol.md writes byte examples. */
function bytesOf(spec: string): Buffer {
  const parts: Buffer[] = [];
  for (const token of spec.match(/"[^"]*"|[0-9a-f]+/g) ?? []) {
    parts.push(token.startsWith('"') ? Buffer.from(token.slice(1, -1)) : Buffer.from(token, 'hex'));
  }
  return Buffer.concat(parts);
}

function jsonFrame(header: string, body?: Buffer): Buffer {
  const headerBytes = Buffer.from(header);
  const prefix = Buffer.alloc(8);
  prefix.writeInt32BE(4 + headerBytes.length + (body?.length ?? 0), 0);
  prefix.writeInt32BE(headerBytes.length, 4);
  return Buffer.concat([prefix, headerBytes, body ?? Buffer.alloc(0)]);
}

/** decodeCommand over the bytes after the length field, checking the length first. */
function decodeWhole(frame: Buffer): RemotingCommand {
  expect(frame.readInt32BE(0)).toBe(frame.length - 4);
  return decodeCommand(frame.subarray(4));
}

// protocol.md §1.2: a 4.9.8 client asking for the route of TopicTest, JSON header, opaque 0.
const ROUTE_REQUEST_JSON =
  '{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":0,"serializeTypeCurrentRPC":"JSON","version":409}';
// protocol.md §1.3.2: the same request with the ROCKETMQ binary header, opaque 1.
const ROUTE_REQUEST_BINARY =
  '0000002d 01000029 0069 00 0199 00000001 00000000 00000000 00000014 0005 "topic" 00000009 "TopicTest"';

describe('golden frames from protocol.md', () => {
  it('§1.2 JSON route request: exact bytes both ways', () => {
    const golden = jsonFrame(ROUTE_REQUEST_JSON);
    expect(golden.subarray(0, 8).toString('hex')).toBe('0000008700000083');
    const command = createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'TopicTest' } });
    expect(encodeCommand(command).equals(golden)).toBe(true);
    expect(decodeWhole(golden)).toEqual({ ...command, remark: undefined, body: undefined });
  });

  it('§1.3.2 ROCKETMQ route request: exact bytes both ways', () => {
    const golden = bytesOf(ROUTE_REQUEST_BINARY);
    const command = createRequest(105, { extFields: { topic: 'TopicTest' }, serializeType: 'ROCKETMQ' });
    command.opaque = 1;
    expect(encodeCommand(command).toString('hex')).toBe(golden.toString('hex'));
    const decoded = decodeWhole(golden);
    expect(decoded).toMatchObject({
      code: 105,
      language: 'JAVA',
      version: 409,
      opaque: 1,
      flag: 0,
      serializeTypeCurrentRPC: 'ROCKETMQ',
    });
    expect({ ...decoded.extFields }).toEqual({ topic: 'TopicTest' });
    expect(decoded.remark).toBeUndefined();
  });

  it('§3.2.1 SEND_MESSAGE_V2 header of a 4.9.8 client decodes with control characters intact', () => {
    const header =
      '{"code":310,"extFields":{"a":"PG","b":"TopicTest","c":"TBW102","d":"4","e":"1","f":"0","g":"1700000000000","h":"0","i":"UNIQ_KEY\\u0001ABC\\u0002WAIT\\u0001true\\u0002TAGS\\u0001TagA","j":"0","k":"false","m":"false","n":"broker-a"},"flag":0,"language":"JAVA","opaque":2,"serializeTypeCurrentRPC":"JSON","version":409}';
    const body = Buffer.from('hello');
    const decoded = decodeWhole(jsonFrame(header, body));
    expect(decoded.code).toBe(RequestCode.SEND_MESSAGE_V2);
    expect(decoded.opaque).toBe(2);
    expect(decoded.extFields.i).toBe('UNIQ_KEY\u0001ABC\u0002WAIT\u0001true\u0002TAGS\u0001TagA');
    expect(decoded.extFields.g).toBe('1700000000000');
    expect(decoded.body?.toString()).toBe('hello');
    // Re-encoding writes the same header text: same key order, same escapes.
    expect(encodeCommand(decoded).equals(jsonFrame(header, body))).toBe(true);
  });

  it('§3.5 NOTIFY_CONSUMER_IDS_CHANGED header is written exactly as Java writes it', () => {
    const command = markOneway(
      createRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, { extFields: { consumerGroup: 'CG' } }),
    );
    command.opaque = 17;
    const golden =
      '{"code":40,"extFields":{"consumerGroup":"CG"},"flag":2,"language":"JAVA","opaque":17,"serializeTypeCurrentRPC":"JSON","version":409}';
    expect(encodeCommand(command).equals(jsonFrame(golden))).toBe(true);
    expect(isOneway(command)).toBe(true);
  });
});

describe('JSON header decoding tolerance (protocol.md §1.3.1, §1.5, §9)', () => {
  it('accepts an ali-ons header: raw numbers and booleans in extFields, no remark, no serializeTypeCurrentRPC', () => {
    const header =
      '{"code":310,"language":"JAVA","opaque":5,"version":121,"flag":0,"extFields":{"a":"PG","d":4,"e":-1,"g":1700000000000,"k":false,"x":null}}';
    const decoded = decodeWhole(jsonFrame(header));
    expect({ ...decoded.extFields }).toEqual({ a: 'PG', d: '4', e: '-1', g: '1700000000000', k: 'false' });
    expect(decoded.version).toBe(121);
    expect(decoded.serializeTypeCurrentRPC).toBe('JSON');
  });

  it('defaults missing language/version/flag/opaque/extFields like Java', () => {
    const decoded = decodeWhole(jsonFrame('{"code":34}'));
    expect(decoded).toMatchObject({ code: 34, language: 'JAVA', version: 0, opaque: 0, flag: 0 });
    expect({ ...decoded.extFields }).toEqual({});
  });

  it('maps an unknown language to OTHER and ignores unknown top-level keys', () => {
    const decoded = decodeWhole(jsonFrame('{"code":1,"language":"COBOL","whatever":[1,2],"opaque":-7}'));
    expect(decoded.language).toBe('OTHER');
    expect(decoded.opaque).toBe(-7);
  });

  it('keeps a "__proto__" extFields key as a plain entry', () => {
    const decoded = decodeWhole(jsonFrame('{"code":1,"extFields":{"__proto__":"x","topic":"T"}}'));
    expect(Object.entries(decoded.extFields)).toEqual([
      ['__proto__', 'x'],
      ['topic', 'T'],
    ]);
  });

  it.each([
    ['not JSON', '{"code":'],
    ['an array', '[1,2]'],
    ['without code', '{"opaque":1}'],
    ['with a fractional code', '{"code":1.5}'],
    ['with an out-of-range opaque', '{"code":1,"opaque":4294967296}'],
    ['with a non-string remark', '{"code":1,"remark":{}}'],
    ['with non-object extFields', '{"code":1,"extFields":"a=b"}'],
  ])('rejects a header %s with ProtocolError', (_name, header) => {
    expect(() => decodeWhole(jsonFrame(header))).toThrow(ProtocolError);
  });
});

describe('encode/decode round trips', () => {
  const base = createRequest(RequestCode.SEND_MESSAGE_V2, {
    extFields: { a: 'PG', b: 'Topic', i: 'KEYS\u0001k1 k2\u0002', ключ: 'значение "q"' },
    body: Buffer.from([0, 1, 2, 255]),
    remark: 'remark ✓ with "quotes" and \\ backslash',
  });

  for (const serializeType of ['JSON', 'ROCKETMQ'] as const) {
    it(`round-trips every field with the ${serializeType} header`, () => {
      const command: RemotingCommand = {
        ...base,
        opaque: -123456,
        flag: 2,
        serializeTypeCurrentRPC: serializeType,
      };
      const decoded = decodeWhole(encodeCommand(command));
      expect({ ...decoded, extFields: { ...decoded.extFields } }).toEqual(command);
    });

    it(`round-trips a command without body, remark or extFields (${serializeType})`, () => {
      const command = createRequest(RequestCode.HEART_BEAT, { serializeType });
      const decoded = decodeWhole(encodeCommand(command));
      expect(decoded.body).toBeUndefined();
      expect(decoded.remark).toBeUndefined();
      expect({ ...decoded.extFields }).toEqual({});
    });
  }

  it('writes type byte 1 for ROCKETMQ and 0 for JSON in the second word', () => {
    const json = encodeCommand(createRequest(34));
    const binary = encodeCommand(createRequest(34, { serializeType: 'ROCKETMQ' }));
    expect(json[4]).toBe(0);
    expect(binary[4]).toBe(1);
  });

  it('a response takes the request serialization type and opaque, and sets the response flag', () => {
    const request = createRequest(105, { serializeType: 'ROCKETMQ' });
    request.opaque = 99;
    const response = createResponse(request, ResponseCode.TOPIC_NOT_EXIST, { remark: 'no route' });
    expect(response).toMatchObject({
      opaque: 99,
      code: 17,
      serializeTypeCurrentRPC: 'ROCKETMQ',
      remark: 'no route',
    });
    expect(isResponse(response)).toBe(true);
    expect(encodeCommand(response)[4]).toBe(1);
  });

  it('encodeCommandParts returns a large body without copying it, and inlines a small one', () => {
    const large = Buffer.alloc(64 * 1024, 7);
    const [head, bodyPart] = encodeCommandParts(createRequest(10, { body: large }));
    expect(bodyPart).toBe(large);
    expect(head.readInt32BE(0)).toBe(head.length - 4 + large.length);
    expect(Buffer.concat([head, large]).equals(encodeCommand(createRequest(10, { body: large })))).toBe(true);

    const small = Buffer.alloc(1024, 7);
    const [frame, none] = encodeCommandParts(createRequest(10, { body: small }));
    expect(none).toBeUndefined();
    expect(frame.equals(encodeCommand(createRequest(10, { body: small })))).toBe(true);
  });

  it('decodes a stream of mixed JSON and binary frames through the frame decoder', () => {
    const commands = Array.from({ length: 20 }, (_, i) => {
      const c = createRequest(i + 10, {
        extFields: { n: String(i) },
        body: i % 3 ? Buffer.alloc(i * 10, i) : undefined,
        serializeType: i % 2 ? 'ROCKETMQ' : 'JSON',
      });
      c.opaque = i;
      return c;
    });
    const stream = Buffer.concat(commands.map(encodeCommand));
    const decoder = new FrameDecoder();
    const decoded: RemotingCommand[] = [];
    for (let pos = 0; pos < stream.length; pos += 13) {
      decoder.push(stream.subarray(pos, pos + 13), (f) => decoded.push(decodeCommand(f)));
    }
    expect(
      decoded.map((c) => [c.code, c.opaque, c.extFields.n, c.body?.length ?? 0, c.serializeTypeCurrentRPC]),
    ).toEqual(
      commands.map((c) => [c.code, c.opaque, c.extFields.n, c.body?.length ?? 0, c.serializeTypeCurrentRPC]),
    );
  });
});

describe('malformed frames', () => {
  it('rejects an unknown serialization type', () => {
    const frame = Buffer.from('0200000000', 'hex');
    expect(() => decodeCommand(frame)).toThrow(/unknown header serialization type 2/);
  });

  it('rejects a header length beyond the frame', () => {
    const frame = Buffer.alloc(8);
    frame.writeInt32BE(100, 0);
    expect(() => decodeCommand(frame)).toThrow(ProtocolError);
  });

  it('rejects a frame too short for the header-length word', () => {
    expect(() => decodeCommand(Buffer.alloc(3))).toThrow(ProtocolError);
  });

  it('rejects truncated or overrunning binary headers', () => {
    const golden = bytesOf(ROUTE_REQUEST_BINARY).subarray(4);
    // Cut the header short by shrinking its declared length.
    for (let cut = 1; cut < golden.length - 4; cut++) {
      const frame = Buffer.from(golden.subarray(0, golden.length - cut));
      frame.writeUInt32BE((1 << 24) | (frame.length - 4), 0);
      expect(() => decodeCommand(frame), `cut ${cut}`).toThrow(ProtocolError);
    }
    const badKey = Buffer.from(golden);
    badKey.writeInt16BE(-1, 4 + 21);
    expect(() => decodeCommand(badKey)).toThrow(/key length -1/);
    const badRemark = Buffer.from(golden);
    badRemark.writeInt32BE(1000, 4 + 13);
    expect(() => decodeCommand(badRemark)).toThrow(/remark/);
  });

  it('maps an out-of-range binary language byte to OTHER', () => {
    const frame = Buffer.from(bytesOf(ROUTE_REQUEST_BINARY).subarray(4));
    frame[4 + 2] = 99;
    expect(decodeCommand(frame).language).toBe('OTHER');
  });
});
