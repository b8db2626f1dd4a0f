import { describe, expect, it } from 'vitest';
import { readAlertToken } from './alert-token.js';

describe('readAlertToken', () => {
  const files: Record<string, string> = { '/secrets/token': 's3cret\n', '/secrets/empty': ' \n' };
  const read = (p: string) => {
    const text = files[p];
    if (text === undefined) throw new Error(`ENOENT: no such file, open '${p}'`);
    return text;
  };

  it('none set: no token', () => {
    expect(readAlertToken({}, read)).toBeUndefined();
    expect(readAlertToken({ BOLIDE_ALERT_TOKEN: '' }, read)).toBeUndefined();
  });

  it('from the variable (the chart’s secretKeyRef), trimmed', () => {
    expect(readAlertToken({ BOLIDE_ALERT_TOKEN: ' abc \n' }, read)).toBe('abc');
  });

  it('from a mounted file, which wins over the variable', () => {
    expect(readAlertToken({ BOLIDE_ALERT_TOKEN_FILE: '/secrets/token', BOLIDE_ALERT_TOKEN: 'x' }, read)).toBe(
      's3cret',
    );
  });

  it('a named file that is missing or empty stops startup with a clear message', () => {
    expect(() => readAlertToken({ BOLIDE_ALERT_TOKEN_FILE: '/secrets/nope' }, read)).toThrow(
      /BOLIDE_ALERT_TOKEN_FILE \/secrets\/nope: ENOENT/,
    );
    expect(() => readAlertToken({ BOLIDE_ALERT_TOKEN_FILE: '/secrets/empty' }, read)).toThrow(/is empty/);
  });
});
