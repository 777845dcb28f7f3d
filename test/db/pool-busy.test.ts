import { Client } from 'pg';
import { DATABASE_BUSY_MESSAGE } from '../../src/core/errors';
import { POOL_ACQUIRE_TIMEOUT_MS } from '../../src/mikro-orm.config';
import { createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Every pooled connection held by slow statements (here: waiting on a lock
 * another session holds): the callers beyond the pool wait the pool's
 * acquire timeout, then get 503 SERVICE_UNAVAILABLE saying the server is
 * busy (it said the database was away, which it was not), with Retry-After;
 * once the slow statements end, everyone is served again without a restart.
 */
describe('the connection pool exhausted by slow statements', () => {
  let api: TestServer;
  let locker: Client;

  beforeAll(async () => {
    // No response cache: every read below must reach the database.
    api = await startTestServer({ responseCacheBytes: 0 });
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: creditCode('410505', 1), name: '殷都区民政局', regionCode: '410505' });
    locker = new Client({ connectionString: api.orm.config.get('clientUrl') });
    await locker.connect();
  });
  afterAll(async () => {
    await locker.end();
    await api.close();
  });

  it('answers the callers beyond the pool 503 "busy" after the acquire timeout, and serves everyone once the statements end', async () => {
    const POOL = api.orm.config.get('pool')!.max!;
    await locker.query('begin');
    await locker.query('lock table region_figures in access exclusive mode');
    const started = Date.now();
    const read = async (n: number) => {
      const response = await fetch(api.server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await api.signToken({ role: 'VIEWER', sub: `reader-${n}` })}` },
        body: JSON.stringify({ query: `{ region(code: "410505") { mountStats { publishedDirectories } } }` }),
      });
      const body = (await response.json()) as { data?: unknown; errors?: { message: string; extensions: { code: string } }[] };
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body, ms: Date.now() - started };
    };
    const answers = Array.from({ length: POOL + 3 }, (_, n) => read(n));
    // The lock is let go after the waiting callers have had their answer.
    setTimeout(() => void locker.query('rollback'), POOL_ACQUIRE_TIMEOUT_MS + 2_000);
    const results = await Promise.all(answers);

    const refused = results.filter((r) => r.status === 503);
    expect(refused).toHaveLength(3);
    for (const r of refused) {
      expect(r.body.errors!.map((e) => [e.extensions.code, e.message])).toEqual([['SERVICE_UNAVAILABLE', DATABASE_BUSY_MESSAGE]]);
      expect(r.retryAfter).toBe('2');
      // Answered at the acquire timeout, not held until the lock went.
      expect(r.ms).toBeLessThan(POOL_ACQUIRE_TIMEOUT_MS + 2_000);
    }
    expect(results.filter((r) => r.status === 200)).toHaveLength(POOL);
    expect((await read(99)).status).toBe(200);
  }, 60_000);
});
