import type { Request, RequestHandler } from 'express';
import type { Viewer } from '../core/viewer';
import { AdmissionLine, type Turned } from './admission-line';
import { addressOf, refuse } from './caller';
import { callerKey } from './rate-limit';

/**
 * How much of the server one caller may hold at once: `perCaller` requests
 * running, `queuedPerCaller` more waiting their turn (first come, first
 * served), each waiting at most `maxWaitMs`. 0 for `perCaller` turns it off.
 */
export interface CallerSlots {
  perCaller: number;
  queuedPerCaller: number;
  maxWaitMs: number;
}

/**
 * A dashboard sends a handful of queries at once and an ingestion client one
 * batch at a time; two running per caller keeps both fast, and a caller who
 * opens many connections (a loop gone wrong, an attack with expensive but
 * permitted queries) then competes with everyone else as two requests, not as
 * many. The rest wait in line rather than being refused, up to a bound.
 */
export const DEFAULT_CALLER_SLOTS: CallerSlots = { perCaller: 2, queuedPerCaller: 32, maxWaitMs: 15_000 };

/**
 * Per-caller admission (in this process's memory, like the rate limits):
 * who a caller is comes from `identify` (the token's subject or API key; the
 * address for requests without a valid token). Each caller has its own
 * AdmissionLine: a request over its caller's running slots waits in that
 * line; a full line, or a wait longer than `maxWaitMs`, is answered 429
 * `RATE_LIMITED` with `Retry-After`. A slot is held until the handler has
 * answered, so hanging up does not free a caller's slot while its query runs.
 */
export function callerSlots(identify: (req: Request) => Promise<Viewer | null>, settings: CallerSlots = DEFAULT_CALLER_SLOTS): RequestHandler {
  if (settings.perCaller <= 0) return (_req, _res, next) => next();
  const lines = new Map<string, AdmissionLine>();
  const retryAfterSeconds = Math.max(1, Math.ceil(settings.maxWaitMs / 1000));
  const bounds = { maxWaiting: settings.queuedPerCaller, maxWaitMs: settings.maxWaitMs };

  return async (req, res, next) => {
    let viewer: Viewer | null = null;
    try {
      viewer = await identify(req);
    } catch {
      // Refused later with its reason (401); its line is its address's.
    }
    const key = callerKey(viewer, addressOf(req));
    let line = lines.get(key);
    if (!line) lines.set(key, (line = new AdmissionLine(settings.perCaller, () => lines.delete(key))));
    const turned = (why: Turned) =>
      refuse(
        req,
        res,
        429,
        'RATE_LIMITED',
        `Too many requests at once: ${
          why === 'full'
            ? `this caller already has ${settings.perCaller} requests running and ${settings.queuedPerCaller} waiting`
            : `this caller's requests waited ${settings.maxWaitMs / 1000} s for one of its ${settings.perCaller} running requests to finish`
        }. Wait for your earlier requests to finish, then try again.`,
        { details: { retryAfterSeconds }, headers: { 'retry-after': String(retryAfterSeconds) }, close: req.method !== 'GET' && req.method !== 'HEAD' },
      );
    line.enter(req, res, next, turned, bounds);
  };
}
