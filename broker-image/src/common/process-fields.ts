// Config fields the broker and the name server read the same way (one definition, so they cannot drift).

import type { FieldSpec } from './config.js';

/** Largest remoting frame accepted, in bytes (Java: 16 MiB). */
export const MAX_FRAME_SIZE_FIELD: FieldSpec = {
  type: 'int',
  default: 16 * 1024 * 1024,
  min: 64 * 1024,
  doc: 'bytes',
};

export const LOG_LEVEL_FIELD: FieldSpec = {
  type: 'enum',
  default: 'info',
  values: ['debug', 'info', 'warn', 'error', 'silent'],
  doc: '',
};
