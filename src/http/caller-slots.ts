import type { Request, RequestHandler } from 'express';
import type { Viewer } from '../core/viewer';
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

interface Waiter {
  admit(): void;
}

interface Line {
  running: number;
  waiting: Waiter[];
}

/**
 * Per-caller admission (in this process's memory, like the rate limits):
 * who a caller is comes from `identify` (the token's subject or API key; the
 * address for requests without a valid token). A request over its caller's
 * running slots waits in its caller's line; a full line, or a wait longer
 * than `maxWaitMs`, is answered 429 `RATE_LIMITED` with `Retry-After`. A slot
 * is freed when the response is finished or the connection closes, whichever
 * comes first, so a client that goes away frees its slot at once.
 */
export function callerSlots(identify: (req: Request) => Promise<Viewer | null>, settings: CallerSlots = DEFAULT_CALLER_SLOTS): RequestHandler {
  if (settings.perCaller <= 0) return (_req, _res, next) => next();
  const lines = new Map<string, Line>();

  const release = (key: string, line: Line) => {
    const next = line.waiting.shift();
    if (next) return next.admit();
    line.running -= 1;
    if (line.running === 0) lines.delete(key);
  };

  return async (req, res, next) => {
    let viewer: Viewer | null = null;
    try {
      viewer = await identify(req);
    } catch {
      // Refused later with its reason (401); its line is its address's.
    }
    const key = callerKey(viewer, addressOf(req));
    let line = lines.get(key);
    if (!line) lines.set(key, (line = { running: 0, waiting: [] }));
    const current = line;
    const hold = () => {
      let held = true;
      const free = () => {
        if (!held) return;
        held = false;
        release(key, current);
      };
      res.once('finish', free);
      res.once('close', free);
      next();
    };
    if (current.running < settings.perCaller) {
      current.running += 1;
      return hold();
    }
    const retryAfterSeconds = Math.max(1, Math.ceil(settings.maxWaitMs / 1000));
    const tooMany = (why: string) =>
      refuse(req, res, 429, 'RATE_LIMITED', `Too many requests at once: ${why}. Wait for your earlier requests to finish, then try again.`, {
        details: { retryAfterSeconds },
        headers: { 'retry-after': String(retryAfterSeconds) },
        close: req.method !== 'GET' && req.method !== 'HEAD',
      });
    if (current.waiting.length >= settings.queuedPerCaller) {
      return tooMany(`this caller already has ${settings.perCaller} requests running and ${settings.queuedPerCaller} waiting`);
    }
    // Waits for a running request of the same caller to hand over its slot (the slot count stays as it is).
    const waiter: Waiter = {
      admit: () => {
        clearTimeout(timer);
        res.off('close', leave);
        hold();
      },
    };
    const leave = () => {
      clearTimeout(timer);
      const at = current.waiting.indexOf(waiter);
      if (at >= 0) current.waiting.splice(at, 1);
    };
    const timer = setTimeout(() => {
      leave();
      res.off('close', leave);
      tooMany(`this caller's requests waited ${settings.maxWaitMs / 1000} s for one of its ${settings.perCaller} running requests to finish`);
    }, settings.maxWaitMs);
    timer.unref();
    // A client that gives up while waiting leaves the line.
    res.once('close', leave);
    current.waiting.push(waiter);
  };
}
