/** The `Status` body the API server sends with a failed request. */
export interface ApiStatus {
  kind?: string;
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: Array<{ reason?: string; message?: string; field?: string }>;
    retryAfterSeconds?: number;
  };
}

/** A request the API server answered with an error status. */
export class ApiError extends Error {
  readonly code: number;
  /** The machine-readable reason (`NotFound`, `Conflict`, `AlreadyExists`, `Invalid`, `Expired`, …). */
  readonly reason: string;
  readonly status: ApiStatus;

  constructor(code: number, status: ApiStatus, what: string) {
    super(`${what}: ${code} ${status.reason ?? ''}${status.message ? ` — ${status.message}` : ''}`.trim());
    this.name = 'ApiError';
    this.code = code;
    this.reason = status.reason ?? '';
    this.status = status;
  }
}

/**
 * A write lost an optimistic-concurrency race (HTTP 409, reason Conflict): the object changed since it
 * was read. The reconcile loop requeues such keys shortly instead of backing off.
 */
export class ConflictError extends ApiError {
  constructor(code: number, status: ApiStatus, what: string) {
    super(code, status, what);
    this.name = 'ConflictError';
  }
}

/** The resourceVersion asked for is too old (HTTP 410 Gone, or a watch ERROR event with code 410). */
export class GoneError extends ApiError {
  constructor(code: number, status: ApiStatus, what: string) {
    super(code, status, what);
    this.name = 'GoneError';
  }
}

/** Builds the most specific error class for an API failure. */
export function apiErrorFrom(code: number, status: ApiStatus, what: string): ApiError {
  if (code === 409 && status.reason === 'Conflict') return new ConflictError(code, status, what);
  if (code === 410 || status.reason === 'Expired' || status.reason === 'Gone') {
    return new GoneError(code, status, what);
  }
  return new ApiError(code, status, what);
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}

export function isConflict(err: unknown): err is ConflictError {
  return err instanceof ConflictError;
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.code === 409 && err.reason === 'AlreadyExists';
}

export function isGone(err: unknown): err is GoneError {
  return err instanceof GoneError;
}

/**
 * An error a retry cannot fix (the user must change the spec). The reconcile loop records it and does
 * not requeue; the next change of the object triggers a new attempt.
 */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}
