import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { FrameTooLargeError, ProtocolError } from './errors.js';
import { FrameDecoder } from './frame-decoder.js';

/** A frame with `payload` after the length field. */
function frame(payload: Buffer): Buffer {
  const out = Buffer.alloc(4 + payload.length);
  out.writeInt32BE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

function payloads(count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(`${'x'.repeat(4 + (i % 7))}-${i}`));
}

function decodeChunks(chunks: Buffer[], decoder = new FrameDecoder()): string[] {
  const out: string[] = [];
  for (const chunk of chunks) decoder.push(chunk, (f) => out.push(f.toString()));
  return out;
}

describe('FrameDecoder', () => {
  const expected = payloads(5);
  const stream = Buffer.concat(expected.map(frame));

  it('decodes a stream split at every possible pair of boundaries', () => {
    const want = expected.map(String);
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b += 3) {
        const chunks = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)];
        expect(decodeChunks(chunks)).toEqual(want);
      }
    }
  });

  it('decodes 1-byte chunks', () => {
    const chunks = [...stream].map((byte) => Buffer.from([byte]));
    expect(decodeChunks(chunks)).toEqual(expected.map(String));
  });

  it('hands out frames inside one chunk as views of it (no copy)', () => {
    const decoder = new FrameDecoder();
    const frames = decoder.pushAll(stream);
    expect(frames).toHaveLength(5);
    expect(frames[0].buffer).toBe(stream.buffer);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('keeps a partial frame buffered until it completes', () => {
    const decoder = new FrameDecoder();
    expect(decoder.pushAll(stream.subarray(0, 6))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(2);
    expect(decoder.pushAll(stream.subarray(6)).map(String)).toEqual(expected.map(String));
  });

  it('ignores empty chunks', () => {
    expect(decodeChunks([Buffer.alloc(0), stream, Buffer.alloc(0)])).toHaveLength(5);
  });

  it('accepts a frame exactly at the limit and rejects one byte more, counting the length field', () => {
    const atLimit = frame(Buffer.alloc(60));
    expect(new FrameDecoder({ maxFrameLength: 64 }).pushAll(atLimit)).toHaveLength(1);
    const decoder = new FrameDecoder({ maxFrameLength: 64 });
    const over = frame(Buffer.alloc(61));
    // Rejected as soon as the length field is read, before the body arrives.
    expect(() => decoder.pushAll(over.subarray(0, 4))).toThrow(FrameTooLargeError);
    expect(() => decoder.pushAll(Buffer.alloc(1))).toThrow(FrameTooLargeError);
  });

  it('rejects lengths below 4 and negative lengths as protocol errors', () => {
    for (const length of [0, 3, -1, -2147483648]) {
      const bytes = Buffer.alloc(8);
      bytes.writeInt32BE(length, 0);
      expect(() => new FrameDecoder().pushAll(bytes)).toThrow(ProtocolError);
    }
  });

  it('reports the frame size in the error', () => {
    const bytes = Buffer.alloc(4);
    bytes.writeInt32BE(16 * 1024 * 1024, 0);
    expect(() => new FrameDecoder().pushAll(bytes)).toThrow(
      /frame length 16777220 exceeds the maximum 16777216/,
    );
  });

  it('stops after a frame when the callback returns false, and continues on the next push', () => {
    const decoder = new FrameDecoder();
    const seen: string[] = [];
    decoder.push(stream, (f) => {
      seen.push(f.toString());
      return seen.length % 2 === 0 ? false : undefined;
    });
    expect(seen).toEqual(expected.slice(0, 2).map(String));
    decoder.push(Buffer.alloc(0), (f) => {
      seen.push(f.toString());
      return false;
    });
    expect(seen).toHaveLength(3);
    decoder.push(Buffer.alloc(0), (f) => {
      seen.push(f.toString());
    });
    expect(seen).toEqual(expected.map(String));
  });

  it('counts a frame as consumed when the callback throws', () => {
    const decoder = new FrameDecoder();
    expect(() =>
      decoder.push(stream, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(decoder.bufferedBytes).toBe(stream.length - 4 - expected[0].length);
    expect(decoder.pushAll(Buffer.alloc(0)).map(String)).toEqual(expected.slice(1).map(String));
  });
});
