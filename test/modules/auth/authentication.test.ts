import http from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createAuthenticator } from '../../../src/modules/auth/authenticator';
import { authSettingsFromConfig } from '../../../src/modules/auth/authenticator';
import { createDepartment, createRegions, creditCode, errorCodes } from '../../support/builders';
import { startTestServer, TEST_AUDIENCE, TEST_ISSUER, type TestServer } from '../../support/test-server';

const VIEWER = `{ viewer { kind id name role departmentCreditCode } }`;

/** An admin token, valid in every claim, HMAC-signed with the bytes of a PEM public key. */
const signHmacWithPublicKey = (pem: string) =>
  new SignJWT({ role: 'ADMIN', name: 'Forger' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('forger')
    .setIssuer(TEST_ISSUER)
    .setAudience(TEST_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(pem));

/** Real tokens signed with a real key pair; nothing about verification is mocked. */
describe('sign-in with identity-platform JWTs and the bootstrap key', () => {
  let api: TestServer;
  const dept = creditCode('410505', 1);

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: dept, name: '殷都区民政局', regionCode: '410505' });
  });
  afterAll(() => api.close());

  it('takes a valid token for the user, role and department it claims', async () => {
    const token = await api.signToken({ sub: 'u-42', name: '张三', role: 'STEWARD', department: dept.toLowerCase() });
    const data = await api.withToken(token).ok(VIEWER);
    expect(data.viewer).toEqual({ kind: 'USER', id: 'u-42', name: '张三', role: 'STEWARD', departmentCreditCode: dept });
  });

  it('takes the bootstrap admin key', async () => {
    const data = await api.ok(VIEWER);
    expect(data.viewer).toMatchObject({ kind: 'SYSTEM', role: 'ADMIN' });
  });

  it.each([
    ['expired', () => api.signToken({ role: 'ADMIN' }, { expiresIn: Math.floor(Date.now() / 1000) - 120 }), /expired/],
    ['for another audience', () => api.signToken({ role: 'ADMIN' }, { audience: 'another-system' }), /aud/],
    ['from another issuer', () => api.signToken({ role: 'ADMIN' }, { issuer: 'https://evil.example' }), /iss/],
    ['signed by another key', async () => api.signToken({ role: 'ADMIN' }, { key: (await generateKeyPair('RS256')).privateKey }), /signature/],
    [
      'tampered (role changed after signing)',
      async () => {
        const [header, , signature] = (await api.signToken({ role: 'VIEWER' })).split('.');
        const claims = { sub: 'test-user', role: 'ADMIN', iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 300 };
        return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
      },
      /signature/,
    ],
    // Algorithm confusion: HMAC with the server's public key, which anyone may have, as the shared secret.
    ['signed with HS256 using the public key PEM as secret', () => signHmacWithPublicKey(api.publicKeyPem), /not valid/],
    [
      'signed with HS256 using the public key PEM, without its final line break, as secret',
      () => signHmacWithPublicKey(api.publicKeyPem.trimEnd()),
      /not valid/,
    ],
    [
      'unsigned (alg none)',
      async () =>
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', role: 'ADMIN', iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: 9999999999 })).toString('base64url')}.`,
      /not valid/,
    ],
    ['with an unknown role', () => api.signToken({ role: 'ROOT' }), /role/],
    ['of a steward without a valid department', () => api.signToken({ role: 'STEWARD', department: '123' }), /department/],
    ['not a token at all', async () => 'hello', /neither/],
  ])('refuses a token %s with UNAUTHENTICATED and HTTP 401', async (_what, makeToken, message) => {
    const token = await makeToken();
    const response = await fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: VIEWER }),
    });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { data?: unknown; errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors.map((e) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
    expect(body.errors[0].message).toMatch(message);
    expect(body.data).toBeUndefined();
  });

  it('refuses a signed token whose subject or name cannot name an actor, before anything is read or written', async () => {
    // Every write records its actor by these claims: a steward's correct input must not fail for the token's sake.
    const hostile: [Record<string, unknown>, RegExp][] = [
      [{ sub: 'u'.repeat(201), role: 'ADMIN' }, /sub claim is longer than 200/],
      [{ sub: 'u\u0000x', role: 'ADMIN' }, /sub claim is not usable text: .*U\+0000/],
      [{ sub: 'u', name: '名'.repeat(201), role: 'ADMIN' }, /name claim is longer than 200/],
      [{ sub: 'u', name: 'bad\ud800', role: 'ADMIN' }, /name claim is not usable text: .*lone surrogate/],
      [{ sub: 'u', name: 'tab\u0007', role: 'ADMIN' }, /name claim is not usable text: .*U\+0007/],
    ];
    for (const [claims, message] of hostile) {
      const client = api.withToken(await api.signToken(claims));
      const read = await client.request(VIEWER);
      expect(read.errors?.[0]).toMatchObject({ message: expect.stringMatching(message), extensions: { code: 'UNAUTHENTICATED' } });
      const write = await client.request(`mutation { createRegion(input: { code: "410100", name: "郑州市" }) { code } }`);
      expect(errorCodes(write)).toEqual(['UNAUTHENTICATED']);
    }
    expect((await api.ok<{ region: unknown }>(`{ region(code: "410100") { code } }`)).region).toBeNull();
    // At the limits, the same token is taken.
    const longest = await api.signToken({ sub: 's'.repeat(200), name: '名'.repeat(200), role: 'VIEWER' });
    expect((await api.withToken(longest).ok<{ viewer: { id: string; name: string } }>(VIEWER)).viewer).toMatchObject({
      id: 's'.repeat(200),
      name: '名'.repeat(200),
    });
  });

  it('refuses a header that is not a bearer token', async () => {
    expect(errorCodes(await api.request(VIEWER, {}, { authorization: 'Basic dXNlcjpwYXNz' }))).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses every read without a token', async () => {
    const response = await api.anonymous.request(`{ region(code: "410505") { name mountStats { publishedDirectories } } }`);
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('leaves introspection open without a token, so the landing page can load the schema', async () => {
    const response = await api.anonymous.request(`{ __schema { queryType { name } } }`);
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('lets a viewer read but not write', async () => {
    const viewer = await api.asRole('VIEWER');
    expect((await viewer.ok(`{ region(code: "410505") { name } }`)).region.name).toBe('殷都区');
    const response = await viewer.request(`mutation { createRegion(input: { code: "410502", name: "文峰区" }) { code } }`);
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
  });
});

describe('anonymous reads of statistics (MULU_ANONYMOUS_STATS)', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer({ anonymousStats: true });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
    ]);
    await createDepartment(api, { creditCode: creditCode('410500', 1), name: '安阳市民政局', regionCode: '410500' });
  });
  afterAll(() => api.close());

  it('serves statistics of regions and departments without a token', async () => {
    const data = await api.anonymous.ok(
      `{ region(code: "410000") { name children { code mountStats { mountRate } subscriptionStats { made } departments { edges { node { name mountStats { publishedDirectories } } } } } } }`,
    );
    expect(data.region.children[0].departments.edges[0].node.name).toBe('安阳市民政局');
  });

  it('serves nothing else without a token', async () => {
    for (const query of [
      `{ directories { edges { node { code } } } }`,
      `{ department(creditCode: "${creditCode('410500', 1)}") { directories { edges { node { code } } } } }`,
      `{ department(creditCode: "${creditCode('410500', 1)}") { subscriptionsMade { edges { node { purpose } } } } }`,
      `{ auditEntries { edges { node { action } } } }`,
      `mutation { createRegion(input: { code: "410505", name: "殷都区" }) { code } }`,
    ]) {
      expect(errorCodes(await api.anonymous.request(query))).toContain('UNAUTHENTICATED');
    }
  });
});

describe('keys from a JWKS URL', () => {
  it('verifies tokens against the key set the identity provider publishes', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const jwks = http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    try {
      const port = (jwks.address() as { port: number }).port;
      const settings = await authSettingsFromConfig({
        jwt: { jwksUrl: `http://127.0.0.1:${port}/jwks.json`, algorithms: ['ES256'], issuer: 'iss', audience: 'aud' },
        anonymousStats: false,
      });
      const authenticator = createAuthenticator(settings);
      const token = await new SignJWT({ role: 'VIEWER' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setSubject('u1')
        .setIssuer('iss')
        .setAudience('aud')
        .setExpirationTime('1m')
        .sign(privateKey);
      const em = undefined as never; // JWTs need no database
      await expect(authenticator.authenticate(`Bearer ${token}`, em)).resolves.toMatchObject({ id: 'u1', role: 'VIEWER' });
      const other = await new SignJWT({ role: 'ADMIN' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setSubject('u1')
        .setIssuer('iss')
        .setAudience('aud')
        .setExpirationTime('1m')
        .sign((await generateKeyPair('ES256')).privateKey);
      await expect(authenticator.authenticate(`Bearer ${other}`, em)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    } finally {
      jwks.close();
    }
  });
});

describe('verified tokens', () => {
  afterEach(() => jest.useRealTimers());

  it('verifies a token once and reuses its viewer, never past its expiry', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const authenticator = createAuthenticator({ jwt: { key: publicKey, issuer: 'iss', audience: 'aud', algorithms: ['RS256'] }, anonymousStats: false });
    const start = Date.now();
    jest.useFakeTimers({ now: start, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const token = await new SignJWT({ role: 'VIEWER' })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('u1')
      .setIssuer('iss')
      .setAudience('aud')
      .setExpirationTime(Math.floor(start / 1000) + 20)
      .sign(privateKey);
    const em = undefined as never; // JWTs need no database
    const first = await authenticator.authenticate(`Bearer ${token}`, em);
    expect(first).toMatchObject({ id: 'u1', role: 'VIEWER' });
    // The same object: the signature was not checked again.
    expect(await authenticator.authenticate(`Bearer ${token}`, em)).toBe(first);
    // Past its expiry and the 30 s of clock tolerance, the token is refused as jose refuses it.
    jest.setSystemTime(start + 51_000);
    await expect(authenticator.authenticate(`Bearer ${token}`, em)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/expired/),
    });
  });

  it('checks a token again a minute after it verified it', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const authenticator = createAuthenticator({ jwt: { key: publicKey, issuer: 'iss', audience: 'aud', algorithms: ['RS256'] }, anonymousStats: false });
    const start = Date.now();
    jest.useFakeTimers({ now: start, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const token = await new SignJWT({ role: 'VIEWER' })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('u1')
      .setIssuer('iss')
      .setAudience('aud')
      .setExpirationTime('1h')
      .sign(privateKey);
    const em = undefined as never;
    const first = await authenticator.authenticate(`Bearer ${token}`, em);
    jest.setSystemTime(start + 61_000);
    const again = await authenticator.authenticate(`Bearer ${token}`, em);
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });
});
