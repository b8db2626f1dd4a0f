// Fallback logger when the embedding program injects none: one JSON line per event on stderr.

import type { RemotingLogger } from './types.js';

function line(level: string, message: string, fields?: Record<string, unknown>): void {
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`,
  );
}

export const consoleLogger: RemotingLogger = {
  info: (message, fields) => line('info', message, fields),
  warn: (message, fields) => line('warn', message, fields),
  error: (message, fields) => line('error', message, fields),
};

/** A logger that drops everything; for tests and benchmarks. */
export const silentLogger: RemotingLogger = {
  info: () => {},
  warn: () => {},
  error: () => {},
};
