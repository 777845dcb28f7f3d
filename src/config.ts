import { resolve } from 'node:path';
import { DEFAULT_BODY_RATE, type BodyRate } from './http/body-rate';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './http/rate-limit';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from './modules/imports/import-limits';

/** Everything Mulu reads from the environment, parsed once at start. */
export interface Config {
  /** HTTP port of the GraphQL server. */
  port: number;
  /** External PostgreSQL; when absent Mulu starts its own embedded server. */
  databaseUrl?: string;
  /** Where the embedded PostgreSQL keeps its files (git-ignored). */
  embeddedDataDir: string;
  /** Load the demo dataset into an empty database: always with the embedded server, on request otherwise. */
  loadDemo: boolean;
  /** Log every SQL statement (noisy; for debugging). */
  logSql: boolean;
  /** Largest estimated cost of one GraphQL operation. */
  maxQueryCost?: number;
  /** Return each GraphQL request's SQL statement count in the `x-mulu-sql-statements` header (benchmarks). */
  sqlCountHeader: boolean;
  /** MULU_RESPONSE_CACHE_MB: memory for answers the response cache keeps (src/graphql/response-cache.ts); 0 turns it off. */
  responseCacheBytes?: number;
  /** Who may call the API: see docs/security.md. */
  auth: AuthConfig;
  /** MULU_RATE_LIMIT_PER_MINUTE, MULU_RATE_LIMIT_ANONYMOUS_PER_MINUTE (docs/security.md). */
  rateLimits: RateLimits;
  /** MULU_BODY_MIN_BYTES_PER_SECOND, MULU_BODY_RATE_WINDOW_SECONDS, MULU_BODY_TIMEOUT_SECONDS (docs/security.md). */
  bodyRate: BodyRate;
  /** MULU_IMPORT_MAX_ROWS, MULU_IMPORT_MAX_COLUMNS, MULU_IMPORT_MAX_CELL_CHARS, MULU_IMPORT_MAX_UNCOMPRESSED_MB (docs/security.md). */
  importLimits: ImportLimits;
  /** Webhooks and live updates (docs/notifications.md). */
  notifications: NotificationsConfig;
}

export interface NotificationsConfig {
  /** MULU_WEBHOOK_ALLOW_PRIVATE: let webhooks reach loopback and private addresses (on-premises receivers, tests). */
  allowPrivateReceivers: boolean;
  /** MULU_WEBHOOK_CONCURRENCY: deliveries in flight at once per server (default 10). */
  concurrency?: number;
  /** MULU_RATE_THRESHOLD: the rate (0 to 1) whose crossing after a capture is notified (default 0.6). */
  rateThreshold?: number;
}

/** Sign-in settings: tokens of the unified identity platform (SSO), the bootstrap admin key, anonymous reads. */
export interface AuthConfig {
  /** JWT verification; absent when no key source is configured (then only API keys work). */
  jwt?: JwtConfig;
  /** MULU_ADMIN_TOKEN: a bootstrap admin key for operators and automated tests. */
  adminToken?: string;
  /** MULU_ANONYMOUS_STATS: let requests without a token read statistics (and nothing else). */
  anonymousStats: boolean;
}

/** Where the identity provider's keys come from, and what a token must claim. */
export interface JwtConfig {
  /** MULU_JWKS_URL: the provider's JSON Web Key Set (preferred: follows key rotation). */
  jwksUrl?: string;
  /** MULU_JWT_PUBLIC_KEY: one SPKI PEM public key, when the provider publishes no JWKS. */
  publicKeyPem?: string;
  /** MULU_JWT_ALGORITHMS: accepted signature algorithms, e.g. RS256,ES256 (the first one is used to import a PEM key). */
  algorithms: string[];
  /** MULU_JWT_ISSUER: the required `iss`. */
  issuer: string;
  /** MULU_JWT_AUDIENCE: the required `aud` (this API's client id at the provider). */
  audience: string;
}

/**
 * Signature algorithms verified with a public key (a PEM key or a JWKS), the
 * only kind Mulu accepts: an identity platform's tokens are signed with its
 * private key.
 */
export const PUBLIC_KEY_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'ES256K', 'EdDSA'] as const;

/**
 * Refuses MULU_JWT_ALGORITHMS that could not be verified with the configured
 * public key, with the reason. HMAC (HS256, HS384, HS512) above all: its key
 * is a shared secret, and a verifier that took the public key as that secret
 * would accept tokens from anyone who has the public key, which is public
 * (the "algorithm confusion" attack).
 */
export function checkJwtAlgorithms(algorithms: readonly string[]): void {
  if (algorithms.length === 0) throw new Error(`MULU_JWT_ALGORITHMS names no algorithm; leave it unset for RS256, or list the identity platform's, e.g. RS256,ES256.`);
  for (const algorithm of algorithms) {
    if (/^HS\d+$/i.test(algorithm)) {
      throw new Error(
        `MULU_JWT_ALGORITHMS lists ${algorithm}, an HMAC algorithm signed with a shared secret; Mulu verifies tokens only with the identity platform's public key (MULU_JWT_PUBLIC_KEY or MULU_JWKS_URL), and a public key taken as an HMAC secret would let anyone forge tokens. Remove ${algorithm} and list the platform's signature algorithm, e.g. RS256.`,
      );
    }
    if (!(PUBLIC_KEY_ALGORITHMS as readonly string[]).includes(algorithm)) {
      throw new Error(`MULU_JWT_ALGORITHMS lists "${algorithm}", which is not a public-key signature algorithm Mulu accepts; use one or more of ${PUBLIC_KEY_ALGORITHMS.join(', ')} (names are case-sensitive).`);
    }
  }
}

function flag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  return ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());
}

/** MULU_RESPONSE_CACHE_MB in bytes; undefined when unset (the default applies). */
function responseCacheBytes(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const mb = Number(value);
  if (!Number.isFinite(mb) || mb < 0) throw new Error(`MULU_RESPONSE_CACHE_MB must be a number of megabytes (0 turns the cache off), got "${value}".`);
  return Math.round(mb * 1024 * 1024);
}

/** A whole number at least `min` from the environment, or `fallback` when unset. */
function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number of at least ${min}, got "${value}".`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a TCP port number, got "${env.PORT}"`);
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  return {
    auth: loadAuthConfig(env),
    port,
    databaseUrl,
    embeddedDataDir: resolve(env.MULU_DATA_DIR ?? '.data/postgres'),
    loadDemo: flag(env.MULU_DEMO) ?? databaseUrl === undefined,
    logSql: flag(env.MULU_LOG_SQL) ?? false,
    maxQueryCost: env.MULU_MAX_QUERY_COST ? Number(env.MULU_MAX_QUERY_COST) : undefined,
    sqlCountHeader: flag(env.MULU_SQL_COUNT_HEADER) ?? false,
    responseCacheBytes: responseCacheBytes(env.MULU_RESPONSE_CACHE_MB),
    notifications: loadNotificationsConfig(env),
    rateLimits: {
      perMinute: wholeNumber(env, 'MULU_RATE_LIMIT_PER_MINUTE', DEFAULT_RATE_LIMITS.perMinute),
      anonymousPerMinute: wholeNumber(env, 'MULU_RATE_LIMIT_ANONYMOUS_PER_MINUTE', DEFAULT_RATE_LIMITS.anonymousPerMinute),
    },
    bodyRate: {
      minBytesPerSecond: wholeNumber(env, 'MULU_BODY_MIN_BYTES_PER_SECOND', DEFAULT_BODY_RATE.minBytesPerSecond),
      windowMs: wholeNumber(env, 'MULU_BODY_RATE_WINDOW_SECONDS', DEFAULT_BODY_RATE.windowMs / 1000, 1) * 1000,
      timeoutMs: wholeNumber(env, 'MULU_BODY_TIMEOUT_SECONDS', DEFAULT_BODY_RATE.timeoutMs / 1000, 1) * 1000,
    },
    importLimits: {
      maxRows: wholeNumber(env, 'MULU_IMPORT_MAX_ROWS', DEFAULT_IMPORT_LIMITS.maxRows, 1),
      maxColumns: wholeNumber(env, 'MULU_IMPORT_MAX_COLUMNS', DEFAULT_IMPORT_LIMITS.maxColumns, 1),
      maxCellChars: wholeNumber(env, 'MULU_IMPORT_MAX_CELL_CHARS', DEFAULT_IMPORT_LIMITS.maxCellChars, 1),
      maxUncompressedBytes: wholeNumber(env, 'MULU_IMPORT_MAX_UNCOMPRESSED_MB', DEFAULT_IMPORT_LIMITS.maxUncompressedBytes / 1024 / 1024, 1) * 1024 * 1024,
    },
  };
}

function loadNotificationsConfig(env: NodeJS.ProcessEnv): NotificationsConfig {
  let concurrency: number | undefined;
  if (env.MULU_WEBHOOK_CONCURRENCY) {
    concurrency = Number(env.MULU_WEBHOOK_CONCURRENCY);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 200) throw new Error(`MULU_WEBHOOK_CONCURRENCY must be a whole number from 1 to 200, got "${env.MULU_WEBHOOK_CONCURRENCY}".`);
  }
  let rateThreshold: number | undefined;
  if (env.MULU_RATE_THRESHOLD) {
    rateThreshold = Number(env.MULU_RATE_THRESHOLD);
    if (!(rateThreshold >= 0 && rateThreshold <= 1)) throw new Error(`MULU_RATE_THRESHOLD must be a rate between 0 and 1 (0.6 for 60%), got "${env.MULU_RATE_THRESHOLD}".`);
  }
  return { allowPrivateReceivers: flag(env.MULU_WEBHOOK_ALLOW_PRIVATE) ?? false, concurrency, rateThreshold };
}

function loadAuthConfig(env: NodeJS.ProcessEnv): AuthConfig {
  const jwksUrl = env.MULU_JWKS_URL || undefined;
  // PEM keys often arrive through one-line environment variables with literal "\n".
  const publicKeyPem = env.MULU_JWT_PUBLIC_KEY ? env.MULU_JWT_PUBLIC_KEY.replace(/\\n/g, '\n') : undefined;
  const adminToken = env.MULU_ADMIN_TOKEN || undefined;
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new Error('MULU_ADMIN_TOKEN must be at least 16 characters long; use a long random value.');
  }
  let jwt: JwtConfig | undefined;
  if (jwksUrl || publicKeyPem) {
    if (jwksUrl && publicKeyPem) throw new Error('Set either MULU_JWKS_URL or MULU_JWT_PUBLIC_KEY, not both.');
    const issuer = env.MULU_JWT_ISSUER;
    const audience = env.MULU_JWT_AUDIENCE;
    if (!issuer || !audience) throw new Error('MULU_JWT_ISSUER and MULU_JWT_AUDIENCE are required with MULU_JWKS_URL or MULU_JWT_PUBLIC_KEY.');
    const algorithms = (env.MULU_JWT_ALGORITHMS || 'RS256')
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
    checkJwtAlgorithms(algorithms);
    jwt = { jwksUrl, publicKeyPem, algorithms, issuer, audience };
  }
  return { jwt, adminToken, anonymousStats: flag(env.MULU_ANONYMOUS_STATS) ?? false };
}
