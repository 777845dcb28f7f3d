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

/** A caller over its limit: what it is told, and how long until its next request counts again. */
export interface RateRefusal {
  message: string;
  retryAfterSeconds: number;
}

/** The per-minute counts of one server, which HTTP requests (rateLimit) and graphql-ws operations (src/graphql/websocket.ts) draw on alike. */
export interface RateLimiter {
  /** Counts one request of the caller (by address when `viewer` is null); its refusal when over the limit, null otherwise. */
  consume(viewer: Viewer | null, address: string): Promise<RateRefusal | null>;
}

/**
 * Per-caller rate limits, kept in this process's memory
 * (rate-limiter-flexible): a fixed window of a minute per key. Requests
 * whose token proves nothing count against their address, so guessing API
 * keys is limited like anonymous reading.
 */
export function createRateLimiter(limits: RateLimits = DEFAULT_RATE_LIMITS): RateLimiter {
  const callers = limits.perMinute > 0 ? new RateLimiterMemory({ points: limits.perMinute, duration: WINDOW_SECONDS }) : null;
  const anonymous = limits.anonymousPerMinute > 0 ? new RateLimiterMemory({ points: limits.anonymousPerMinute, duration: WINDOW_SECONDS }) : null;
  return {
    async consume(viewer, address) {
      const limiter = viewer ? callers : anonymous;
      if (!limiter) return null;
      try {
        await limiter.consume(callerKey(viewer, address));
        return null;
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        const limit = viewer ? limits.perMinute : limits.anonymousPerMinute;
        const who = viewer ? 'this caller' : 'requests from this address without a valid token';
        return { message: `Too many requests: ${who} may send ${limit} a minute. Try again in ${retryAfterSeconds} s.`, retryAfterSeconds };
      }
    },
  };
}

/**
 * The rate limit of HTTP requests: a request over its caller's limit is
 * answered 429 with `Retry-After` and `extensions.code: RATE_LIMITED` before
 * its body is read or anything runs.
 */
export function rateLimit(orm: MikroORM, authenticator: Authenticator, limits: RateLimits, limiter: RateLimiter): RequestHandler {
  if (limits.perMinute <= 0 && limits.anonymousPerMinute <= 0) return (_req, _res, next) => next();
  return async (req, res, next) => {
    let viewer: Viewer | null = null;
    try {
      viewer = await identifyCaller(req, orm, authenticator);
    } catch {
      // Refused later, with its reason (401); counted here by address.
    }
    let refusal: RateRefusal | null;
    try {
      refusal = await limiter.consume(viewer, addressOf(req));
    } catch (error) {
      return next(error);
    }
    if (!refusal) return next();
    refuse(req, res, 429, 'RATE_LIMITED', refusal.message, {
      details: { retryAfterSeconds: refusal.retryAfterSeconds },
      headers: { 'retry-after': String(refusal.retryAfterSeconds) },
      close: req.method !== 'GET' && req.method !== 'HEAD',
    });
  };
}
