/**
 * Socket errors, and PostgreSQL states of a database that is away or lost
 * the connection: class 08 (connection exception, matched by prefix),
 * 57P01 admin shutdown (also "unexpected postmaster exit"), 57P02 crash of
 * another server process, 57P03 cannot connect now (starting up, in
 * recovery), 57P05 idle-session timeout, 53300 too many connections.
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
  '57P01',
  '57P02',
  '57P03',
  '57P05',
  '53300',
]);

/**
 * Messages of node-postgres, knex and PostgreSQL for the same, where the
 * error carries no code: a connection cut mid-query, a client whose
 * connection failed earlier, the pool waiting in vain, a pool closed while
 * shutting down.
 */
const UNAVAILABLE_MESSAGES = new RegExp(
  [
    'Timeout acquiring a connection',
    'Unable to acquire a connection',
    'Connection terminated',
    'Connection ended unexpectedly',
    'connection error and is not queryable',
    'Client was closed and is not queryable',
    'the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)',
    'terminating connection due to (administrator command|crash of another server process|unexpected postmaster exit|idle-session timeout)',
  ].join('|'),
  'i',
);

interface ErrorLike {
  code?: unknown;
  sqlState?: unknown;
  message?: unknown;
  previous?: unknown;
  cause?: unknown;
  errors?: unknown;
  name?: unknown;
  thrownValue?: unknown;
}

/**
 * Whether `test` holds for an error or any error it wraps (MikroORM's
 * `previous`, `cause`, AggregateError, graphql-js's `thrownValue`).
 */
function anyInChain(error: unknown, test: (e: ErrorLike) => boolean, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false;
  const e = error as ErrorLike;
  if (test(e)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => anyInChain(inner, test, depth + 1))) return true;
  // graphql-js wraps a rejection that is not an Error (knex rejects a failed connect with the socket error's plain
  // fields, `{ code: 'ECONNREFUSED', ... }`, on a statement sent through knex itself) as NonErrorThrown with `thrownValue`.
  return anyInChain(e.previous, test, depth + 1) || anyInChain(e.cause, test, depth + 1) || anyInChain(e.thrownValue, test, depth + 1);
}

const unavailableHere = (e: ErrorLike): boolean => {
  for (const code of [e.code, e.sqlState]) {
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  }
  if (e.name === 'ConnectionException') return true;
  return typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message);
};

/**
 * Whether an error means the database cannot be reached (down, restarting,
 * unreachable, the connection lost mid-transaction, the pool exhausted while
 * it was away) rather than a bug, however it is wrapped. Such failures are
 * answered 503 SERVICE_UNAVAILABLE, never INTERNAL_SERVER_ERROR.
 *
 * Knex's "Transaction query already complete" is not listed: it is a bug
 * when code uses a finished transaction; when a lost connection finished the
 * transaction, the connection (src/db/loss-aware-connection.ts) reports the
 * loss itself instead.
 */
export const isDatabaseUnavailable = (error: unknown): boolean => anyInChain(error, unavailableHere);

/**
 * Whether the pool stayed full for its whole acquire timeout: every
 * connection busy with slow statements, the database itself up. Also
 * SERVICE_UNAVAILABLE, with a message that does not call the database away.
 */
export const isPoolExhausted = (error: unknown): boolean =>
  anyInChain(error, (e) => typeof e.message === 'string' && /Timeout acquiring a connection/i.test(e.message));
