import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { OperationLimits } from './graphql/limits';
import { z } from 'zod';
import { DEFAULT_BODY_RATE, type BodyRate } from './http/body-rate';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './http/rate-limit';
import { DEFAULT_CALLER_SLOTS, type CallerSlots } from './http/caller-slots';
import { DEFAULT_SEND_STALL_MS } from './http/send-stall';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from './modules/imports/import-limits';
import { DEFAULT_EXECUTION_BUDGET, type ExecutionBudget } from './graphql/execution-budget';
import { DEFAULT_STATEMENT_TIMEOUT_MS } from './db/statement-timeout';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** How long requests in flight may take to finish after SIGTERM/SIGINT (MULU_SHUTDOWN_GRACE_MS). */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/** A setting Mulu cannot start with; the message names the variable and what it accepts. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Everything Mulu reads from the environment, parsed once at start. */
export interface Config {
  /** HTTP port of the GraphQL server. */
  port: number;
  /** HOST: the interface the server listens on; loopback unless set (docker sets 0.0.0.0). */
  host: string;
  /** MULU_LOG_LEVEL: the least severe log line written (pino levels). */
  logLevel: LogLevel;
  /** MULU_SHUTDOWN_GRACE_MS: how long requests in flight may finish after SIGTERM/SIGINT. */
  shutdownGraceMs: number;
  /**
   * MULU_WORKERS: Node processes serving the port (src/cluster.ts); 1 serves
   * from the one process, as before. Default (`auto`): one per core.
   */
  workers: number;
  /** External PostgreSQL; when absent Mulu starts its own embedded server. */
  databaseUrl?: string;
  /** Where the embedded PostgreSQL keeps its files (git-ignored). */
  embeddedDataDir: string;
  /** MULU_DEMO: load the demo dataset into an empty database; default on with the embedded server, off with DATABASE_URL. */
  loadDemo: boolean;
  /** Log every SQL statement (noisy; for debugging). */
  logSql: boolean;
  /** Largest estimated cost of one GraphQL operation. */
  maxQueryCost?: number;
  /** Shape limits of one GraphQL operation (MULU_MAX_ALIASES, MULU_MAX_DEPTH, ...; docs/security.md); unset ones take their defaults. */
  limits: Partial<OperationLimits>;
  /** MULU_SEND_STALL_MS: how long an answer (GraphQL or a dataset download) may send nothing, or a graphql-ws connection leave a ping unanswered, before its client is cut (src/http/send-stall.ts, src/graphql/websocket.ts). */
  sendStallMs: number;
  /** MULU_STATEMENT_TIMEOUT_MS: the longest one SQL statement of an API request may run (src/db/statement-timeout.ts); 0: none. */
  statementTimeoutMs: number;
  /** MULU_REQUEST_TIMEOUT_MS and MULU_MAX_RESPONSE_MB: the execution budget of one GraphQL request (src/graphql/execution-budget.ts). */
  executionBudget: ExecutionBudget;
  /** MULU_INTROSPECTION: schema introspection and the landing page; default on, off when NODE_ENV=production. */
  introspection: boolean;
  /** MULU_COMPILED_EXECUTION: run queries compiled by graphql-jit (src/graphql/compiled-execution.ts); default on. */
  compiledExecution: boolean;
  /** Return each GraphQL request's SQL statement count in the `x-mulu-sql-statements` header, its server time and longest statement in `Server-Timing` (benchmarks). */
  sqlCountHeader: boolean;
  /** MULU_RESPONSE_CACHE_MB: memory for answers the response cache keeps (src/graphql/response-cache.ts); 0 turns it off. */
  responseCacheBytes?: number;
  /** Who may call the API: see docs/security.md. */
  auth: AuthConfig;
  /** MULU_RATE_LIMIT_PER_MINUTE, MULU_RATE_LIMIT_ANONYMOUS_PER_MINUTE (docs/security.md). */
  rateLimits: RateLimits;
  /** MULU_CALLER_CONCURRENCY, MULU_CALLER_QUEUE: requests one caller may have running, and waiting (docs/security.md). */
  callerSlots: CallerSlots;
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
  if (algorithms.length === 0)
    throw new ConfigError(`MULU_JWT_ALGORITHMS names no algorithm; leave it unset for RS256, or list the identity platform's, e.g. RS256,ES256.`);
  for (const algorithm of algorithms) {
    if (/^HS\d+$/i.test(algorithm)) {
      throw new ConfigError(
        `MULU_JWT_ALGORITHMS lists ${algorithm}, an HMAC algorithm signed with a shared secret; Mulu verifies tokens only with the identity platform's public key (MULU_JWT_PUBLIC_KEY or MULU_JWKS_URL), and a public key taken as an HMAC secret would let anyone forge tokens. Remove ${algorithm} and list the platform's signature algorithm, e.g. RS256.`,
      );
    }
    if (!(PUBLIC_KEY_ALGORITHMS as readonly string[]).includes(algorithm)) {
      throw new ConfigError(
        `MULU_JWT_ALGORITHMS lists "${algorithm}", which is not a public-key signature algorithm Mulu accepts; use one or more of ${PUBLIC_KEY_ALGORITHMS.join(', ')} (names are case-sensitive).`,
      );
    }
  }
}

const FLAG_VALUES = ['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off'];

/** An on/off switch: 1/true/yes/on or 0/false/no/off (any case); unset or empty keeps the default. */
const flag = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value === '') return undefined;
    const lower = value.toLowerCase();
    if (!FLAG_VALUES.includes(lower)) {
      ctx.addIssue({ code: 'custom', message: `must be one of ${FLAG_VALUES.join(', ')}` });
      return z.NEVER;
    }
    return ['1', 'true', 'yes', 'on'].includes(lower);
  });

/** A whole number in [min, max]; unset or empty keeps the default. */
const wholeNumber = (min: number, max: number, unit = '') =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const n = Number(value);
      if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number${unit} from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

/** Where the server listens: an IPv4 or IPv6 address, or a host name. */
const hostName = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value.trim() === '') return undefined;
    const host = value.trim();
    if (!/^[A-Za-z0-9.:_-]+$/.test(host)) {
      ctx.addIssue({ code: 'custom', message: 'must be an interface address such as 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or ::' });
      return z.NEVER;
    }
    return host;
  });

/** The most workers MULU_WORKERS may ask for (each holds a pool of 10 connections and its own response cache). */
export const MAX_WORKERS = 64;

/** One worker per core the process may use, at most MAX_WORKERS. */
export const autoWorkers = (cores: number = availableParallelism()) => Math.max(1, Math.min(MAX_WORKERS, cores));

/** MULU_WORKERS: `auto` (one per core) or a whole number from 1 to MAX_WORKERS; unset or empty: `auto`. */
const workerCount = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value.trim() === '' || value.trim().toLowerCase() === 'auto') return undefined;
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > MAX_WORKERS) {
      ctx.addIssue({ code: 'custom', message: `must be auto (one worker per core) or a whole number from 1 to ${MAX_WORKERS}` });
      return z.NEVER;
    }
    return n;
  });

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Every variable Mulu reads, typed and range-checked in one place. A value
 * that does not fit stops the start with a message that names the variable,
 * what it got and what it accepts (never a silent NaN or a default).
 */
const environmentSchema = z.object({
  PORT: wholeNumber(0, 65535),
  HOST: hostName,
  DATABASE_URL: z
    .string()
    .optional()
    .refine((value) => !value || /^postgres(ql)?:\/\//.test(value), { message: 'must be a PostgreSQL URL such as postgres://user:password@host:5432/mulu' }),
  MULU_DATA_DIR: z.string().optional(),
  MULU_DEMO: flag,
  MULU_LOG_SQL: flag,
  MULU_LOG_LEVEL: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return undefined;
      if (!(LOG_LEVELS as readonly string[]).includes(value.toLowerCase())) {
        ctx.addIssue({ code: 'custom', message: `must be one of ${LOG_LEVELS.join(', ')}` });
        return z.NEVER;
      }
      return value.toLowerCase() as LogLevel;
    }),
  MULU_MAX_QUERY_COST: wholeNumber(1, Number.MAX_SAFE_INTEGER),
  MULU_MAX_ALIASES: wholeNumber(1, 100_000),
  MULU_MAX_DEPTH: wholeNumber(1, 1_000),
  MULU_MAX_TOKENS: wholeNumber(1, 10_000_000),
  MULU_MAX_DIRECTIVES: wholeNumber(1, 100_000),
  MULU_MAX_ROOT_FIELDS: wholeNumber(1, 100_000),
  // 0 turns the statement timeout off; a request's deadline and answer always have one.
  MULU_STATEMENT_TIMEOUT_MS: wholeNumber(0, 3_600_000, ' of milliseconds'),
  MULU_REQUEST_TIMEOUT_MS: wholeNumber(100, 3_600_000, ' of milliseconds'),
  // At most 256 MB: JavaScript strings end near 512 million characters, and the answer is one string.
  MULU_MAX_RESPONSE_MB: wholeNumber(1, 256, ' of megabytes'),
  MULU_INTROSPECTION: flag,
  MULU_COMPILED_EXECUTION: flag,
  MULU_SQL_COUNT_HEADER: flag,
  MULU_RESPONSE_CACHE_MB: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return undefined;
      const mb = Number(value);
      if (!Number.isFinite(mb) || mb < 0) {
        ctx.addIssue({ code: 'custom', message: 'must be a number of megabytes (0 turns the cache off)' });
        return z.NEVER;
      }
      return Math.round(mb * 1024 * 1024);
    }),
  MULU_SHUTDOWN_GRACE_MS: wholeNumber(0, 600_000, ' of milliseconds'),
  MULU_SEND_STALL_MS: wholeNumber(1_000, 3_600_000, ' of milliseconds'),
  MULU_WORKERS: workerCount,
  MULU_ANONYMOUS_STATS: flag,
  MULU_RATE_LIMIT_PER_MINUTE: wholeNumber(0, 1_000_000_000),
  MULU_RATE_LIMIT_ANONYMOUS_PER_MINUTE: wholeNumber(0, 1_000_000_000),
  MULU_CALLER_CONCURRENCY: wholeNumber(0, 10_000),
  MULU_CALLER_QUEUE: wholeNumber(0, 100_000),
  MULU_BODY_MIN_BYTES_PER_SECOND: wholeNumber(0, 1_000_000_000, ' of bytes a second'),
  MULU_BODY_RATE_WINDOW_SECONDS: wholeNumber(1, 3600, ' of seconds'),
  MULU_BODY_TIMEOUT_SECONDS: wholeNumber(1, 86_400, ' of seconds'),
  MULU_IMPORT_MAX_ROWS: wholeNumber(1, 100_000_000),
  MULU_IMPORT_MAX_COLUMNS: wholeNumber(1, 100_000),
  MULU_IMPORT_MAX_CELL_CHARS: wholeNumber(1, 100_000_000),
  MULU_IMPORT_MAX_UNCOMPRESSED_MB: wholeNumber(1, 100_000, ' of megabytes'),
  MULU_WEBHOOK_ALLOW_PRIVATE: flag,
  MULU_WEBHOOK_CONCURRENCY: wholeNumber(1, 200),
  MULU_RATE_THRESHOLD: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const rate = Number(value);
      if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
        ctx.addIssue({ code: 'custom', message: 'must be a rate from 0 to 1 (0.6 for 60%)' });
        return z.NEVER;
      }
      return rate;
    }),
});

/** Reads the environment through the schema; every problem at once, each naming its variable and the accepted values. */
function parseEnvironment(env: NodeJS.ProcessEnv) {
  const result = environmentSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    return `${name} ${issue.message}, got "${env[name]}"`;
  });
  throw new ConfigError(problems.join('; ') + '.');
}

/** The limits that are set (an unset one keeps its default). */
function definedOnly(limits: { [K in keyof OperationLimits]?: number | undefined }): Partial<OperationLimits> {
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined)) as Partial<OperationLimits>;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = parseEnvironment(env);
  const databaseUrl = parsed.DATABASE_URL || undefined;
  return {
    auth: loadAuthConfig(env, parsed.MULU_ANONYMOUS_STATS ?? false),
    port: parsed.PORT ?? 4000,
    // The embedded demo is for this machine only; a deployment says where to listen (docker: 0.0.0.0).
    host: parsed.HOST ?? '127.0.0.1',
    databaseUrl,
    embeddedDataDir: resolve(parsed.MULU_DATA_DIR || '.data/postgres'),
    loadDemo: parsed.MULU_DEMO ?? databaseUrl === undefined,
    logSql: parsed.MULU_LOG_SQL ?? false,
    logLevel: parsed.MULU_LOG_LEVEL ?? 'info',
    maxQueryCost: parsed.MULU_MAX_QUERY_COST,
    limits: definedOnly({
      maxAliases: parsed.MULU_MAX_ALIASES,
      maxDepth: parsed.MULU_MAX_DEPTH,
      maxTokens: parsed.MULU_MAX_TOKENS,
      maxDirectives: parsed.MULU_MAX_DIRECTIVES,
      maxRootFields: parsed.MULU_MAX_ROOT_FIELDS,
    }),
    statementTimeoutMs: parsed.MULU_STATEMENT_TIMEOUT_MS ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    executionBudget: {
      requestTimeoutMs: parsed.MULU_REQUEST_TIMEOUT_MS ?? DEFAULT_EXECUTION_BUDGET.requestTimeoutMs,
      maxResponseBytes: parsed.MULU_MAX_RESPONSE_MB !== undefined ? parsed.MULU_MAX_RESPONSE_MB * 1024 * 1024 : DEFAULT_EXECUTION_BUDGET.maxResponseBytes,
    },
    introspection: parsed.MULU_INTROSPECTION ?? env.NODE_ENV !== 'production',
    compiledExecution: parsed.MULU_COMPILED_EXECUTION ?? true,
    sqlCountHeader: parsed.MULU_SQL_COUNT_HEADER ?? false,
    responseCacheBytes: parsed.MULU_RESPONSE_CACHE_MB,
    shutdownGraceMs: parsed.MULU_SHUTDOWN_GRACE_MS ?? DEFAULT_SHUTDOWN_GRACE_MS,
    sendStallMs: parsed.MULU_SEND_STALL_MS ?? DEFAULT_SEND_STALL_MS,
    workers: parsed.MULU_WORKERS ?? autoWorkers(),
    notifications: {
      allowPrivateReceivers: parsed.MULU_WEBHOOK_ALLOW_PRIVATE ?? false,
      concurrency: parsed.MULU_WEBHOOK_CONCURRENCY,
      rateThreshold: parsed.MULU_RATE_THRESHOLD,
    },
    rateLimits: {
      perMinute: parsed.MULU_RATE_LIMIT_PER_MINUTE ?? DEFAULT_RATE_LIMITS.perMinute,
      anonymousPerMinute: parsed.MULU_RATE_LIMIT_ANONYMOUS_PER_MINUTE ?? DEFAULT_RATE_LIMITS.anonymousPerMinute,
    },
    callerSlots: {
      ...DEFAULT_CALLER_SLOTS,
      perCaller: parsed.MULU_CALLER_CONCURRENCY ?? DEFAULT_CALLER_SLOTS.perCaller,
      queuedPerCaller: parsed.MULU_CALLER_QUEUE ?? DEFAULT_CALLER_SLOTS.queuedPerCaller,
    },
    bodyRate: {
      minBytesPerSecond: parsed.MULU_BODY_MIN_BYTES_PER_SECOND ?? DEFAULT_BODY_RATE.minBytesPerSecond,
      windowMs: (parsed.MULU_BODY_RATE_WINDOW_SECONDS ?? DEFAULT_BODY_RATE.windowMs / 1000) * 1000,
      timeoutMs: (parsed.MULU_BODY_TIMEOUT_SECONDS ?? DEFAULT_BODY_RATE.timeoutMs / 1000) * 1000,
    },
    importLimits: {
      maxRows: parsed.MULU_IMPORT_MAX_ROWS ?? DEFAULT_IMPORT_LIMITS.maxRows,
      maxColumns: parsed.MULU_IMPORT_MAX_COLUMNS ?? DEFAULT_IMPORT_LIMITS.maxColumns,
      maxCellChars: parsed.MULU_IMPORT_MAX_CELL_CHARS ?? DEFAULT_IMPORT_LIMITS.maxCellChars,
      maxUncompressedBytes: (parsed.MULU_IMPORT_MAX_UNCOMPRESSED_MB ?? DEFAULT_IMPORT_LIMITS.maxUncompressedBytes / 1024 / 1024) * 1024 * 1024,
    },
  };
}

const isHttpUrl = (text: string) => {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
};

function loadAuthConfig(env: NodeJS.ProcessEnv, anonymousStats: boolean): AuthConfig {
  const jwksUrl = env.MULU_JWKS_URL || undefined;
  // Checked here, not when the key set is first fetched: a typo would otherwise stop the start only after the migrations and the demo.
  if (jwksUrl !== undefined && !isHttpUrl(jwksUrl)) {
    throw new ConfigError(
      `MULU_JWKS_URL must be an http(s) URL of the identity platform's JSON Web Key Set, such as https://sso.example.gov.cn/.well-known/jwks.json, got "${jwksUrl}".`,
    );
  }
  // PEM keys often arrive through one-line environment variables with literal "\n".
  const publicKeyPem = env.MULU_JWT_PUBLIC_KEY ? env.MULU_JWT_PUBLIC_KEY.replace(/\\n/g, '\n') : undefined;
  const adminToken = env.MULU_ADMIN_TOKEN || undefined;
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError('MULU_ADMIN_TOKEN must be at least 16 characters long; use a long random value.');
  }
  let jwt: JwtConfig | undefined;
  if (jwksUrl || publicKeyPem) {
    if (jwksUrl && publicKeyPem) throw new ConfigError('Set either MULU_JWKS_URL or MULU_JWT_PUBLIC_KEY, not both.');
    const issuer = env.MULU_JWT_ISSUER;
    const audience = env.MULU_JWT_AUDIENCE;
    if (!issuer || !audience) throw new ConfigError('MULU_JWT_ISSUER and MULU_JWT_AUDIENCE are required with MULU_JWKS_URL or MULU_JWT_PUBLIC_KEY.');
    const algorithms = (env.MULU_JWT_ALGORITHMS || 'RS256')
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
    checkJwtAlgorithms(algorithms);
    jwt = { jwksUrl, publicKeyPem, algorithms, issuer, audience };
  }
  return { jwt, adminToken, anonymousStats };
}
