// Errors the store throws. Expected outcomes (illegal message, disk full, timeouts) are statuses,
// not exceptions; these are for a store that cannot open or an I/O failure it cannot repair.

/** The on-disk state contradicts itself or the configuration; the message says what to fix. */
export class StoreStateError extends Error {
  override readonly name = 'StoreStateError';
}

/** The store is not running (not started, or shut down). */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
}
