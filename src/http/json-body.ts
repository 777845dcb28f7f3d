import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { httpStatusFor, type ErrorCode } from '../core/errors';

/** Deepest nesting of arrays and objects a JSON request body may have (variables of the deepest input type are far shallower). */
export const MAX_JSON_DEPTH = 64;

/** The nesting depth of a parsed JSON value, walked without recursion, stopping once it passes `stopAbove`. */
export function jsonDepth(value: unknown, stopAbove = Number.MAX_SAFE_INTEGER): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > stopAbove) return deepest;
    for (const child of Array.isArray(item) ? item : Object.values(item)) if (child !== null && typeof child === 'object') stack.push([child, level]);
  }
  return deepest;
}

/** Answers in GraphQL's error shape with the status of `code` (errors.ts). */
export function sendGraphQLError(res: Response, code: ErrorCode, message: string): void {
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
  const parse = express.json({ limit: limitBytes });
  const checkDepth: RequestHandler = (req, res, next) => {
    if (jsonDepth(req.body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      sendGraphQLError(res, 'BAD_REQUEST', `The request body is nested more than ${MAX_JSON_DEPTH} levels deep.`);
      return;
    }
    next();
  };
  return [parse, checkDepth];
}

/** Error handler after graphqlJsonBody: the body could not be read. */
export function graphqlBodyErrors(limitBytes: number) {
  return (error: { status?: number; type?: string; charset?: string; encoding?: string }, _req: Request, res: Response, _next: NextFunction) => {
    // Already answered (a slow body cut off with 408): the parser's late "aborted" has no one to tell.
    if (res.headersSent) return;
    switch (error.type) {
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
