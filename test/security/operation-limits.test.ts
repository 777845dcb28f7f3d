import { httpHeadersFor, httpStatusFor, httpStatusForCodes } from '../../src/core/errors';
import { loadConfig } from '../../src/config';
import { SignJWT } from 'jose';
import { startTestServer, TEST_AUDIENCE, TEST_ISSUER, type TestServer } from '../support/test-server';

/** POSTs a raw body to /graphql and returns status, headers and parsed JSON. */
async function post(api: TestServer, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(api.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}`, ...headers },
    body,
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

const gql = (query: string, extra: Record<string, unknown> = {}) => JSON.stringify({ query, ...extra });

/** `region { departments(first: 500) { edges { node { name region { ... } } } } }` nested `levels` deep. */
function nestedPages(levels: number): string {
  let inner = 'name';
  for (let i = 0; i < levels; i++) inner = `name region { departments(first: 500) { edges { node { ${inner} } } } }`;
  return `region(code: "410505") { departments(first: 500) { edges { node { ${inner} } } } }`;
}

describe('operation limits fail closed', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer();
  });
  afterAll(() => api.close());

  it('finding 1: 10,000 __typename aliases padding a nested query are refused with 400, and the server stays up', async () => {
    const padding = Array.from({ length: 10_000 }, (_, i) => `t${i}: __typename`).join(' ');
    const response = await post(api, gql(`{ ${padding} ${nestedPages(4)} }`));
    expect(response.status).toBe(400);
    expect(response.json.errors[0].extensions.code).toMatch(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED|GRAPHQL_PARSE_FAILED/);
    expect(response.json.data).toBeUndefined();
    // Under the alias cap, __typename still counts toward the cost: 20 aliases times the pages around them.
    const few = Array.from({ length: 20 }, (_, i) => `t${i}: __typename`).join(' ');
    const padded = await post(
      api,
      gql(`{ directories(first: 500) { edges { node { ${few} department { directories(first: 100) { edges { node { ${few} } } } } } } } }`),
    );
    expect(padded.status).toBe(400);
    expect(padded.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(padded.json.errors[0].message).toMatch(/would cost/);
    expect((await api.ok(`{ __typename }`)).__typename).toBe('Query');
  });

  it('finding 9: 1,000 aliases of region.report are refused, and a list without `first` is costed by its bound', async () => {
    const report = 'report { departments { code name figures { __typename } } }';
    const many = Array.from({ length: 1000 }, (_, i) => `r${i}: region(code: "410505") { ${report} }`).join(' ');
    const response = await post(api, gql(`{ ${many} }`));
    expect(response.status).toBe(400);
    // Twenty aliases pass the alias cap but not the cost: each report can hold a province's departments.
    const twenty = Array.from({ length: 20 }, (_, i) => `r${i}: region(code: "410505") { ${report} }`).join(' ');
    const costly = await post(api, gql(`{ ${twenty} }`));
    expect(costly.status).toBe(400);
    expect(costly.json.errors[0].message).toMatch(/would cost/);
  });

  it('caps root fields, depth, tokens and directives', async () => {
    const roots = Array.from({ length: 201 }, () => '__typename').join(' ');
    const rootsResponse = await post(api, gql(`query { ...F } fragment F on Query { ${roots} }`), {});
    expect(rootsResponse.status).toBe(400);
    let deep = 'name';
    for (let i = 0; i < 16; i++) deep = `parent { ${deep} }`;
    expect((await post(api, gql(`{ region(code: "410505") { ${deep} } }`))).status).toBe(400);
    const tokens = Array.from({ length: 3000 }, () => 'name').join(' ');
    expect((await post(api, gql(`{ region(code: "410505") { ${tokens} } }`))).status).toBe(400);
    const directives = Array.from({ length: 21 }, () => '@include(if: true)').join(' ');
    expect((await post(api, gql(`{ __typename ${directives} }`))).status).toBe(400);
  });

  it('finding 4: two operations without operationName are a 400 with a clear message', async () => {
    const response = await post(api, gql(`query A { __typename } query B { __typename }`));
    expect(response.status).toBe(400);
    expect(response.json.errors[0].message).toMatch(/operationName/);
    const named = await post(api, gql(`query A { __typename } query B { __typename }`, { operationName: 'C' }));
    expect(named.status).toBe(400);
    expect((await post(api, gql(`query A { a: __typename } query B { b: __typename }`, { operationName: 'B' }))).json).toEqual({ data: { b: 'Query' } });
  });
});

describe('HTTP status of failed requests (GraphQL-over-HTTP)', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer();
  });
  afterAll(() => api.close());

  it("finding 3: 401 without a token, 403 for a viewer's mutation, 400 over the cost limit", async () => {
    const anonymous = await post(api, gql(`{ region(code: "410505") { code } }`), { authorization: '' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const viewer = await api.signToken({ role: 'VIEWER' });
    const mutation = await post(api, gql(`mutation { createRegion(input: { code: "410000", name: "河南省" }) { code } }`), {
      authorization: `Bearer ${viewer}`,
    });
    expect(mutation.status).toBe(403);
    expect(mutation.json.errors[0].extensions.code).toBe('FORBIDDEN');
    const costly = await post(
      api,
      gql(
        `{ directories(first: 100) { edges { node { department { directories(first: 100) { edges { node { department { directories(first: 100) { edges { node { code } } } } } } } } } } } }`,
      ),
    );
    expect(costly.status).toBe(400);
    expect(costly.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const badToken = await post(api, gql(`{ __typename }`), { authorization: 'Bearer nonsense' });
    expect(badToken.status).toBe(401);
  });

  it('maps every code through one table, with Retry-After for rate limits', () => {
    expect(httpStatusFor('RATE_LIMITED')).toBe(429);
    expect(httpStatusFor('SERVICE_UNAVAILABLE')).toBe(503);
    expect(httpStatusFor('GRAPHQL_VALIDATION_FAILED')).toBe(400);
    expect(httpStatusFor('INTERNAL_SERVER_ERROR')).toBe(500);
    expect(httpStatusFor('SOMETHING_NEW')).toBe(500);
    expect(httpStatusForCodes(['INTERNAL_SERVER_ERROR', 'FORBIDDEN'])).toBe(403);
    expect(httpHeadersFor({ code: 'RATE_LIMITED', retryAfterSeconds: 2.5 })).toEqual({ 'retry-after': '3' });
    expect(httpHeadersFor({ code: 'RATE_LIMITED' })).toEqual({ 'retry-after': '1' });
  });

  it('finding 9: a JSON body nested 100,000 deep is a 400, a latin1 body a 415 asking for UTF-8', async () => {
    const deep = `{"query":"{ __typename }","variables":{"v":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    const nested = await post(api, deep);
    expect(nested.status).toBe(400);
    expect(nested.json.errors[0].extensions.code).toBe('BAD_REQUEST');
    const latin1 = await post(api, gql(`{ __typename }`), { 'content-type': 'application/json; charset=latin1' });
    expect(latin1.status).toBe(415);
    expect(latin1.json.errors[0].message).toMatch(/UTF-8/);
    expect((await post(api, gql(`{ __typename }`), { 'content-type': 'application/json; charset=utf-8' })).status).toBe(200);
  });

  it('finding 9: a JWT issued a day in the future is refused as UNAUTHENTICATED', async () => {
    const now = Math.floor(Date.now() / 1000);
    const future = await new SignJWT({ role: 'VIEWER' })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('viewer')
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setIssuedAt(now + 24 * 3600)
      .setExpirationTime(now + 48 * 3600)
      .sign(api.privateKey);
    const response = await post(api, gql(`{ __typename }`), { authorization: `Bearer ${future}` });
    expect(response.status).toBe(401);
    expect(response.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(response.json.errors[0].message).toMatch(/future/);
  });
});

describe('production mode', () => {
  it('turns introspection and the landing page off with NODE_ENV=production unless MULU_INTROSPECTION=true', async () => {
    expect(loadConfig({ NODE_ENV: 'production' }).introspection).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', MULU_INTROSPECTION: 'true' }).introspection).toBe(true);
    expect(loadConfig({}).introspection).toBe(true);
    const api = await startTestServer({ introspection: false });
    try {
      const response = await post(api, gql(`{ __schema { types { name } } }`));
      expect(response.status).toBe(400);
      const page = await fetch(api.server.url, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toMatch(/sandbox|embeddable/i);
    } finally {
      await api.close();
    }
  });
});
