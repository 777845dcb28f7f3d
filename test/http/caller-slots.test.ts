import http from 'node:http';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Per-caller slots over real HTTP (src/http/caller-slots.ts). A request whose
 * body is still arriving holds its caller's slot (the body is read after
 * admission), which lets the test hold slots for as long as it likes.
 */
describe('per-caller slots', () => {
  let api: TestServer;
  const body = JSON.stringify({ query: '{ viewer { name } }' });

  beforeAll(async () => {
    api = await startTestServer({ callerSlots: { perCaller: 2, queuedPerCaller: 1, maxWaitMs: 60_000 } });
  });
  afterAll(() => api.close());

  interface Sent {
    /** Sends the rest of the body. */
    finish(): void;
    /** Drops the connection. */
    abort(): void;
    /** The status and the error codes, once answered. */
    answer: Promise<{ status: number; codes: string[]; message?: string }>;
    answered: () => boolean;
  }

  /** A POST /graphql whose body is sent only in part until `finish()` (or whole at once with `whole`). */
  function send(token: string, whole = false): Sent {
    const url = new URL(api.server.url);
    const request = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
    });
    let done = false;
    const answer = new Promise<{ status: number; codes: string[]; message?: string }>((resolve) => {
      request.on('response', (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => {
          done = true;
          const parsed = JSON.parse(text) as { errors?: { message: string; extensions: { code: string } }[] };
          resolve({ status: response.statusCode ?? 0, codes: (parsed.errors ?? []).map((e) => e.extensions.code), message: parsed.errors?.[0]?.message });
        });
      });
      request.on('error', () => {
        done = true;
        resolve({ status: 0, codes: [] });
      });
    });
    request.write(whole ? body : body.slice(0, 5));
    if (whole) request.end();
    request.flushHeaders();
    return {
      finish: () => request.end(body.slice(5)),
      abort: () => request.destroy(),
      answer,
      answered: () => done,
    };
  }

  /** The server's side of the next request to arrive: resolves once the server has its headers. */
  function arrival(): Promise<http.ServerResponse> {
    return new Promise((resolve) => api.server.httpServer.once('request', (_req: http.IncomingMessage, res: http.ServerResponse) => resolve(res)));
  }

  /** Sends a request and waits until the server has it; returns both sides. */
  async function arrive(token: string, whole = false): Promise<Sent & { server: http.ServerResponse }> {
    const arrived = arrival();
    const sent = send(token, whole);
    return { ...sent, server: await arrived };
  }

  it('runs two requests of a caller at once, lines up the next, serves other callers meanwhile, and refuses a full line', async () => {
    const busy = await api.signToken({ role: 'VIEWER', sub: 'busy' });
    const calm = await api.signToken({ role: 'VIEWER', sub: 'calm' });
    const first = await arrive(busy);
    const second = await arrive(busy);
    const third = await arrive(busy, true);
    // Another caller is not held up by the busy one.
    const other = send(calm, true);
    expect(await other.answer).toEqual({ status: 200, codes: [], message: undefined });
    // The busy caller's line holds one: a fourth request is refused at once.
    const fourth = send(busy, true);
    const refused = await fourth.answer;
    expect(refused.status).toBe(429);
    expect(refused.codes).toEqual(['RATE_LIMITED']);
    expect(refused.message).toMatch(/this caller already has 2 requests running and 1 waiting/);
    // The third waited in line while both slots were held, and runs once one is freed.
    expect(third.answered()).toBe(false);
    first.finish();
    expect((await first.answer).status).toBe(200);
    expect((await third.answer).status).toBe(200);
    second.finish();
    expect((await second.answer).status).toBe(200);
  });

  it('frees a slot when its client goes away, and a waiting client that goes away leaves the line', async () => {
    const token = await api.signToken({ role: 'VIEWER', sub: 'leaver' });
    const held = await arrive(token);
    const dropped = await arrive(token);
    const waiting = await arrive(token, true);
    // The one waiting gives up: its place is free for another (the line holds one).
    const gone = new Promise((resolve) => waiting.server.once('close', resolve));
    waiting.abort();
    await gone;
    const next = await arrive(token, true);
    expect(next.answered()).toBe(false);
    // A holder drops its connection: the next in line runs.
    dropped.abort();
    expect((await next.answer).status).toBe(200);
    held.finish();
    expect((await held.answer).status).toBe(200);
    // Everything freed: two run at once again.
    const [a, b] = [send(token, true), send(token, true)];
    expect([(await a.answer).status, (await b.answer).status]).toEqual([200, 200]);
  });
});

describe('per-caller slots: waiting too long', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer({ callerSlots: { perCaller: 1, queuedPerCaller: 4, maxWaitMs: 200 } });
  });
  afterAll(() => api.close());

  it('answers a request that waited longer than the limit with 429 and Retry-After', async () => {
    const token = await api.signToken({ role: 'VIEWER', sub: 'slow' });
    const url = new URL(api.server.url);
    // The one slot is held by a request whose body never completes; the second is sent once the server has the first
    // (a busy machine could otherwise deliver the second first, which would then take the slot and be answered 200).
    const held = new Promise<void>((resolve) => api.server.httpServer.once('request', () => setImmediate(resolve)));
    const holder = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': 100, authorization: `Bearer ${token}` },
    });
    holder.on('error', () => undefined);
    holder.write('{"qu');
    holder.flushHeaders();
    await held;
    try {
      const response = await fetch(api.server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ viewer { name } }' }),
      });
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('1');
      const answer = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(answer.errors[0].extensions.code).toBe('RATE_LIMITED');
      expect(answer.errors[0].message).toMatch(/waited 0.2 s for one of its 1 running requests to finish/);
    } finally {
      holder.destroy();
    }
  });
});
