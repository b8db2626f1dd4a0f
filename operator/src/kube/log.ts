/** The few logging calls kube makes; `main` decides where lines go. */
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Discards everything; the default, so library code never writes to a stream nobody asked for. */
export function silentLogger(): Logger {
  const noop = () => {};
  return { info: noop, warn: noop, error: noop };
}

/** One JSON object per line on stderr, with `component` on every line. */
export function jsonLogger(
  component: string,
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const emit = (level: string, msg: string, fields?: Record<string, unknown>) => {
    const record: Record<string, unknown> = { ts: new Date().toISOString(), level, component, msg };
    for (const [k, v] of Object.entries(fields ?? {})) record[k] = v instanceof Error ? v.message : v;
    write(`${JSON.stringify(record)}\n`);
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
