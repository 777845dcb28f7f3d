import type { Request, RequestHandler } from 'express';
import { MuluError } from '../core/errors';
import type { Viewer } from '../core/viewer';
import { AdmissionLine } from './admission-line';
import { refuse } from './caller';

/** A request body above this size (or of unknown size) takes the bulk lane: ingestion batches and file uploads, never a dashboard query. */
export const BULK_BODY_BYTES = 256 * 1024;

/** Large request bodies handled at once per server process, each from before its body is read until its response ends. */
export const BULK_CONCURRENCY = 2;

export function isBulk(req: Request, thresholdBytes: number): boolean {
  if (req.method !== 'POST' && req.method !== 'PUT') return false;
  const length = Number(req.headers['content-length']);
  return !Number.isFinite(length) || length > thresholdBytes;
}

/**
 * Admission control for large bodies. A large body (an ingestion batch of
 * thousands of records, an import file) costs memory several times its size
 * once read, parsed and coerced, and batches of one department queue on the
 * same figures rows anyway: letting them all in at once only holds more
 * bodies in memory while they wait. So at most `limit` large requests are
 * admitted at once, in arrival order; the others wait before their body is
 * read (it stays in the socket), which bounds memory by `limit` bodies
 * without losing throughput. Small requests, every read among them, never
 * wait here.
 *
 * With `identify`, only signed-in callers may queue: the caller is worked
 * out from the headers before the request takes or waits for a slot, and a
 * large body without a valid token is refused at once with 401 (its body
 * never read), so anonymous senders cannot hold the lane. How long an
 * admitted body may take to arrive is `bodyRate`'s business (body-rate.ts).
 */
export function bulkLane(limit = BULK_CONCURRENCY, thresholdBytes = BULK_BODY_BYTES, identify?: (req: Request) => Promise<Viewer | null>): RequestHandler {
  const line = new AdmissionLine(limit);
  const queue: RequestHandler = (req, res, next) => line.enter(req, res, next);
  return (req, res, next) => {
    if (!isBulk(req, thresholdBytes)) return next();
    if (!identify) return queue(req, res, next);
    identify(req).then(
      (viewer) => {
        if (viewer) return queue(req, res, next);
        refuse(
          req,
          res,
          401,
          'UNAUTHENTICATED',
          'Sign in first: a request body this large is accepted only with "Authorization: Bearer <token>" (a token of the unified identity platform or an API key).',
          { close: true },
        );
      },
      (error: unknown) => {
        const message = error instanceof MuluError ? error.message : 'The token is not valid.';
        refuse(req, res, 401, 'UNAUTHENTICATED', message, { close: true });
      },
    );
  };
}
