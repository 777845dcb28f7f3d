import { createHash, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { createRemoteJWKSet, errors, importSPKI, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type KeyLike } from 'jose';
import { checkJwtAlgorithms, type AuthConfig } from '../../config';
import { MuluError, unauthenticated } from '../../core/errors';
import { cleanText } from '../../core/text';
import { checkCreditCode } from '../departments/credit-code';
import { API_KEY_PREFIX, apiKeyService } from './api-key.service';
import { ActorKind, Role, type Viewer } from '../../core/viewer';

/** JWT verification settings once the key is at hand (a JWKS, an imported PEM, or a key made in a test). */
export interface JwtSettings {
  key: KeyLike | Uint8Array | JWTVerifyGetKey;
  issuer: string;
  audience: string;
  algorithms?: string[];
}

export interface AuthSettings {
  jwt?: JwtSettings;
  adminToken?: string;
  anonymousStats: boolean;
}

/** Resolves the configured key source: a remote JWKS (cached and refreshed by jose) or one PEM key. */
export async function authSettingsFromConfig(config: AuthConfig): Promise<AuthSettings> {
  if (!config.jwt) return { adminToken: config.adminToken, anonymousStats: config.anonymousStats };
  const { jwksUrl, publicKeyPem, algorithms, issuer, audience } = config.jwt;
  // Also here, for settings that did not come from loadConfig (embedders, tests).
  checkJwtAlgorithms(algorithms);
  const key = jwksUrl ? createRemoteJWKSet(new URL(jwksUrl)) : await importSPKI(publicKeyPem!, algorithms[0]);
  return { jwt: { key, issuer, audience, algorithms }, adminToken: config.adminToken, anonymousStats: config.anonymousStats };
}

/** Allowed clock difference between the identity provider and this server. */
const CLOCK_TOLERANCE_SECONDS = 30;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** The longest subject or name a token may carry: what the audit trail and the access log keep of their actor (200 characters). */
export const MAX_ACTOR_TEXT = 200;

/**
 * Refuses a claim that cannot name an actor: longer than MAX_ACTOR_TEXT, or
 * holding what no stored text may hold (core/text.ts). Every write records
 * its actor by these claims, so without this a steward's correct input would
 * fail for the token's sake, with a message about the input (a NUL even
 * reads as the database being away).
 */
function checkActorClaim(value: string, claim: 'sub' | 'name'): string {
  if (value.length > MAX_ACTOR_TEXT)
    throw unauthenticated(`The token's ${claim} claim is longer than ${MAX_ACTOR_TEXT} characters; the identity platform must issue a shorter one.`);
  try {
    cleanText(value, claim);
  } catch (error) {
    if (error instanceof MuluError) throw unauthenticated(`The token's ${claim} claim is not usable text: ${error.message}`);
    throw error;
  }
  return value;
}

/** Turns verified claims into a viewer; a token with unusable claims is refused as a whole. */
export function viewerFromClaims(claims: JWTPayload): Viewer {
  const role = claims.role;
  if (typeof claims.sub !== 'string' || !claims.sub) throw unauthenticated('The token has no subject (sub).');
  checkActorClaim(claims.sub, 'sub');
  if (role !== Role.ADMIN && role !== Role.STEWARD && role !== Role.VIEWER) {
    throw unauthenticated(`The token's role claim must be ADMIN, STEWARD or VIEWER, got ${JSON.stringify(role ?? null)}.`);
  }
  let departmentCreditCode: string | null = null;
  if (role === Role.STEWARD) {
    const check = typeof claims.department === 'string' ? checkCreditCode(claims.department) : null;
    if (!check?.ok) throw unauthenticated('A steward token must name its department by unified social credit code (claim "department").');
    departmentCreditCode = check.code;
  }
  const name = typeof claims.name === 'string' && claims.name ? checkActorClaim(claims.name, 'name') : claims.sub;
  return { kind: ActorKind.USER, id: claims.sub, name, role, departmentCreditCode };
}

function jwtFailure(error: unknown): Error {
  if (error instanceof errors.JWTExpired) return unauthenticated('The token has expired; sign in again.');
  if (error instanceof errors.JWTClaimValidationFailed)
    return unauthenticated(`The token was not issued for this API (${error.claim} claim: ${error.reason}).`);
  if (error instanceof errors.JWSSignatureVerificationFailed) return unauthenticated('The token signature is not valid.');
  if (error instanceof errors.JOSEError) return unauthenticated(`The token is not valid (${error.code}).`);
  return unauthenticated('The token is not valid.');
}

/**
 * How long a verified JWT's viewer is reused without verifying the token
 * again, at most (never past the token's own expiry). Short, so that a key
 * withdrawn from the identity platform's JWKS stops being honoured about
 * when jose would notice it.
 */
const VERIFIED_TOKEN_TTL_MS = 60_000;

/** Verified tokens kept; past it the oldest go first. A dashboard user sends one token for hours. */
const VERIFIED_TOKENS_MAX = 1_000;

/**
 * Viewers of JWTs verified recently, by token text: a signature check costs
 * about as much CPU as the rest of a small query, and a dashboard sends the
 * same token with every request. Only successes are kept; each one until
 * the earlier of its expiry (with the same tolerance jose allows) and
 * VERIFIED_TOKEN_TTL_MS from its verification.
 */
function verifiedTokenCache() {
  const entries = new Map<string, { viewer: Viewer; until: number }>();
  return {
    get(token: string): Viewer | undefined {
      const entry = entries.get(token);
      if (!entry) return undefined;
      if (Date.now() < entry.until) return entry.viewer;
      entries.delete(token);
      return undefined;
    },
    set(token: string, viewer: Viewer, claims: JWTPayload): void {
      const expires = typeof claims.exp === 'number' ? claims.exp * 1000 + CLOCK_TOLERANCE_SECONDS * 1000 : 0;
      const until = Math.min(expires, Date.now() + VERIFIED_TOKEN_TTL_MS);
      if (until <= Date.now()) return;
      entries.delete(token);
      entries.set(token, { viewer, until });
      if (entries.size > VERIFIED_TOKENS_MAX) entries.delete(entries.keys().next().value!);
    },
  };
}

/**
 * Works out who is calling from the Authorization header, once per request:
 * a JWT of the unified identity platform, an API key, or the bootstrap admin
 * key. No header means anonymous (null); a header that proves nothing fails
 * the request with UNAUTHENTICATED, never silently falls back to anonymous.
 */
export function createAuthenticator(settings: AuthSettings) {
  const adminDigest = settings.adminToken ? sha256(settings.adminToken) : null;
  const verified = verifiedTokenCache();
  return {
    anonymousStats: settings.anonymousStats,
    /** `em` may be given as a function: only an API key is looked up, and most requests then need no fork of their own. */
    async authenticate(authorization: string | undefined, em: EntityManager | (() => EntityManager)): Promise<Viewer | null> {
      if (authorization === undefined || authorization.trim() === '') return null;
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match) throw unauthenticated('The Authorization header must be "Bearer <token>".');
      const token = match[1];
      // A JWT verified within the last minute (the usual request): no digest of it against the admin key's, no signature check.
      const known = verified.get(token);
      if (known) return known;
      if (adminDigest && timingSafeEqual(sha256(token), adminDigest)) {
        return { kind: ActorKind.SYSTEM, id: 'bootstrap', name: 'Bootstrap administrator', role: Role.ADMIN, departmentCreditCode: null };
      }
      if (token.startsWith(API_KEY_PREFIX)) {
        const viewer = await apiKeyService.viewerForSecret(typeof em === 'function' ? em() : em, token);
        if (!viewer) throw unauthenticated('This API key is unknown or has been revoked.');
        return viewer;
      }
      if (token.split('.').length !== 3) throw unauthenticated('The token is neither a JWT nor an API key.');
      if (!settings.jwt)
        throw unauthenticated('Sign-in with identity-platform tokens is not configured on this server (MULU_JWKS_URL or MULU_JWT_PUBLIC_KEY).');
      const { key, issuer, audience, algorithms } = settings.jwt;
      let claims: JWTPayload;
      try {
        const verifyOptions = { issuer, audience, algorithms, clockTolerance: CLOCK_TOLERANCE_SECONDS, requiredClaims: ['exp', 'sub'] };
        ({ payload: claims } = typeof key === 'function' ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, key, verifyOptions));
      } catch (error) {
        throw jwtFailure(error);
      }
      // jose checks `iat` only against a maximum age: a token dated in the future (a provider's clock far ahead, or a forged date) is refused here.
      if (typeof claims.iat === 'number' && claims.iat > Date.now() / 1000 + CLOCK_TOLERANCE_SECONDS) {
        throw unauthenticated(
          `The token is issued in the future (iat ${new Date(claims.iat * 1000).toISOString()}), beyond ${CLOCK_TOLERANCE_SECONDS} s of clock difference; check the identity platform's clock.`,
        );
      }
      if (claims.iat !== undefined && typeof claims.iat !== 'number') throw unauthenticated("The token's iat claim is not a number.");
      // Shared by every request that sends this token while it is kept: nobody changes a viewer.
      const viewer = Object.freeze(viewerFromClaims(claims));
      verified.set(token, viewer, claims);
      return viewer;
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
