import { isDatabaseUnavailable, isPoolExhausted } from './database-unavailable';

export { isDatabaseUnavailable };
/** Errors every layer throws (services, REST routes, the CLI, GraphQL), the HTTP status of each code, and which database errors are the caller's or the database's absence. */

/** The codes a client may see in `extensions.code` (besides graphql-js's own, listed in HTTP_STATUS). */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'UNAUTHENTICATED'
  | 'CONFLICT'
  | 'REQUEST_TIMEOUT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RESPONSE_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'TIME_BUDGET_EXCEEDED';

/**
 * The one table from an error code to the HTTP status of a request that
 * failed as a whole (GraphQL-over-HTTP: a request that cannot run is 4xx, a
 * server that cannot serve it 5xx). GraphQL and REST answers both read it
 * (`httpStatusFor`). A response with `data` stays 200 whatever its field
 * errors, as the spec asks. docs/security.md lists it for clients.
 */
export const HTTP_STATUS: Readonly<Record<string, number>> = {
  BAD_USER_INPUT: 400,
  BAD_REQUEST: 400,
  GRAPHQL_PARSE_FAILED: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  OPERATION_RESOLUTION_FAILURE: 400,
  PERSISTED_QUERY_NOT_FOUND: 400,
  PERSISTED_QUERY_NOT_SUPPORTED: 400,
  RESPONSE_TOO_LARGE: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  TIME_BUDGET_EXCEEDED: 503,
};

/** The HTTP status for an error code (HTTP_STATUS); an unknown code is a fault of ours, 500. */
export function httpStatusFor(code: string | undefined): number {
  return (code && HTTP_STATUS[code]) || 500;
}

/**
 * The status of a request that failed as a whole with these codes: the
 * first client error (4xx) wins over faults, since a request the client must
 * change will not succeed on retry either.
 */
export function httpStatusForCodes(codes: readonly (string | undefined)[]): number {
  const statuses = codes.map(httpStatusFor);
  return statuses.find((status) => status < 500) ?? statuses[0] ?? 500;
}

/** Response headers an error asks for: `Retry-After` (seconds) on RATE_LIMITED and SERVICE_UNAVAILABLE when the thrower said how long. */
export function httpHeadersFor(extensions: Record<string, unknown> | undefined): Record<string, string> {
  const retryAfter = extensions?.retryAfterSeconds;
  if (typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter >= 0) return { 'retry-after': String(Math.ceil(retryAfter)) };
  if (extensions?.code === 'RATE_LIMITED') return { 'retry-after': '1' };
  if (extensions?.code === 'SERVICE_UNAVAILABLE') return { 'retry-after': String(RETRY_AFTER_SECONDS) };
  return {};
}

/** What a client reads while the database is away: a retry soon will do. */
export const DATABASE_UNAVAILABLE_MESSAGE = 'The database is unavailable right now; Mulu reconnects by itself. Please try again in a few seconds.';

/** What a client reads when every database connection stayed busy (slow requests of others) for the pool's acquire timeout. */
export const DATABASE_BUSY_MESSAGE =
  'The server is busy: every database connection stayed in use by other requests while this one waited. Please try again in a few seconds.';

/** The message of a SERVICE_UNAVAILABLE answer to an error `isDatabaseUnavailable` recognised: busy, or away. */
export const databaseUnavailableMessage = (error: unknown): string => (isPoolExhausted(error) ? DATABASE_BUSY_MESSAGE : DATABASE_UNAVAILABLE_MESSAGE);

/** Seconds a client is asked to wait (Retry-After) before trying again while the database is away. */
export const RETRY_AFTER_SECONDS = 2;

/** Longest message a client receives: a message echoing what a caller sent never grows with it. */
export const MAX_MESSAGE_LENGTH = 1000;

/** A message as a client receives it: cut at MAX_MESSAGE_LENGTH with an ellipsis. */
export function clientMessage(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : message;
}

/** A value a caller sent, fit to quote in a message: at most `max` characters, cut with an ellipsis and its full length. */
export function excerpt(value: string, max = 64): string {
  return value.length <= max ? value : `${value.slice(0, max)}… (${value.length} characters)`;
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
    super(clientMessage(message));
    this.name = 'MuluError';
  }
}

export const badInput = (message: string, details?: Record<string, unknown>) => new MuluError('BAD_USER_INPUT', message, details);
export const notFound = (message: string) => new MuluError('NOT_FOUND', message);
export const conflict = (message: string) => new MuluError('CONFLICT', message);
export const forbidden = (message: string) => new MuluError('FORBIDDEN', message);
export const unauthenticated = (message: string) => new MuluError('UNAUTHENTICATED', message);
/** Too many requests from one caller; `retryAfterSeconds` becomes the `Retry-After` header. */
export const rateLimited = (message: string, retryAfterSeconds: number) => new MuluError('RATE_LIMITED', message, { retryAfterSeconds });
export const tooLarge = (message: string, details?: Record<string, unknown>) => new MuluError('PAYLOAD_TOO_LARGE', message, details);
/** The server cannot serve now (the database is away); `retryAfterSeconds` becomes `Retry-After`. */
export const serviceUnavailable = (message: string = DATABASE_UNAVAILABLE_MESSAGE, retryAfterSeconds: number = RETRY_AFTER_SECONDS) =>
  new MuluError('SERVICE_UNAVAILABLE', message, { retryAfterSeconds });

/**
 * PostgreSQL errors that a caller's values cause (SQLSTATE class 22, "data
 * exception"), answered as BAD_USER_INPUT: a backstop behind the input
 * checks (text hygiene, number ceilings), so that a value they did not
 * foresee is still the caller's error and never a 500.
 */
const DATA_EXCEPTIONS: Record<string, string> = {
  '22P05': 'A text value holds a character the database cannot store (such as NUL).',
  '22021': 'A text value is not valid UTF-8.',
  '22003': 'A number is out of range: a count or a sum of counts would exceed what Mulu can store (9223372036854775807).',
  '22008': 'A date or time is out of range.',
  '22007': 'A date or time is not valid.',
  '22001': 'A text value is too long.',
  '22P02': 'A value does not have the expected form.',
};

/** A row that would repeat another's unique key (SQLSTATE 23505). */
const UNIQUE_VIOLATION = '23505';

/**
 * What each unique constraint keeps unique, as a steward reads it. Every
 * write checks these before it inserts, with a message of its own; two
 * writes of the same key at the same moment both pass that check, and the
 * one that commits second meets the constraint instead, which would
 * otherwise answer a message naming nothing.
 */
const UNIQUE_CONSTRAINTS: Record<string, string> = {
  region_pkey: 'A region with this code already exists',
  department_credit_code_unique: 'A department with this credit code already exists',
  department_region_code_name_unique: 'The region already has a department of this name',
  resource_directory_code_unique: 'This directory code is already taken in the catalogue',
  supervision_main_item_department_id_code_unique: 'The department already has a supervision main item with this code',
  supervision_sub_item_department_id_code_unique: 'The department already has a supervision sub-item with this code',
  subscription_request_live_unique: 'The department already has a pending or granted request for this directory; cancel it before asking again',
  mount_one_hosted_per_directory: 'The directory already has a hosted dataset; load rows into it, or unmount it first',
  supervision_record_supersedes_id_unique: 'The record it supersedes has already been superseded; correct the latest record instead',
};

/** The constraint a database error names, through MikroORM's wrapper. */
function constraintOf(error: unknown): string | undefined {
  const e = error as { constraint?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.constraint === 'string') return e.constraint;
  return e.cause && e.cause !== error ? constraintOf(e.cause) : undefined;
}

/** PostgreSQL takes no more connections: max_connections, or the role's or database's connection limit, reached (SQLSTATE 53300). */
export const TOO_MANY_CONNECTIONS = '53300';

/** Statement cancelled by the per-request statement timeout (SQLSTATE 57014). */
const QUERY_CANCELED = '57014';

/**
 * Whether node:zlib failed on the data it was given (not what it says it
 * is, cut short, or asking for a dictionary): the sender's error. Its other
 * failures (Z_MEM_ERROR and the like) are the server's.
 */
export function isBadCompressedData(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || code === 'Z_NEED_DICT';
}

/** The SQLSTATE of a database error, through MikroORM's wrapper. */
export function sqlStateOf(error: unknown): string | undefined {
  const e = error as { sqlState?: unknown; code?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.sqlState === 'string') return e.sqlState;
  if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  return e.cause && e.cause !== error ? sqlStateOf(e.cause) : undefined;
}

/**
 * SQLSTATEs of a transaction PostgreSQL undid, whole, because it collided
 * with another running at the same moment: serialization failure (40001),
 * deadlock (40P01). Nothing of it was written; run again, it may succeed.
 */
const COLLISIONS = new Set(['40001', '40P01']);

/** Whether PostgreSQL undid the transaction for colliding with another (COLLISIONS). */
export const isCollision = (error: unknown): boolean => COLLISIONS.has(sqlStateOf(error) ?? '');

/** What a caller reads when a change collided with others each time it was run (mutate's attempts). */
export const COLLISION_MESSAGE = 'This change collided with others made at the same moment and was undone; nothing was written. Please send it again.';

/**
 * SQLSTATEs of a database that takes no writes now: 25006 a read-only
 * transaction (default_transaction_read_only, or a standby after a
 * failover), 53100 disk full. Nothing of the change was written; reads go
 * on. The pool replaces a connection that answered 25006 (mikro-orm.config.ts).
 */
export const WRITES_REFUSED_STATES = new Set(['25006', '53100']);
export const READ_ONLY_TRANSACTION = '25006';

/** What a caller reads when the database took no writes. */
export const WRITES_REFUSED_MESSAGE =
  'The database takes no changes right now (it is read-only or its disk is full); nothing of this change was written, and reads go on. Please try again later.';

/** A database error a client should see as its own (bad value), as a conflict (a unique key taken meanwhile, or a collision), as a budget hit or as writes refused, or undefined for a fault. */
export function clientDatabaseError(error: unknown): MuluError | undefined {
  const state = sqlStateOf(error);
  if (!state) return undefined;
  if (DATA_EXCEPTIONS[state]) return badInput(DATA_EXCEPTIONS[state]);
  if (state === UNIQUE_VIOLATION) {
    const what = UNIQUE_CONSTRAINTS[constraintOf(error) ?? ''] ?? 'This record already exists (a unique code or name is taken)';
    return conflict(`${what}; another request may have written it at the same moment. Nothing was changed.`);
  }
  if (COLLISIONS.has(state)) return conflict(COLLISION_MESSAGE);
  if (WRITES_REFUSED_STATES.has(state)) return serviceUnavailable(WRITES_REFUSED_MESSAGE);
  if (state === QUERY_CANCELED)
    return new MuluError(
      'TIME_BUDGET_EXCEEDED',
      'The request took longer than the time one request may take (MULU_STATEMENT_TIMEOUT_MS / MULU_REQUEST_TIMEOUT_MS); ask for less (smaller pages, fewer fields) or try again later.',
    );
  return undefined;
}
