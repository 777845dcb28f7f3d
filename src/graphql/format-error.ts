import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { ForeignKeyConstraintViolationException } from '@mikro-orm/core';
import {
  clientDatabaseError,
  clientMessage,
  databaseUnavailableMessage,
  HTTP_STATUS,
  httpHeadersFor,
  httpStatusFor,
  isDatabaseUnavailable,
  MuluError,
} from '../core/errors';
import { logger } from '../observability/logger';
import { observeErrorCode } from '../observability/request-observation';

/**
 * The same error as a GraphQLError carrying its HTTP status and headers, for
 * places Apollo reads `extensions.http` from (context creation).
 */
export function toHttpGraphQLError(error: MuluError): GraphQLError {
  const extensions = { code: error.code, ...error.details };
  const headers = new Map(Object.entries(httpHeadersFor(extensions)));
  return new GraphQLError(error.message, { extensions: { ...extensions, http: { status: httpStatusFor(error.code), headers } } });
}

/** Codes whose messages are written for clients (graphql-js's and Apollo's request errors, and Mulu's own): they pass as thrown. */
const PROTOCOL_CODES = new Set(Object.keys(HTTP_STATUS).filter((code) => code !== 'INTERNAL_SERVER_ERROR'));

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
  const formattedResult = formatErrorFor(formatted, error, log);
  // graphql-js's and Apollo's messages quote what the caller sent (a variable's value, a field's or a
  // variable's name) whole: 1 MB sent as an Int came back twice over. Cut as Mulu's own messages are.
  const result = { ...formattedResult, message: clientMessage(formattedResult.message) };
  // The request's log line and mulu_errors_total count what the client received.
  observeErrorCode(String(result.extensions?.code ?? 'UNKNOWN'));
  return result;
}

function formatErrorFor(
  formatted: GraphQLFormattedError,
  error: unknown,
  log: (error: unknown) => void = (err) => logger.error({ err }, 'unexpected error, answered INTERNAL_SERVER_ERROR'),
): GraphQLFormattedError {
  let original = unwrapResolverError(error);
  // Errors thrown from Apollo plugins arrive wrapped in a GraphQLError.
  if (original instanceof GraphQLError && original.originalError instanceof MuluError) original = original.originalError;
  const base = { locations: formatted.locations, path: formatted.path };
  original = clientDatabaseError(original) ?? original;
  if (original instanceof MuluError) {
    return { ...base, message: original.message, extensions: { code: original.code, ...original.details } };
  }
  if (isDatabaseUnavailable(original)) {
    logger.warn({ err: original }, 'database unavailable, answered SERVICE_UNAVAILABLE');
    return { ...base, message: databaseUnavailableMessage(original), extensions: { code: 'SERVICE_UNAVAILABLE' } };
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
    // graphql-js's own request errors have neither a path nor a cause, and some no code
    // ("Too many errors processing variables"): Apollo labels those INTERNAL_SERVER_ERROR, but
    // the request is at fault, so they are BAD_REQUEST.
    const requestError = !original.originalError && !original.path;
    if (PROTOCOL_CODES.has(code) || requestError) {
      const retry = httpHeadersFor(original.extensions)['retry-after'];
      return {
        message: formatted.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: PROTOCOL_CODES.has(code) ? code : 'BAD_REQUEST', ...(retry ? { retryAfterSeconds: Number(retry) } : {}) },
      };
    }
  }
  log(original);
  return {
    ...base,
    message: 'Internal server error. It has been logged; please try again or contact the platform administrator.',
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
