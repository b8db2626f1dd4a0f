import { describe, expect, it } from 'vitest';
import { KvConfig } from './kv-config.js';

describe('KvConfig', () => {
  it('puts, gets, lists and deletes by namespace', () => {
    const kv = new KvConfig();
    kv.put('ORDER_TOPIC_CONFIG', 'T', 'broker-a:4');
    kv.put('ORDER_TOPIC_CONFIG', 'U', 'broker-a:2');
    expect(kv.get('ORDER_TOPIC_CONFIG', 'T')).toBe('broker-a:4');
    expect(kv.list('ORDER_TOPIC_CONFIG')).toEqual({ T: 'broker-a:4', U: 'broker-a:2' });
    expect(kv.delete('ORDER_TOPIC_CONFIG', 'T')).toBe(true);
    expect(kv.delete('ORDER_TOPIC_CONFIG', 'T')).toBe(false);
    expect(kv.get('ORDER_TOPIC_CONFIG', 'T')).toBeUndefined();
    expect(kv.list('none')).toBeUndefined();
  });

  it('round-trips Java kvConfig.json', () => {
    const kv = new KvConfig();
    kv.loadJSON('{"configTable":{"ns":{"a":"1","b":2}}}');
    expect(kv.toJSON()).toEqual({ configTable: { ns: { a: '1', b: '2' } } });
    expect(() => kv.loadJSON('{')).toThrow();
  });
});
