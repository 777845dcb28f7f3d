import { exportSPKI, generateKeyPair } from 'jose';
import { availableParallelism } from 'node:os';
import { autoWorkers, checkJwtAlgorithms, ConfigError, loadConfig } from '../src/config';
import { authSettingsFromConfig } from '../src/modules/auth/authenticator';

/** Configuration is read from the environment once, at start; what cannot be safe is refused there. */
describe('configuration', () => {
  let pem: string;
  const env = (extra: Record<string, string>) => ({
    MULU_JWT_PUBLIC_KEY: pem,
    MULU_JWT_ISSUER: 'https://sso.example',
    MULU_JWT_AUDIENCE: 'mulu-api',
    ...extra,
  });

  beforeAll(async () => {
    pem = await exportSPKI((await generateKeyPair('RS256')).publicKey);
  });

  it('takes public-key algorithms, RS256 by default', () => {
    expect(loadConfig(env({})).auth.jwt?.algorithms).toEqual(['RS256']);
    expect(loadConfig(env({ MULU_JWT_ALGORITHMS: 'RS256, ES256' })).auth.jwt?.algorithms).toEqual(['RS256', 'ES256']);
  });

  it.each(['HS256', 'RS256,HS256', 'hs512'])('refuses HMAC algorithms with a public key (%s), naming the risk', (algorithms) => {
    expect(() => loadConfig(env({ MULU_JWT_ALGORITHMS: algorithms }))).toThrow(
      /MULU_JWT_ALGORITHMS lists (HS256|hs512), an HMAC algorithm .* would let anyone forge tokens/,
    );
  });

  it('refuses HMAC algorithms with a JWKS URL too', () => {
    expect(() =>
      loadConfig({ MULU_JWKS_URL: 'https://sso.example/jwks.json', MULU_JWT_ISSUER: 'i', MULU_JWT_AUDIENCE: 'a', MULU_JWT_ALGORITHMS: 'HS384' }),
    ).toThrow(/HS384, an HMAC algorithm/);
  });

  it('refuses "none", unknown names and an empty list', () => {
    expect(() => loadConfig(env({ MULU_JWT_ALGORITHMS: 'none' }))).toThrow(/"none", which is not a public-key signature algorithm/);
    expect(() => loadConfig(env({ MULU_JWT_ALGORITHMS: 'rs256' }))).toThrow(/"rs256".*case-sensitive/);
    expect(() => checkJwtAlgorithms([])).toThrow(/names no algorithm/);
  });

  it('refuses the sign-in settings as settings (ConfigError: printed at start without a stack), a JWKS URL that is not one included', () => {
    const refusals: [Record<string, string>, RegExp][] = [
      [{ MULU_ADMIN_TOKEN: 'short' }, /MULU_ADMIN_TOKEN must be at least 16 characters/],
      [env({ MULU_JWT_ALGORITHMS: 'HS256' }), /MULU_JWT_ALGORITHMS lists HS256/],
      [env({ MULU_JWT_ISSUER: '' }), /MULU_JWT_ISSUER and MULU_JWT_AUDIENCE are required/],
      [env({ MULU_JWKS_URL: 'https://sso.example/jwks.json' }), /either MULU_JWKS_URL or MULU_JWT_PUBLIC_KEY, not both/],
      // Before, a URL that was none passed here and stopped the start only after the migrations and the demo (TypeError: Invalid URL).
      [
        { MULU_JWKS_URL: 'sso.example/jwks.json', MULU_JWT_ISSUER: 'i', MULU_JWT_AUDIENCE: 'a' },
        /MULU_JWKS_URL must be an http\(s\) URL .*got "sso.example\/jwks.json"/,
      ],
      [{ MULU_JWKS_URL: 'file:///etc/jwks.json', MULU_JWT_ISSUER: 'i', MULU_JWT_AUDIENCE: 'a' }, /MULU_JWKS_URL must be an http\(s\) URL/],
    ];
    for (const [settings, message] of refusals) {
      let thrown: unknown;
      try {
        loadConfig(settings);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as Error).message).toMatch(message);
    }
    expect(loadConfig({ MULU_JWKS_URL: 'http://sso.internal:8080/jwks', MULU_JWT_ISSUER: 'i', MULU_JWT_AUDIENCE: 'a' }).auth.jwt?.jwksUrl).toBe(
      'http://sso.internal:8080/jwks',
    );
  });

  it('refuses HMAC settings that bypass the environment as well', async () => {
    await expect(
      authSettingsFromConfig({ jwt: { publicKeyPem: pem, algorithms: ['HS256'], issuer: 'i', audience: 'a' }, anonymousStats: false }),
    ).rejects.toThrow(/HS256, an HMAC algorithm/);
  });

  it('reads the response cache size in megabytes: unset for the default, 0 for off, anything else refused', () => {
    expect(loadConfig({}).responseCacheBytes).toBeUndefined();
    expect(loadConfig({ MULU_RESPONSE_CACHE_MB: '0' }).responseCacheBytes).toBe(0);
    expect(loadConfig({ MULU_RESPONSE_CACHE_MB: '64' }).responseCacheBytes).toBe(64 * 1024 * 1024);
    for (const value of ['-1', 'lots', 'Infinity'])
      expect(() => loadConfig({ MULU_RESPONSE_CACHE_MB: value })).toThrow(/MULU_RESPONSE_CACHE_MB must be a number of megabytes/);
  });

  it('reads the execution budget: statement timeout, request deadline and response cap, with defaults and ranges', () => {
    const defaults = loadConfig({});
    expect(defaults.statementTimeoutMs).toBe(10_000);
    expect(defaults.executionBudget).toEqual({ requestTimeoutMs: 30_000, maxResponseBytes: 64 * 1024 * 1024 });
    const set = loadConfig({ MULU_STATEMENT_TIMEOUT_MS: '0', MULU_REQUEST_TIMEOUT_MS: '5000', MULU_MAX_RESPONSE_MB: '8' });
    expect(set.statementTimeoutMs).toBe(0);
    expect(set.executionBudget).toEqual({ requestTimeoutMs: 5000, maxResponseBytes: 8 * 1024 * 1024 });
    expect(() => loadConfig({ MULU_STATEMENT_TIMEOUT_MS: '-1' })).toThrow(/MULU_STATEMENT_TIMEOUT_MS must be a whole number of milliseconds/);
    expect(() => loadConfig({ MULU_REQUEST_TIMEOUT_MS: '10' })).toThrow(/MULU_REQUEST_TIMEOUT_MS must be a whole number of milliseconds from 100/);
    // One answer is one JavaScript string, which ends near 512 million characters.
    expect(() => loadConfig({ MULU_MAX_RESPONSE_MB: '1024' })).toThrow(/MULU_MAX_RESPONSE_MB must be a whole number of megabytes from 1 to 256/);
  });

  it('reads the rate limits and the body rate, with defaults, and refuses what is not a whole number', () => {
    expect(loadConfig({}).rateLimits).toEqual({ perMinute: 600, anonymousPerMinute: 120 });
    expect(loadConfig({}).bodyRate).toEqual({ minBytesPerSecond: 8192, windowMs: 10_000, timeoutMs: 120_000 });
    const set = loadConfig({
      MULU_RATE_LIMIT_PER_MINUTE: '0',
      MULU_RATE_LIMIT_ANONYMOUS_PER_MINUTE: '30',
      MULU_BODY_MIN_BYTES_PER_SECOND: '1024',
      MULU_BODY_RATE_WINDOW_SECONDS: '5',
      MULU_BODY_TIMEOUT_SECONDS: '600',
    });
    expect(set.rateLimits).toEqual({ perMinute: 0, anonymousPerMinute: 30 });
    expect(set.bodyRate).toEqual({ minBytesPerSecond: 1024, windowMs: 5000, timeoutMs: 600_000 });
    expect(() => loadConfig({ MULU_RATE_LIMIT_PER_MINUTE: '-5' })).toThrow(/MULU_RATE_LIMIT_PER_MINUTE must be a whole number from 0 to/);
    expect(() => loadConfig({ MULU_BODY_TIMEOUT_SECONDS: '0' })).toThrow(/MULU_BODY_TIMEOUT_SECONDS must be a whole number of seconds from 1 to/);
  });

  it('reads the per-caller slots, with defaults (2 running, 32 waiting), 0 turning them off', () => {
    expect(loadConfig({}).callerSlots).toEqual({ perCaller: 2, queuedPerCaller: 32, maxWaitMs: 15_000 });
    expect(loadConfig({ MULU_CALLER_CONCURRENCY: '0', MULU_CALLER_QUEUE: '5' }).callerSlots).toEqual({ perCaller: 0, queuedPerCaller: 5, maxWaitMs: 15_000 });
    expect(() => loadConfig({ MULU_CALLER_CONCURRENCY: 'many' })).toThrow(/MULU_CALLER_CONCURRENCY must be a whole number from 0 to/);
  });

  it('refuses a value that is not what a variable takes, naming the variable, what it got and what it accepts (finding 5)', () => {
    // Before: MULU_MAX_QUERY_COST=abc became NaN and switched the cost limit off.
    expect(() => loadConfig({ MULU_MAX_QUERY_COST: 'abc' })).toThrow('MULU_MAX_QUERY_COST must be a whole number from 1 to 9007199254740991, got "abc".');
    expect(() => loadConfig({ MULU_MAX_QUERY_COST: '0' })).toThrow(/MULU_MAX_QUERY_COST must be a whole number from 1/);
    expect(() => loadConfig({ MULU_MAX_QUERY_COST: '1.5' })).toThrow(/MULU_MAX_QUERY_COST/);
    expect(loadConfig({ MULU_MAX_QUERY_COST: '5000' }).maxQueryCost).toBe(5000);
    expect(() => loadConfig({ PORT: '70000' })).toThrow('PORT must be a whole number from 0 to 65535, got "70000".');
    expect(() => loadConfig({ MULU_DEMO: 'sure' })).toThrow('MULU_DEMO must be one of 1, true, yes, on, 0, false, no, off, got "sure".');
    expect(() => loadConfig({ MULU_SHUTDOWN_GRACE_MS: '-5' })).toThrow(/MULU_SHUTDOWN_GRACE_MS must be a whole number of milliseconds from 0 to 600000/);
    expect(() => loadConfig({ MULU_LOG_LEVEL: 'loud' })).toThrow(/MULU_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL must be a PostgreSQL URL/);
    expect(() => loadConfig({ HOST: 'every interface' })).toThrow(/HOST must be an interface address/);
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', MULU_MAX_QUERY_COST: 'abc' })).toThrow(/PORT must be .*; MULU_MAX_QUERY_COST must be/);
  });

  it('listens on loopback unless HOST says otherwise; shutdown grace 10 s unless MULU_SHUTDOWN_GRACE_MS says otherwise', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({}).shutdownGraceMs).toBe(10_000);
    expect(loadConfig({ MULU_SHUTDOWN_GRACE_MS: '2500' }).shutdownGraceMs).toBe(2500);
    expect(loadConfig({ MULU_DEMO: 'off', MULU_LOG_SQL: 'YES' })).toMatchObject({ loadDemo: false, logSql: true });
  });

  it('cuts a client that stopped reading after 60 s unless MULU_SEND_STALL_MS says otherwise (1 s to 1 h)', () => {
    expect(loadConfig({}).sendStallMs).toBe(60_000);
    expect(loadConfig({ MULU_SEND_STALL_MS: '5000' }).sendStallMs).toBe(5000);
    expect(() => loadConfig({ MULU_SEND_STALL_MS: '10' })).toThrow(/MULU_SEND_STALL_MS must be a whole number of milliseconds from 1000 to 3600000/);
  });

  it('runs one worker per core unless MULU_WORKERS says otherwise: auto or a whole number from 1 to 64', () => {
    expect(loadConfig({}).workers).toBe(autoWorkers());
    expect(autoWorkers()).toBe(Math.min(64, availableParallelism()));
    expect([autoWorkers(1), autoWorkers(2), autoWorkers(128)]).toEqual([1, 2, 64]);
    expect(loadConfig({ MULU_WORKERS: 'auto' }).workers).toBe(autoWorkers());
    expect(loadConfig({ MULU_WORKERS: 'AUTO' }).workers).toBe(autoWorkers());
    expect(loadConfig({ MULU_WORKERS: '1' }).workers).toBe(1);
    expect(loadConfig({ MULU_WORKERS: ' 64 ' }).workers).toBe(64);
    for (const value of ['0', '65', '-2', '1.5', 'two', 'max'])
      expect(() => loadConfig({ MULU_WORKERS: value })).toThrow(
        `MULU_WORKERS must be auto (one worker per core) or a whole number from 1 to 64, got "${value}".`,
      );
  });

  it('reads the notification settings: defaults unset, values checked like every other variable', () => {
    expect(loadConfig({}).notifications).toEqual({ allowPrivateReceivers: false, concurrency: undefined, rateThreshold: undefined });
    expect(loadConfig({ MULU_WEBHOOK_ALLOW_PRIVATE: 'yes', MULU_WEBHOOK_CONCURRENCY: '25', MULU_RATE_THRESHOLD: '0.75' }).notifications).toEqual({
      allowPrivateReceivers: true,
      concurrency: 25,
      rateThreshold: 0.75,
    });
    expect(() => loadConfig({ MULU_WEBHOOK_CONCURRENCY: '0' })).toThrow(/MULU_WEBHOOK_CONCURRENCY must be a whole number from 1 to 200, got "0"/);
    expect(() => loadConfig({ MULU_RATE_THRESHOLD: '60' })).toThrow(/MULU_RATE_THRESHOLD must be a rate from 0 to 1 .*, got "60"/);
    expect(() => loadConfig({ MULU_WEBHOOK_ALLOW_PRIVATE: 'sometimes' })).toThrow(/MULU_WEBHOOK_ALLOW_PRIVATE must be one of/);
  });
});
