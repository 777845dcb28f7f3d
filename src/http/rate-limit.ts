import type { MikroORM } from '@mikro-orm/postgresql';
import type { RequestHandler } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Authenticator } from '../modules/auth/authenticator';
import type { Viewer } from '../core/viewer';
import { addressOf, identifyCaller, refuse } from './caller';

/** Requests per minute: per signed-in caller (token subject or API key), and per address for requests without a valid token. 0 turns a limit off. */
export interface RateLimits {
  perMinute: number;
  anonymousPerMinute: number;
}

/**
 * A dashboard refreshes a few dozen queries a minute, an ingestion client
 * sends a batch every second or two; a caller above ten requests a second
 * for a whole minute is a loop gone wrong or an attack.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = { perMinute: 600, anonymousPerMinute: 120 };

const WINDOW_SECONDS = 60;

/** Whom a request is counted against: the signed-in caller, or its address. */
export const callerKey = (viewer: Viewer | null, address: string) => (viewer ? `${viewer.kind}:${viewer.id}` : `address:${address}`);

/**
 * Per-caller rate limits, kept in this process's memory
 * (rate-limiter-flexible): a fixed window of a minute per key. A request
 * over its caller's limit is answered 429 with `Retry-After` and
 * `extensions.code: RATE_LIMITED` before its body is read or anything runs.
 * Requests whose token proves nothing count against their address, so
 * guessing API keys is limited like anonymous reading.
 */
export function rateLimit(orm: MikroORM, authenticator: Authenticator, limits: RateLimits = DEFAULT_RATE_LIMITS): RequestHandler {
  const callers = limits.perMinute > 0 ? new RateLimiterMemory({ points: limits.perMinute, duration: WINDOW_SECONDS }) : null;
  const anonymous = limits.anonymousPerMinute > 0 ? new RateLimiterMemory({ points: limits.anonymousPerMinute, duration: WINDOW_SECONDS }) : null;
  if (!callers && !anonymous) return (_req, _res, next) => next();
  return async (req, res, next) => {
    let viewer: Viewer | null = null;
    try {
      viewer = await identifyCaller(req, orm, authenticator);
    } catch {
      // Refused later, with its reason (401); counted here by address.
    }
    const limiter = viewer ? callers : anonymous;
    if (!limiter) return next();
    try {
      await limiter.consume(callerKey(viewer, addressOf(req)));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) return next(rejection);
      const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      const limit = viewer ? limits.perMinute : limits.anonymousPerMinute;
      const who = viewer ? 'this caller' : 'requests from this address without a valid token';
      refuse(req, res, 429, 'RATE_LIMITED', `Too many requests: ${who} may send ${limit} a minute. Try again in ${retryAfterSeconds} s.`, {
        details: { retryAfterSeconds },
        headers: { 'retry-after': String(retryAfterSeconds) },
        close: req.method !== 'GET' && req.method !== 'HEAD',
      });
      return;
    }
    next();
  };
}
