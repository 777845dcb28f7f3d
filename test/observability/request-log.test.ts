import { logger, setLogDestination } from '../../src/observability/logger';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * The request log line (written by observeRequests since pino-http was
 * dropped) in the cases that are not a plain answer: a body that is not
 * JSON, a client that hangs up before its answer.
 */
describe('request log line', () => {
  let api: TestServer;
  const lines: string[] = [];
  let restore: () => void;
  let level: string;
  beforeAll(async () => {
    api = await startTestServer();
    restore = setLogDestination({ write: (line: string) => lines.push(line) });
    level = logger.level;
    logger.level = 'info';
  });
  afterAll(async () => {
    logger.level = level;
    restore();
    await api.close();
  });

  const entry = async (reqId: string): Promise<Record<string, any>> => {
    for (let i = 0; i < 100; i++) {
      const found = lines.map((line) => JSON.parse(line) as Record<string, any>).filter((e) => e.reqId === reqId);
      if (found.length) {
        expect(found).toHaveLength(1);
        return found[0];
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no log line for ${reqId}`);
  };

  it('names the code a malformed body was answered with, as for any GraphQL error', async () => {
    const response = await fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}`, 'x-request-id': 'bad-body-1' },
      body: '{"query":',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
    expect(await entry('bad-body-1')).toMatchObject({
      level: 'info',
      req: { method: 'POST', url: '/graphql' },
      res: { statusCode: 400 },
      errorCodes: ['BAD_REQUEST'],
      msg: expect.stringMatching(/^POST \/graphql 400 \d+ ms$/),
    });
  });

  it('says that a client hung up before its answer, instead of a status it never received; once, with its address', async () => {
    // The directory's statement waits on this lock until the client has gone.
    const em = api.orm.em.fork();
    const held = em.transactional(async (tx) => {
      await tx.execute('lock table resource_directory in access exclusive mode');
      await new Promise((r) => setTimeout(r, 1500));
    });
    await new Promise((r) => setTimeout(r, 200));
    const controller = new AbortController();
    const request = fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}`, 'x-request-id': 'hung-up-1', 'cache-control': 'no-cache' },
      body: JSON.stringify({ query: '{ directory(code: "NONE") { code } }' }),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 400);
    await expect(request).rejects.toThrow();
    await held;
    const line = await entry('hung-up-1');
    expect(line).toMatchObject({ req: { method: 'POST', url: '/graphql', remoteAddress: expect.any(String) }, aborted: true });
    expect(line.res).toBeUndefined();
    expect(line.msg).toMatch(/^POST \/graphql closed by the client after \d+ ms$/);
    // The handler finished after the client left: still one line.
    await new Promise((r) => setTimeout(r, 300));
    expect(lines.filter((l) => l.includes('"hung-up-1"'))).toHaveLength(1);
  });
});
