import { describe, expect, it } from 'vitest';
import type { CliIo } from './io.js';
import { formatTable } from './io.js';
import { runCli } from './run-cli.js';

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}

describe('runCli usage handling', () => {
  it('prints usage for help and exits 0, 2 without a command', async () => {
    const io = capture();
    expect(await runCli(['help'], io)).toBe(0);
    expect(io.lines.join('\n')).toMatch(/bolide <command>/);
    expect(await runCli([], capture())).toBe(2);
    expect(await runCli(['topic', 'create', '--help'], capture())).toBe(0);
  });

  it('rejects unknown commands, missing and malformed options with exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command/],
      [['produce'], /--topic is required/],
      [['produce', '--topic', 'T', '--count', 'many'], /--count must be an integer/],
      [['produce', '--topic', 'T', '--bogus'], /Unknown option/],
      [['consume', '--topic', 'T'], /--group is required/],
      [['consume', '--topic', 'T', '--group', 'G', '--from', 'middle'], /--from must be/],
      [['topic', 'shuffle'], /unknown topic subcommand/],
      [['group'], /unknown group subcommand/],
      [['topic', 'create', '--topic', 'T', '--perm', '9'], /--perm must be/],
      [['topic', 'list', '--serialize-type', 'XML'], /serialize-type/],
      [['topic', 'list', '--namesrv-addr', 'nope'], /bad name server address/],
      [['message'], /unknown message subcommand/],
      [['message', 'query', '--topic', 'T'], /exactly one of --key and --uniq-key/],
      [['message', 'query', '--topic', 'T', '--key', 'k', '--uniq-key', 'u'], /exactly one/],
      [['message', 'query', '--topic', 'T', '--key', 'k', '--begin', 'noon'], /--begin/],
      [['message', 'query', '--topic', 'T', '--key', 'k', '--max', '65'], /--max must be/],
      [['message', 'view'], /--id is required/],
      [['message', 'dlq'], /--group is required/],
      [['group', 'reset-offset', '--group', 'G', '--topic', 'T'], /--timestamp is required/],
      [['group', 'reset-offset', '--group', 'G', '--topic', 'T', '--timestamp', 'soon'], /--timestamp/],
      [['group', 'reset-offset', '--group', 'G', '--timestamp', '0'], /--topic is required/],
    ];
    for (const [argv, pattern] of cases) {
      const io = capture();
      const code = await runCli(argv, io);
      expect(io.errors.join('\n'), argv.join(' ')).toMatch(pattern);
      expect(code, argv.join(' ')).toBe(pattern.source.includes('name server') ? 1 : 2);
    }
  });
});

describe('formatTable', () => {
  it('aligns columns', () => {
    expect(formatTable(['A', 'BB'], [['xxx', 1]])).toEqual(['A    BB', 'xxx  1']);
  });
});
