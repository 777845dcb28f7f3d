import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { baseUrl } from '../support/http';
import { startTestServer, type TestServer } from '../support/test-server';

/** Per-caller rate limits over real HTTP: 429, Retry-After, extensions.code RATE_LIMITED, each caller counted on its own. */
describe('rate limits', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer({ anonymousStats: true, rateLimits: { perMinute: 5, anonymousPerMinute: 3 } });
  });
  afterAll(() => api.close());

  const post = (token: string | null, query = '{ viewer { role } }') =>
    fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    });

  it('answers a signed-in caller over its limit with 429, Retry-After and RATE_LIMITED, and leaves other callers alone', async () => {
    const first = await api.signToken({ role: 'VIEWER', sub: 'busy-user' });
    // A new token of the same subject is the same caller.
    const again = await api.signToken({ role: 'VIEWER', sub: 'busy-user' });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(i % 2 ? again : first)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const limited = await post(first);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await limited.json()) as { errors: { message: string; extensions: { code: string; retryAfterSeconds: number } }[] };
    expect(body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: retryAfter });
    expect(body.errors[0].message).toMatch(/Too many requests: this caller may send 5 a minute/);
    // Another caller, and the REST routes of the limited one.
    const other = await api.signToken({ role: 'VIEWER', sub: 'calm-user' });
    expect((await post(other)).status).toBe(200);
    const report = await fetch(`${baseUrl(api)}/reports/unknown`, { headers: { authorization: `Bearer ${first}` } });
    expect(report.status).toBe(429);
    expect(((await report.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
  });

  it('limits anonymous reads by address, and counts tokens that prove nothing as anonymous', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) statuses.push((await post(null, '{ region(code: "410000") { name } }')).status);
    statuses.push((await post('not-a-token')).status);
    expect(statuses).toEqual([200, 200, 401]);
    const limited = await post(null, '{ region(code: "410000") { name } }');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await limited.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('RATE_LIMITED');
    // The admin's key is a caller of its own.
    expect((await post(api.adminToken)).status).toBe(200);
  });
  it('counts graphql-ws connections and operations against the same limit, so the WebSocket is no way around it', async () => {
    const token = await api.signToken({ role: 'VIEWER', sub: 'socket-user' });
    const client = createClient({
      url: api.server.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      // One connection for the whole test: a lazy client would reconnect (a new request) after each operation.
      lazy: false,
      onNonLazyError: () => undefined,
    });
    const run = (query: string) =>
      new Promise<{ data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] }>((resolve) => {
        let result: { data?: unknown } = {};
        client.subscribe(
          { query },
          {
            next: (value) => (result = value as { data?: unknown }),
            error: (errors) => resolve({ errors: errors as { message: string; extensions?: { code?: string } }[] }),
            complete: () => resolve(result),
          },
        );
      });
    // Three over HTTP, the socket's connection and one operation on it fill the caller's 5 a minute; the next operation is refused.
    for (let i = 0; i < 3; i++) expect((await post(token)).status).toBe(200);
    expect(await run('{ viewer { role } }')).toEqual({ data: { viewer: { role: 'VIEWER' } } });
    const refused = await run('{ viewer { role } }');
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
    expect(refused.errors?.[0].message).toMatch(/^Too many requests: this caller may send 5 a minute\. Try again in \d+ s\.$/);
    const subscription = await run('subscription { figuresChanged(regionCode: "410000") { code } }');
    expect(subscription.errors?.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
    expect((await post(token)).status).toBe(429);
    await client.dispose();
    // A new connection of the limited caller is closed at connection_init (4429), before it signs in again.
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      const socket = new WebSocket(api.server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      socket.on('error', () => undefined);
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    expect(closed.code).toBe(4429);
    expect(closed.reason).toMatch(/^Too many requests: this caller may send 5 a minute/);
  });
});
