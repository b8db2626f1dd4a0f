// Where the CLI writes and how it learns it should stop; tests pass their own.

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Aborts long-running commands (consume); defaults to SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Usage errors exit with 2, everything else with 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Renders rows as a left-aligned text table. */
export function formatTable(header: string[], rows: (string | number)[][]): string[] {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}
