import { describe, expect, it } from 'vitest';
import { decodeOffsetTable, encodeOffsetTable, localOffsetFilePath } from './local-offset-store.js';

describe('local offset file format', () => {
  it("writes Java's OffsetSerializeWrapper form and reads it back", () => {
    const entries = [
      { mq: { topic: 'T', brokerName: 'broker-a', queueId: 0 }, offset: 5 },
      { mq: { topic: 'T', brokerName: 'broker-a', queueId: 1 }, offset: 0 },
    ];
    const text = encodeOffsetTable(entries).toString();
    expect(text).toBe(
      '{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:5,{"brokerName":"broker-a","queueId":1,"topic":"T"}:0}}',
    );
    expect(decodeOffsetTable(text)).toEqual(entries);
  });

  it('reads an empty table and refuses what is not an offset file', () => {
    expect(decodeOffsetTable('{"offsetTable":{}}')).toEqual([]);
    expect(decodeOffsetTable('{}')).toEqual([]);
    expect(() => decodeOffsetTable('[1]')).toThrow();
    expect(() => decodeOffsetTable('{"offsetTable":{{"topic":"T"}:1}}')).toThrow(/bad offset entry/);
    expect(() =>
      decodeOffsetTable('{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:"x"}}'),
    ).toThrow();
    expect(() => decodeOffsetTable('{"offsetTable"')).toThrow();
  });

  it('keeps one file per client and group', () => {
    expect(localOffsetFilePath('/d', '10.0.0.1@1#2', 'G')).toBe('/d/10.0.0.1@1#2/G/offsets.json');
  });
});
