import { exportSPKI, generateKeyPair } from 'jose';
import { checkJwtAlgorithms, loadConfig } from '../src/config';
import { authSettingsFromConfig } from '../src/modules/auth/authenticator';

/** Configuration is read from the environment once, at start; what cannot be safe is refused there. */
describe('configuration', () => {
  let pem: string;
  const env = (extra: Record<string, string>) => ({ MULU_JWT_PUBLIC_KEY: pem, MULU_JWT_ISSUER: 'https://sso.example', MULU_JWT_AUDIENCE: 'mulu-api', ...extra });

  beforeAll(async () => {
    pem = await exportSPKI((await generateKeyPair('RS256')).publicKey);
  });

  it('takes public-key algorithms, RS256 by default', () => {
    expect(loadConfig(env({})).auth.jwt?.algorithms).toEqual(['RS256']);
    expect(loadConfig(env({ MULU_JWT_ALGORITHMS: 'RS256, ES256' })).auth.jwt?.algorithms).toEqual(['RS256', 'ES256']);
  });

  it.each(['HS256', 'RS256,HS256', 'hs512'])('refuses HMAC algorithms with a public key (%s), naming the risk', (algorithms) => {
    expect(() => loadConfig(env({ MULU_JWT_ALGORITHMS: algorithms }))).toThrow(/MULU_JWT_ALGORITHMS lists (HS256|hs512), an HMAC algorithm .* would let anyone forge tokens/);
  });

  it('refuses HMAC algorithms with a JWKS URL too', () => {
    expect(() => loadConfig({ MULU_JWKS_URL: 'https://sso.example/jwks.json', MULU_JWT_ISSUER: 'i', MULU_JWT_AUDIENCE: 'a', MULU_JWT_ALGORITHMS: 'HS384' })).toThrow(/HS384, an HMAC algorithm/);
  });

  it('refuses "none", unknown names and an empty list', () => {
    expect(() => loadConfig(env({ MULU_JWT_ALGORITHMS: 'none' }))).toThrow(/"none", which is not a public-key signature algorithm/);
    expect(() => loadConfig(env({ MULU_JWT_ALGORITHMS: 'rs256' }))).toThrow(/"rs256".*case-sensitive/);
    expect(() => checkJwtAlgorithms([])).toThrow(/names no algorithm/);
  });

  it('refuses HMAC settings that bypass the environment as well', async () => {
    await expect(authSettingsFromConfig({ jwt: { publicKeyPem: pem, algorithms: ['HS256'], issuer: 'i', audience: 'a' }, anonymousStats: false })).rejects.toThrow(/HS256, an HMAC algorithm/);
  });

  it('reads the response cache size in megabytes: unset for the default, 0 for off, anything else refused', () => {
    expect(loadConfig({}).responseCacheBytes).toBeUndefined();
    expect(loadConfig({ MULU_RESPONSE_CACHE_MB: '0' }).responseCacheBytes).toBe(0);
    expect(loadConfig({ MULU_RESPONSE_CACHE_MB: '64' }).responseCacheBytes).toBe(64 * 1024 * 1024);
    for (const value of ['-1', 'lots', 'Infinity']) expect(() => loadConfig({ MULU_RESPONSE_CACHE_MB: value })).toThrow(/MULU_RESPONSE_CACHE_MB must be a number of megabytes/);
  });

  it('reads the rate limits and the body rate, with defaults, and refuses what is not a whole number', () => {
    expect(loadConfig({}).rateLimits).toEqual({ perMinute: 600, anonymousPerMinute: 120 });
    expect(loadConfig({}).bodyRate).toEqual({ minBytesPerSecond: 8192, windowMs: 10_000, timeoutMs: 120_000 });
    const set = loadConfig({ MULU_RATE_LIMIT_PER_MINUTE: '0', MULU_RATE_LIMIT_ANONYMOUS_PER_MINUTE: '30', MULU_BODY_MIN_BYTES_PER_SECOND: '1024', MULU_BODY_RATE_WINDOW_SECONDS: '5', MULU_BODY_TIMEOUT_SECONDS: '600' });
    expect(set.rateLimits).toEqual({ perMinute: 0, anonymousPerMinute: 30 });
    expect(set.bodyRate).toEqual({ minBytesPerSecond: 1024, windowMs: 5000, timeoutMs: 600_000 });
    expect(() => loadConfig({ MULU_RATE_LIMIT_PER_MINUTE: '-5' })).toThrow(/MULU_RATE_LIMIT_PER_MINUTE must be a whole number of at least 0/);
    expect(() => loadConfig({ MULU_BODY_TIMEOUT_SECONDS: '0' })).toThrow(/MULU_BODY_TIMEOUT_SECONDS must be a whole number of at least 1/);
  });
});
