import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { UniqueConstraintViolationException, ForeignKeyConstraintViolationException } from '@mikro-orm/core';
import type { ApolloServerPlugin } from '@apollo/server';
import { logger } from '../observability/logger';
import { observeErrorCode } from '../observability/request-observation';

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

/** Codes of errors graphql-js and Apollo raise themselves before any resolver runs; their messages are safe. */
const PROTOCOL_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']);

interface ValidationErrorLike {
  property: string;
  constraints?: Record<string, string>;
  children?: ValidationErrorLike[];
}

function flattenValidation(errors: ValidationErrorLike[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => `${path}: ${message}`);
    return [...own, ...flattenValidation(error.children ?? [], path)];
  });
}

/**
 * The one place that decides what a client sees of an error: Mulu's own
 * errors and graphql-js's request errors pass; anything else (a database
 * failure, a bug) is logged here and reaches the client as a bare
 * INTERNAL_SERVER_ERROR, with no SQL and no stack trace.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, log?: (error: unknown) => void): GraphQLFormattedError {
  const result = formatErrorFor(formatted, error, log);
  // The request's log line and mulu_errors_total count what the client received.
  observeErrorCode(String(result.extensions?.code ?? 'UNKNOWN'));
  return result;
}

function formatErrorFor(formatted: GraphQLFormattedError, error: unknown, log: (error: unknown) => void = (err) => logger.error({ err }, 'unexpected error, answered INTERNAL_SERVER_ERROR')): GraphQLFormattedError {
  let original = unwrapResolverError(error);
  // Errors thrown from Apollo plugins arrive wrapped in a GraphQLError.
  if (original instanceof GraphQLError && original.originalError instanceof MuluError) original = original.originalError;
  const base = { locations: formatted.locations, path: formatted.path };
  if (original instanceof MuluError) {
    return { ...base, message: original.message, extensions: { code: original.code, ...original.details } };
  }
  if (isDatabaseUnavailable(original)) {
    logger.warn({ err: original }, 'database unavailable, answered SERVICE_UNAVAILABLE');
    return { ...base, message: DATABASE_UNAVAILABLE_MESSAGE, extensions: { code: 'SERVICE_UNAVAILABLE' } };
  }
  if (original instanceof UniqueConstraintViolationException) {
    return { ...base, message: 'This record already exists (a unique code or name is taken).', extensions: { code: 'CONFLICT' } };
  }
  if (original instanceof ForeignKeyConstraintViolationException) {
    return { ...base, message: 'This record refers to something that does not exist, or is still referred to.', extensions: { code: 'CONFLICT' } };
  }
  if (original instanceof GraphQLError) {
    const validationErrors = original.extensions?.validationErrors as ValidationErrorLike[] | undefined;
    if (validationErrors) {
      const problems = flattenValidation(validationErrors);
      return { ...base, message: `Invalid input: ${problems.join('; ')}`, extensions: { code: 'BAD_USER_INPUT', problems } };
    }
    const rawCode = formatted.extensions?.code ?? original.extensions?.code;
    const code = typeof rawCode === 'string' ? rawCode : '';
    if (PROTOCOL_CODES.has(code) || (!original.originalError && !original.path)) {
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code: code || 'BAD_REQUEST' } };
    }
  }
  log(original);
  return { ...base, message: 'Internal server error. It has been logged; please try again or contact the platform administrator.', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

/**
 * An answer carrying SERVICE_UNAVAILABLE is sent with HTTP 503 and
 * Retry-After: load balancers and clients then retry instead of taking a
 * 200 as success.
 */
export function httpStatusPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          if (response.body.singleResult.errors?.some((error) => error.extensions?.code === 'SERVICE_UNAVAILABLE')) {
            response.http.status = HTTP_STATUS.SERVICE_UNAVAILABLE;
            response.http.headers.set('retry-after', String(RETRY_AFTER_SECONDS));
          }
        },
      };
    },
  };
}
