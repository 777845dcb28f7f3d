import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { UniqueConstraintViolationException, ForeignKeyConstraintViolationException } from '@mikro-orm/core';

/** The codes a client may see in `extensions.code`. */
export type ErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'FORBIDDEN' | 'UNAUTHENTICATED' | 'CONFLICT' | 'PAYLOAD_TOO_LARGE' | 'RATE_LIMITED';

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
export function formatError(formatted: GraphQLFormattedError, error: unknown, log: (error: unknown) => void = console.error): GraphQLFormattedError {
  let original = unwrapResolverError(error);
  // Errors thrown from Apollo plugins arrive wrapped in a GraphQLError.
  if (original instanceof GraphQLError && original.originalError instanceof MuluError) original = original.originalError;
  const base = { locations: formatted.locations, path: formatted.path };
  if (original instanceof MuluError) {
    return { ...base, message: original.message, extensions: { code: original.code, ...original.details } };
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
    const code = String(formatted.extensions?.code ?? original.extensions?.code ?? '');
    if (PROTOCOL_CODES.has(code) || (!original.originalError && !original.path)) {
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code: code || 'BAD_REQUEST' } };
    }
  }
  log(original);
  return { ...base, message: 'Internal server error. It has been logged; please try again or contact the platform administrator.', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
