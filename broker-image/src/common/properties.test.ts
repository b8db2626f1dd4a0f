import { describe, expect, it } from 'vitest';
import { formatProperties, parseProperties, propertiesToMap } from './properties.js';

describe('parseProperties', () => {
  it('reads the separators, comments and blank lines of a RocketMQ broker.conf', () => {
    const text = [
      '# Licensed to the Apache Software Foundation',
      '! another comment style',
      '',
      'brokerClusterName = DefaultCluster',
      'brokerName=broker-a',
      'brokerId:0',
      '  deleteWhen 04',
      'flushDiskType\t=\tASYNC_FLUSH',
      'empty=',
    ].join('\r\n');
    const entries = parseProperties(text);
    expect(entries).toEqual([
      { key: 'brokerClusterName', value: 'DefaultCluster', line: 4 },
      { key: 'brokerName', value: 'broker-a', line: 5 },
      { key: 'brokerId', value: '0', line: 6 },
      { key: 'deleteWhen', value: '04', line: 7 },
      { key: 'flushDiskType', value: 'ASYNC_FLUSH', line: 8 },
      { key: 'empty', value: '', line: 9 },
    ]);
  });

  it('joins continued lines and decodes escapes', () => {
    const text =
      'namesrvAddr=10.0.0.1:9876;\\\n    10.0.0.2:9876\nkey\\ with\\=sep=a\\tb\\u0041\nodd=ends\\\\\nnext=1';
    const map = propertiesToMap(text);
    expect(map.get('namesrvAddr')).toBe('10.0.0.1:9876;10.0.0.2:9876');
    expect(map.get('key with=sep')).toBe('a\tbA');
    expect(map.get('odd')).toBe('ends\\');
    expect(map.get('next')).toBe('1');
  });

  it('keeps the last value of a repeated key', () => {
    expect(propertiesToMap('a=1\na=2').get('a')).toBe('2');
  });

  it('round-trips through formatProperties', () => {
    const entries: [string, string][] = [
      ['plain', 'value'],
      ['with space', 'tab\there'],
      ['colon:key', 'line\nbreak'],
      ['backslash', 'C:\\dir'],
    ];
    const map = propertiesToMap(formatProperties(entries));
    expect([...map.entries()]).toEqual(entries);
  });
});
