// Fuzzing of the frame decoder, both header decoders and the body parser with random and
// mutated input: at least 100 000 cases in total. The contract under test: malformed input only
// ever raises the codec's own errors (ProtocolError for frames/headers, BodyParseError for
// bodies) — never a TypeError/RangeError or a hang — and whatever does decode is well-typed.
// The seed is fixed so failures reproduce; set FUZZ_SEED to explore other sequences.

import { deepStrictEqual } from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { encodeBodyJson, parseBodyJson, writeBodyJson } from './body-json.js';
import { decodeCommand, encodeCommand } from './codec.js';
import { LANGUAGES } from './codes.js';
import { createRequest, type RemotingCommand } from './command.js';
import { BodyParseError, ProtocolError } from './errors.js';
import { FrameDecoder } from './frame-decoder.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_b01d);

/** mulberry32: small, fast, good enough for test-case generation. */
function rng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const bytes = (n: number) => {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = int(256);
    return out;
  };
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const text = (maxLength: number) => {
    let out = '';
    const length = int(maxLength + 1);
    for (let i = 0; i < length; i++) {
      const kind = int(10);
      // Mostly ASCII, some control characters, some BMP, some astral (no lone surrogates).
      const cp =
        kind < 6
          ? 32 + int(95)
          : kind < 7
            ? int(32)
            : kind < 9
              ? 0xa0 + int(0xd7ff - 0xa0)
              : 0x10000 + int(0xfffff);
      out += String.fromCodePoint(cp);
    }
    return out;
  };
  return { next, int, bytes, pick, text };
}

type Rng = ReturnType<typeof rng>;

function randomCommand(r: Rng): RemotingCommand {
  const extFields: Record<string, string> = {};
  const fields = r.int(6);
  for (let i = 0; i < fields; i++) extFields[r.text(8) || 'k'] = r.text(20);
  return {
    ...createRequest(r.int(65536) - 32768, {
      extFields,
      body: r.int(3) === 0 ? undefined : r.bytes(r.int(120) + 1),
      remark: r.int(2) === 0 ? undefined : r.text(30) || 'r',
      serializeType: r.int(2) === 0 ? 'JSON' : 'ROCKETMQ',
    }),
    language: r.pick(LANGUAGES),
    version: r.int(65536) - 32768,
    opaque: r.int(2 ** 32) | 0,
    flag: r.int(4),
  };
}

/** Byte-level mutations: flip, overwrite, insert, delete, truncate, duplicate a range. */
function mutate(r: Rng, input: Buffer): Buffer {
  let out = Buffer.from(input);
  const rounds = 1 + r.int(4);
  for (let i = 0; i < rounds; i++) {
    const pos = out.length === 0 ? 0 : r.int(out.length);
    switch (r.int(6)) {
      case 0:
        if (out.length) out[pos] ^= 1 << r.int(8);
        break;
      case 1:
        if (out.length) out[pos] = r.pick([0, 0xff, 0x7f, 0x80, 0x22, 0x7b, 0x7d, 0x5c, r.int(256)]);
        break;
      case 2:
        out = Buffer.concat([out.subarray(0, pos), r.bytes(1 + r.int(8)), out.subarray(pos)]);
        break;
      case 3:
        out = Buffer.concat([out.subarray(0, pos), out.subarray(pos + 1 + r.int(8))]);
        break;
      case 4:
        out = out.subarray(0, pos);
        break;
      case 5: {
        const end = Math.min(out.length, pos + 1 + r.int(16));
        out = Buffer.concat([out.subarray(0, end), out.subarray(pos, end), out.subarray(end)]);
        break;
      }
    }
  }
  return out;
}

/** Plain checks (not `expect`, which is too slow for 100 000 cases): a decoded command is well-typed. */
function expectWellTyped(command: RemotingCommand): void {
  const ints = [command.code, command.opaque, command.flag, command.version];
  if (!ints.every(Number.isInteger))
    throw new Error(`non-integer numeric field in ${JSON.stringify(command)}`);
  if (!LANGUAGES.includes(command.language)) throw new Error(`bad language ${command.language}`);
  if (command.remark !== undefined && typeof command.remark !== 'string') throw new Error('bad remark');
  for (const key in command.extFields) {
    if (typeof command.extFields[key] !== 'string') throw new Error(`extFields.${key} is not a string`);
  }
  if (command.body !== undefined && !Buffer.isBuffer(command.body)) throw new Error('bad body');
}

function comparable(command: RemotingCommand): unknown[] {
  const { code, language, version, opaque, flag, remark, extFields, body, serializeTypeCurrentRPC } = command;
  return [
    code,
    language,
    version,
    opaque,
    flag,
    remark,
    { ...extFields },
    body?.toString('hex'),
    serializeTypeCurrentRPC,
  ];
}

/** Runs `fn`; returns 'ok', or 'rejected' when it threw one of `allowed`; anything else fails the test. */
function outcome(
  fn: () => void,
  allowed: (error: unknown) => boolean,
  input: Buffer | string,
): 'ok' | 'rejected' {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (allowed(error)) return 'rejected';
    throw new Error(
      `unexpected ${(error as Error)?.name}: ${(error as Error)?.message} for input ${
        typeof input === 'string' ? JSON.stringify(input) : input.toString('hex')
      } (seed ${SEED})`,
    );
  }
}

const isProtocolError = (error: unknown) => error instanceof ProtocolError;
const isBodyError = (error: unknown) => error instanceof BodyParseError;

/** Feeds `stream` in random chunks; decodes every frame. Stops at the first ProtocolError. */
function feed(
  r: Rng,
  stream: Buffer,
  maxFrameLength: number,
): { frames: RemotingCommand[]; results: string[] } {
  const decoder = new FrameDecoder({ maxFrameLength });
  const frames: RemotingCommand[] = [];
  const results: string[] = [];
  let pos = 0;
  while (pos < stream.length) {
    const size = r.pick([1, 2, 3, 7, 64, 1 + r.int(stream.length)]);
    const chunk = stream.subarray(pos, pos + size);
    pos += size;
    const result = outcome(
      () =>
        decoder.push(chunk, (frame) => {
          const decoded = outcome(() => frames.push(decodeCommand(frame)), isProtocolError, frame);
          results.push(decoded);
        }),
      isProtocolError,
      chunk,
    );
    if (result === 'rejected') {
      results.push('decoder-rejected');
      break;
    }
  }
  return { frames, results };
}

// Generous timeout: CPU is shared in CI; these are throughput-bound, not timing assertions.
describe(`codec fuzzing (seed ${SEED})`, { timeout: 120_000 }, () => {
  it('round-trips 20 000 random valid commands through randomly chunked streams', () => {
    const r = rng(SEED);
    let count = 0;
    while (count < 20_000) {
      const commands = Array.from({ length: 1 + r.int(5) }, () => randomCommand(r));
      count += commands.length;
      const { frames, results } = feed(r, Buffer.concat(commands.map(encodeCommand)), 1 << 20);
      deepStrictEqual(
        results,
        commands.map(() => 'ok'),
      );
      deepStrictEqual(frames.map(comparable), commands.map(comparable));
    }
  });

  it('survives 30 000 mutated frame streams (frame decoder + both header decoders)', () => {
    const r = rng(SEED + 1);
    const tally = { ok: 0, rejected: 0 };
    for (let i = 0; i < 30_000; i++) {
      const commands = Array.from({ length: 1 + r.int(3) }, () => randomCommand(r));
      const stream = mutate(r, Buffer.concat(commands.map(encodeCommand)));
      const { frames, results } = feed(r, stream, r.pick([64, 512, 1 << 20]));
      for (const frame of frames) expectWellTyped(frame);
      for (const result of results) tally[result === 'ok' ? 'ok' : 'rejected']++;
    }
    // Both paths must actually be exercised for the run to mean anything.
    expect(tally.ok).toBeGreaterThan(1000);
    expect(tally.rejected).toBeGreaterThan(1000);
  });

  it('survives 20 000 purely random byte streams', () => {
    const r = rng(SEED + 2);
    for (let i = 0; i < 20_000; i++) {
      const stream = r.bytes(r.int(200));
      // Half the time, give it a plausible length prefix so header decoding is reached.
      if (r.int(2) === 0 && stream.length >= 8) stream.writeInt32BE(stream.length - 4, 0);
      for (const frame of feed(r, stream, 1 << 20).frames) expectWellTyped(frame);
    }
  });

  it('survives 15 000 mutated JSON headers (ali-ons-style values, nesting, wrong types)', () => {
    const r = rng(SEED + 3);
    const templates = [
      '{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":0,"serializeTypeCurrentRPC":"JSON","version":409}',
      '{"code":310,"language":"JAVA","opaque":5,"version":121,"flag":0,"extFields":{"a":"PG","d":4,"g":1700000000000,"k":false}}',
      '{"code":0,"flag":1,"opaque":-1,"remark":"x\\u0001y","extFields":{"msgId":"AB","queueOffset":"9"}}',
    ];
    const tokens = [
      'null',
      'true',
      '{}',
      '[]',
      '"s"',
      '-1',
      '1e999',
      '2147483648',
      '{"a":{"b":[1]}}',
      '"\\ud800"',
      ',',
    ];
    for (let i = 0; i < 15_000; i++) {
      let text = r.pick(templates);
      if (r.int(2) === 0) {
        const pos = r.int(text.length);
        text = text.slice(0, pos) + r.pick(tokens) + text.slice(pos + r.int(6));
      }
      let header: Buffer = Buffer.from(text);
      if (r.int(2) === 0) header = mutate(r, header);
      const frame = Buffer.alloc(4 + header.length);
      frame.writeInt32BE(header.length, 0);
      header.copy(frame, 4);
      outcome(() => expectWellTyped(decodeCommand(frame)), isProtocolError, frame);
    }
  });

  it('survives 15 000 mutated ROCKETMQ binary headers', () => {
    const r = rng(SEED + 4);
    for (let i = 0; i < 15_000; i++) {
      const command = randomCommand(r);
      command.serializeTypeCurrentRPC = 'ROCKETMQ';
      const frame = mutate(r, encodeCommand(command).subarray(4));
      if (frame.length >= 4) frame[0] = 1; // keep it a binary header so the binary decoder is what gets fuzzed
      outcome(() => expectWellTyped(decodeCommand(frame)), isProtocolError, frame);
    }
  });

  it('round-trips 5 000 random fastjson bodies and survives 15 000 mutated and random ones', () => {
    const r = rng(SEED + 5);
    const randomValue = (depth: number): unknown => {
      switch (r.int(depth > 3 ? 5 : 9)) {
        case 0:
          return r.text(12);
        case 1:
          return r.int(2 ** 31) - 2 ** 30;
        case 2:
          return BigInt(r.int(2 ** 31)) * 2n ** 32n + BigInt(r.int(2 ** 31));
        case 3:
          return r.int(2) === 0;
        case 4:
          return r.next() * 1000;
        case 5:
          return Array.from({ length: r.int(4) }, () => randomValue(depth + 1));
        case 6:
          return Object.fromEntries(
            Array.from({ length: r.int(4) }, () => [r.text(6), randomValue(depth + 1)]),
          );
        case 7:
          return new Map(Array.from({ length: r.int(4) }, () => [r.int(100), randomValue(depth + 1)]));
        default:
          return new Map([
            [{ brokerName: r.text(4), queueId: r.int(16), topic: r.text(6) }, randomValue(depth + 1)],
          ]);
      }
    };
    // What the tolerant parser must return for a written value: Map keys become strings
    // (numbers in decimal, objects as their compact JSON), safe bigints become numbers.
    const asParsed = (value: unknown): unknown => {
      if (typeof value === 'bigint')
        return value >= -(2n ** 53n) && value <= 2n ** 53n ? Number(value) : value;
      if (Array.isArray(value)) return value.map(asParsed);
      if (value instanceof Map) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of value) out[typeof k === 'object' ? writeBodyJson(k) : String(k)] = asParsed(v);
        return out;
      }
      if (typeof value === 'object' && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asParsed(v)]));
      }
      return value;
    };
    const bodies: Buffer[] = [];
    for (let i = 0; i < 5_000; i++) {
      const value = randomValue(0);
      const text = writeBodyJson(value);
      deepStrictEqual(parseBodyJson(text), asParsed(value));
      bodies.push(encodeBodyJson(value));
    }
    for (let i = 0; i < 15_000; i++) {
      const input = i % 3 === 0 ? r.bytes(r.int(64)) : mutate(r, r.pick(bodies));
      outcome(() => parseBodyJson(input), isBodyError, input);
    }
  });
});
