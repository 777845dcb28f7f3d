import type { MikroORM } from '@mikro-orm/postgresql';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import {
  badInput,
  clientDatabaseError,
  databaseUnavailableMessage,
  httpHeadersFor,
  httpStatusFor,
  isBadCompressedData,
  isDatabaseUnavailable,
  MuluError,
  RETRY_AFTER_SECONDS,
} from '../core/errors';
import { cleanText } from '../core/text';
import { logger } from '../observability/logger';
import { observeErrorCode } from '../observability/request-observation';
import type { Authenticator } from '../modules/auth/authenticator';
import type { RequestContext } from '../core/request-context';
import { identifyCaller } from './caller';

/**
 * Sends an error as `{ error: { code, message, ...details } }` with its HTTP
 * status. As in GraphQL, anything unexpected is logged and reaches the client
 * only as INTERNAL_SERVER_ERROR, without SQL or stack traces.
 */
export function sendError(
  res: Response,
  error: unknown,
  log: (error: unknown) => void = (err) => logger.error({ err }, 'unexpected error, answered INTERNAL_SERVER_ERROR'),
): void {
  // Already answered (a slow body cut off with 408): its parser's late error has no one to tell.
  if (res.headersSent) {
    if (!(error instanceof MuluError) && !(error as { type?: string }).type) log(error);
    return;
  }
  error = clientDatabaseError(error) ?? error;
  // A compressed body that its content-encoding does not decode.
  if (isBadCompressedData(error)) error = badInput('The request body is not valid data of its content-encoding (gzip or deflate), or it was cut short.');
  // express could not decode a route parameter (a malformed %-escape in the path): the caller's fault, not ours.
  if (error instanceof URIError) error = badInput('The request path holds a malformed %-escape; write each reserved or non-ASCII byte as %XX.');
  const code =
    error instanceof MuluError
      ? error.code
      : isDatabaseUnavailable(error)
        ? 'SERVICE_UNAVAILABLE'
        : (error as { type?: string }).type === 'entity.too.large'
          ? 'PAYLOAD_TOO_LARGE'
          : 'INTERNAL_SERVER_ERROR';
  observeErrorCode(code, res);
  if (error instanceof MuluError) {
    for (const [name, value] of Object.entries(httpHeadersFor({ code: error.code, ...error.details }))) res.setHeader(name, value);
    res.status(httpStatusFor(error.code)).json({ error: { code: error.code, message: error.message, ...error.details } });
  } else if (isDatabaseUnavailable(error)) {
    logger.warn({ err: error }, 'database unavailable, answered SERVICE_UNAVAILABLE');
    res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
    res.status(503).json({ error: { code: 'SERVICE_UNAVAILABLE', message: databaseUnavailableMessage(error) } });
  } else if ((error as { type?: string }).type === 'entity.too.large') {
    res.status(413).json({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'The file is too large.' } });
  } else {
    log(error);
    res.status(500).json({
      error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error. It has been logged; please try again or contact the platform administrator.' },
    });
  }
}

/**
 * Refuses a path parameter or query string value that no text may hold, as
 * GraphQL's arguments are refused (core/text.ts): a control character or
 * broken UTF-16, named. Unchecked, a NUL reaching a statement breaks
 * PostgreSQL's protocol (08P01), which reads as the database being away: a
 * 503 for the caller's own typo. A query parameter given twice is refused
 * too: no route takes a list, and a route reading one value saw neither
 * (`?idempotencyKey=a&idempotencyKey=b` loaded rows with no key at all, so a
 * retry loaded them twice).
 */
function checkRequestText(req: Request): void {
  for (const [name, value] of Object.entries(req.params ?? {})) if (typeof value === 'string') cleanText(value, name);
  for (const [name, value] of Object.entries(req.query ?? {})) {
    if (Array.isArray(value)) throw badInput(`The query parameter ${name} is given ${value.length} times; give it once.`, { field: name });
    if (typeof value === 'string') cleanText(value, name);
  }
}

/**
 * An express handler with the same caller as GraphQL: the Authorization
 * header goes through the same authenticator, and the handler gets a
 * service context with its own entity manager. A token that proves nothing
 * is 401; no token leaves the viewer null, which services refuse as 401.
 */
export function withContext(
  orm: MikroORM,
  authenticator: Authenticator,
  handler: (req: Request, res: Response, ctx: RequestContext) => Promise<void>,
): RequestHandler {
  return async (req: Request, res: Response, _next: NextFunction) => {
    try {
      const em = orm.em.fork();
      const viewer = await identifyCaller(req, orm, authenticator);
      checkRequestText(req);
      await handler(req, res, { em, viewer });
    } catch (error) {
      sendError(res, error);
    }
  };
}

/**
 * Authenticates before anything else runs (an upload is read only for a
 * caller who may send it): `check` may refuse the viewer; the context is
 * handed on in `res.locals.muluContext` for `contextHandler`.
 */
export function authenticateFirst(orm: MikroORM, authenticator: Authenticator, check: (ctx: RequestContext) => void): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const em = orm.em.fork();
      const ctx: RequestContext = { em, viewer: await identifyCaller(req, orm, authenticator) };
      check(ctx);
      checkRequestText(req);
      res.locals.muluContext = ctx;
    } catch (error) {
      sendError(res, error);
      return;
    }
    next();
  };
}

/** A handler after `authenticateFirst`, with its context. */
export function contextHandler(handler: (req: Request, res: Response, ctx: RequestContext) => Promise<void>): RequestHandler {
  return async (req: Request, res: Response) => {
    try {
      await handler(req, res, res.locals.muluContext as RequestContext);
    } catch (error) {
      sendError(res, error);
    }
  };
}

/**
 * The end of a router: an unknown path is a JSON 404, and errors raised
 * before a handler (a body over the size limit) are JSON too.
 */
export function jsonFallbacks(router: Router): void {
  router.use((req: Request, res: Response) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: `There is no route ${req.method} ${req.originalUrl}; see docs/api.md.` } });
  });
  router.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, error));
}

/** What no downloaded file's name may hold: control characters (CR/LF would end the header), path separators, broken UTF-16. */
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_FILE_NAME = /[\u0000-\u001f\u007f-\u009f/\\]|\p{Cs}/gu;

/**
 * The Content-Disposition of every download (reports, templates, rows):
 * one rule, whatever a future code or period may hold. Path separators and
 * control characters become _ (a client saving under the name must never
 * reach another folder, and CR/LF would split the header); `filename` is
 * the ASCII stand-in old clients read (quotes and backslashes, which a
 * quoted string escapes, become _ too), `filename*` the name itself
 * (RFC 6266 / RFC 8187), percent-encoding all but RFC 8187's attr-chars:
 * encodeURIComponent leaves ' ( ) * as they are, and a ' there ends the
 * charset part.
 */
export function contentDisposition(fileName: string): string {
  const safe = fileName.replace(UNSAFE_IN_FILE_NAME, '_').normalize('NFC');
  const ascii = safe.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(safe).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Sends a file as a download (its name as contentDisposition writes it). */
export function sendFile(res: Response, file: { fileName: string; contentType: string; body: Buffer }): void {
  res.setHeader('content-type', file.contentType);
  res.setHeader('content-disposition', contentDisposition(file.fileName));
  res.send(file.body);
}
