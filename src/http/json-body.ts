import { isUtf8 } from 'node:buffer';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { httpStatusFor, type ErrorCode } from '../core/errors';
import { observeErrorCode } from '../observability/request-observation';

/** Deepest nesting of arrays and objects a JSON request body may have (variables of the deepest input type are far shallower). */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether JSON text (UTF-8 bytes) nests arrays and objects more than `max`
 * deep, read from the text without parsing it: brackets outside strings are
 * exactly the structure of valid JSON (and invalid JSON is refused either way).
 * Checked before JSON.parse, so a body nested 100,000 deep costs one pass over
 * its bytes instead of 100,000 nested arrays built and walked (80 ms of the
 * event loop each).
 */
export function jsonNestedDeeperThan(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === 0x22) {
      // A string: on to its closing quote (one not escaped, i.e. after an even run of backslashes), found natively.
      for (;;) {
        i = bytes.indexOf(0x22, i + 1);
        if (i < 0) return false;
        let backslashes = 0;
        while (bytes[i - 1 - backslashes] === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
      }
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) return true;
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return false;
}

/** body-parser's error for a body refused by jsonNestedDeeperThan (its `verify` hook); answered by graphqlBodyErrors. */
class NestedTooDeep extends Error {
  readonly type = 'entity.too.deep';
}

/**
 * body-parser's error for a body whose bytes are not UTF-8 (the `verify` hook): decoded, each bad byte would be
 * U+FFFD, and a value holding them (a dataset row, a name) would be stored as that, silently.
 */
class NotUtf8 extends Error {
  readonly type = 'entity.not.utf8';
}

/** Answers in GraphQL's error shape with the status of `code` (errors.ts); the request's log line and mulu_errors_total count the code. */
export function sendGraphQLError(res: Response, code: ErrorCode | 'GRAPHQL_PARSE_FAILED', message: string): void {
  observeErrorCode(code, res);
  res.status(httpStatusFor(code)).json({ errors: [{ message, extensions: { code } }] });
}

/**
 * Reads a GraphQL request's JSON body: UTF-8 only (GraphQL-over-HTTP), at
 * most `limit`, nested at most MAX_JSON_DEPTH deep. Whatever is wrong with
 * the body is answered here in GraphQL's shape with its own status (400,
 * 413, 415), never with express's HTML page or a 500 from a parser deep in
 * the stack.
 */
export function graphqlJsonBody(limitBytes: number): RequestHandler[] {
  const parse = express.json({
    limit: limitBytes,
    verify: (_req, _res, body) => {
      if (!isUtf8(body)) throw new NotUtf8();
      if (jsonNestedDeeperThan(body, MAX_JSON_DEPTH)) throw new NestedTooDeep();
    },
  });
  return [parse];
}

/** Error handler after graphqlJsonBody: the body could not be read. */
export function graphqlBodyErrors(limitBytes: number) {
  return (error: { status?: number; type?: string; charset?: string; encoding?: string }, _req: Request, res: Response, _next: NextFunction) => {
    // Already answered (a slow body cut off with 408): the parser's late "aborted" has no one to tell.
    if (res.headersSent) return;
    switch (error.type) {
      case 'entity.too.deep':
        return sendGraphQLError(res, 'BAD_REQUEST', `The request body is nested more than ${MAX_JSON_DEPTH} levels deep.`);
      case 'entity.not.utf8':
        return sendGraphQLError(
          res,
          'BAD_REQUEST',
          'The request body is not valid UTF-8: some bytes encode no character. Send JSON encoded as UTF-8 (content-type: application/json; charset=utf-8).',
        );
      case 'entity.too.large':
        return sendGraphQLError(res, 'PAYLOAD_TOO_LARGE', `The request body is too large (${Math.round(limitBytes / (1024 * 1024))} MB at most).`);
      case 'charset.unsupported':
        return sendGraphQLError(
          res,
          'UNSUPPORTED_MEDIA_TYPE',
          `The request body's charset "${error.charset ?? ''}" is not supported; send JSON encoded as UTF-8 (content-type: application/json; charset=utf-8).`,
        );
      case 'encoding.unsupported':
        return sendGraphQLError(
          res,
          'UNSUPPORTED_MEDIA_TYPE',
          `The content-encoding "${error.encoding ?? ''}" is not supported; send the body uncompressed, gzip or deflate.`,
        );
      default:
        return sendGraphQLError(res, 'BAD_REQUEST', 'The request body is not valid JSON.');
    }
  };
}
