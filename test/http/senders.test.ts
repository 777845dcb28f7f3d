import type net from 'node:net';
import { baseUrl, http } from '../support/http';
import { trickle, type RawAnswer } from '../support/raw-http';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Senders cannot hold the server (issue 11, finding 7): over real HTTP, with
 * sockets that announce a large body and trickle it. The body-rate window
 * is one second here (ten in production) so that the test is quick.
 */
describe('slow and anonymous senders', () => {
  let api: TestServer;
  const sockets: net.Socket[] = [];
  const open = (options: Parameters<typeof trickle>[1]) => {
    const sender = trickle(api.server.url, options);
    sockets.push(sender.socket);
    return sender.answer;
  };
  const json = (answer: RawAnswer) => JSON.parse(answer.body);

  beforeAll(async () => {
    api = await startTestServer({ bodyRate: { minBytesPerSecond: 1024, windowMs: 1000, timeoutMs: 4000 } });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await api.close();
  });

  /** A 360 KB batch from the admin: a real GraphQL request that takes the bulk lane. */
  const adminBatch = async () => {
    const pad = 'x'.repeat(360 * 1024);
    const response = await fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}` },
      body: JSON.stringify({ query: `# ${pad}\n{ viewer { role } }` }),
    });
    return { status: response.status, body: (await response.json()) as { data?: { viewer: { role: string } } } };
  };

  it('refuses anonymous large bodies at once with 401, so two trickling anonymous senders do not hold the bulk lane', async () => {
    const anonymous = [
      open({ path: '/graphql', contentLength: 50_000_000, everyMs: 2000 }),
      open({ path: '/graphql', contentLength: 50_000_000, everyMs: 2000 }),
    ];
    const imports = open({ path: '/imports/directories', contentLength: 50_000_000, everyMs: 2000, contentType: 'text/csv' });
    const answers = await Promise.all([...anonymous, imports]);
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      // Refused before the body was read: the sender had written at most its first bytes.
      expect(answer.sent).toBeLessThanOrEqual(2);
    }
    expect(json(answers[0]).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(json(answers[2]).error.code).toBe('UNAUTHENTICATED');
    const batch = await adminBatch();
    expect(batch.status).toBe(200);
    expect(batch.body.data?.viewer.role).toBe('ADMIN');
  });

  it('refuses a large body with a token that proves nothing, with 401 and its reason', async () => {
    const answer = await open({ path: '/graphql', contentLength: 5_000_000, everyMs: 2000, headers: { authorization: 'Bearer not-a-token' } });
    expect(answer.status).toBe(401);
    expect(json(answer).errors[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' }, message: expect.stringMatching(/neither a JWT nor an API key/) });
  });

  it('ends a signed-in body that trickles below the minimum rate with 408, freeing its bulk slot for the next batch', async () => {
    const viewer = await api.signToken({ role: 'VIEWER', sub: 'slow-sender' });
    const slow = [1, 2].map(() => open({ path: '/graphql', contentLength: 5_000_000, everyMs: 300, headers: { authorization: `Bearer ${viewer}` } }));
    // Both slots are taken by the slow senders; the admin's batch waits for them, and is served once they are cut off.
    await new Promise((r) => setTimeout(r, 200));
    const batch = adminBatch();
    const answers = await Promise.all(slow);
    for (const answer of answers) {
      expect(answer.status).toBe(408);
      expect(answer.headers.connection).toBe('close');
      expect(json(answer).errors[0]).toMatchObject({ extensions: { code: 'REQUEST_TIMEOUT' }, message: expect.stringMatching(/arrived too slowly/) });
    }
    expect((await batch).status).toBe(200);
  });

  it('ends a body that keeps the minimum rate but does not arrive within the overall limit with 408', async () => {
    // 2 KiB/s: above the 1 KiB/s minimum, but 1 MB would take over eight minutes.
    const answer = await open({
      path: '/imports/directories?dryRun=true',
      contentLength: 1_000_000,
      chunk: 512,
      everyMs: 250,
      contentType: 'text/csv',
      headers: { authorization: `Bearer ${api.adminToken}` },
    });
    expect(answer.status).toBe(408);
    expect(json(answer).error).toMatchObject({ code: 'REQUEST_TIMEOUT', message: expect.stringMatching(/did not arrive within 4 s/) });
    expect(answer.sent).toBeLessThan(1_000_000);
  });

  it('still serves the health check and small reads while senders trickle', async () => {
    const viewer = await api.signToken({ role: 'VIEWER', sub: 'slow-sender-2' });
    const slow = open({ path: '/graphql', contentLength: 5_000_000, everyMs: 300, headers: { authorization: `Bearer ${viewer}` } });
    const health = await http(api, '/health');
    expect(health.status).toBe(200);
    const read = await fetch(`${baseUrl(api)}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer}` },
      body: JSON.stringify({ query: '{ viewer { role } }' }),
    });
    expect(read.status).toBe(200);
    expect((await slow).status).toBe(408);
  });
});
