/** The codes a client may see in `extensions.code`. */
export type ErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'FORBIDDEN' | 'UNAUTHENTICATED' | 'CONFLICT' | 'PAYLOAD_TOO_LARGE' | 'RATE_LIMITED' | 'SERVICE_UNAVAILABLE';

/** The HTTP status of each code, for REST answers and for GraphQL answers whose failure is the server's state (503). */
export const HTTP_STATUS: Record<ErrorCode, number> = { BAD_USER_INPUT: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, PAYLOAD_TOO_LARGE: 413, RATE_LIMITED: 429, SERVICE_UNAVAILABLE: 503 };

/** What a client reads while the database is away: a retry soon will do. */
export const DATABASE_UNAVAILABLE_MESSAGE = 'The database is unavailable right now; Mulu reconnects by itself. Please try again in a few seconds.';

/** Seconds a client is asked to wait (Retry-After) before trying again while the database is away. */
export const RETRY_AFTER_SECONDS = 2;

/** Socket errors, and PostgreSQL states (class 08, admin shutdown, crash, starting up, too many connections), of a database that is away. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', '57P01', '57P02', '57P03', '53300']);
const UNAVAILABLE_MESSAGES = /Timeout acquiring a connection|Connection terminated|Connection ended unexpectedly|connection error and is not queryable|the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)|Client was closed and is not queryable|terminating connection due to (administrator command|crash of another server process)/i;

/**
 * Whether an error means the database cannot be reached (down, restarting,
 * unreachable, pool exhausted while it was away) rather than a bug: walks
 * the wrapped errors (MikroORM's `previous`, `cause`, AggregateError).
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const e = error as { code?: unknown; sqlState?: unknown; message?: unknown; previous?: unknown; cause?: unknown; errors?: unknown; name?: unknown };
  for (const code of [e.code, e.sqlState]) {
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  }
  if (e.name === 'ConnectionException') return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(e.previous, depth + 1) || isDatabaseUnavailable(e.cause, depth + 1);
}

/**
 * An expected failure with a message written for a data steward. Services
 * throw these; everything else is treated as a bug and masked.
 */
export class MuluError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'MuluError';
  }
}

export const badInput = (message: string, details?: Record<string, unknown>) => new MuluError('BAD_USER_INPUT', message, details);
export const notFound = (message: string) => new MuluError('NOT_FOUND', message);
export const conflict = (message: string) => new MuluError('CONFLICT', message);
export const forbidden = (message: string) => new MuluError('FORBIDDEN', message);
export const unauthenticated = (message: string) => new MuluError('UNAUTHENTICATED', message);
export const tooLarge = (message: string, details?: Record<string, unknown>) => new MuluError('PAYLOAD_TOO_LARGE', message, details);
export const serviceUnavailable = (message: string = DATABASE_UNAVAILABLE_MESSAGE) => new MuluError('SERVICE_UNAVAILABLE', message);
