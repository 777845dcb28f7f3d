import { getIntrospectionQuery } from 'graphql';
import { Client } from 'pg';
import { jsonSizeUpTo } from '../../src/graphql/execution-budget';
import { recountFigures, RECOUNT_LOCK_KEYS } from '../../src/modules/stats/figures-recount';
import { createDepartment, createRegions, creditCode } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';

// Wide enough that an ordinary request finishes within them on a loaded 2-core machine.
const STATEMENT_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 1_500;
/** How long the deadline test holds its lock: past the request deadline, well under the statement timeout. */
const PAST_DEADLINE_MS = 2_500;
const MAX_RESPONSE_BYTES = 50_000;

/**
 * The execution budget behind the cost estimate (docs/security.md, "Limits"):
 * a statement timeout on the API's connections, a deadline for the whole
 * request and a cap on the answer's size, set tiny here. Slowness is real:
 * another session holds a table lock the request's statement must wait for.
 */
describe('execution budget', () => {
  let api: TestServer;
  let locker: Client;

  beforeAll(async () => {
    api = await startTestServer({
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      executionBudget: { requestTimeoutMs: REQUEST_TIMEOUT_MS, maxResponseBytes: MAX_RESPONSE_BYTES },
    });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    for (let i = 1; i <= 5; i++) await createDepartment(api, { creditCode: creditCode('410505', i), name: `殷都区第${i}局`, regionCode: '410505' });
    // A session of its own, outside the server's pool, without its timeout.
    locker = new Client({ connectionString: String(api.orm.config.get('clientUrl')) });
    await locker.connect();
  });
  afterAll(async () => {
    await locker.end();
    await api.close();
  });

  /** Holds `lock` until `release` settles (or `safetyMs` passes), then commits; resolves with whether the safety release fired. */
  async function holdingLock<T>(lock: string, safetyMs: number, during: () => Promise<T>): Promise<{ result: T; heldMs: number; safetyFired: boolean }> {
    await locker.query('begin');
    await locker.query(lock);
    const started = Date.now();
    let safetyFired = false;
    const safety = setTimeout(() => {
      safetyFired = true;
      void locker.query('commit');
    }, safetyMs);
    try {
      const result = await during();
      return { result, heldMs: Date.now() - started, safetyFired };
    } finally {
      clearTimeout(safety);
      if (!safetyFired) await locker.query('commit');
    }
  }

  async function post(
    query: string,
    token = api.adminToken,
  ): Promise<{
    status: number;
    body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
    bytes: number;
    retryAfter: string | null;
  }> {
    const response = await fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
    });
    const text = await response.text();
    return { status: response.status, body: JSON.parse(text), bytes: Buffer.byteLength(text), retryAfter: response.headers.get('retry-after') };
  }

  const departmentsQuery = `{ region(code: "410505") { name departments(first: 10) { edges { node { name creditCode region { code } } } } } }`;

  it('cancels a statement of a request that runs past MULU_STATEMENT_TIMEOUT_MS, with one clear error', async () => {
    // Without the timeout the statement would wait for the lock until the safety release (20 s).
    const { result, safetyFired } = await holdingLock('lock table department in access exclusive mode', 20_000, () => post(departmentsQuery));
    expect(safetyFired).toBe(false);
    expect(result.status).toBe(503);
    expect(result.body.data).toBeUndefined();
    expect(result.body.errors).toHaveLength(1);
    expect(result.body.errors![0].extensions?.code).toBe('TIME_BUDGET_EXCEEDED');
    expect(result.body.errors![0].message).toMatch(/MULU_STATEMENT_TIMEOUT_MS/);
    // Not a fault (500) and not the database away (503 with Retry-After): resending the same request at once would not help.
    expect(result.retryAfter).toBeNull();
  });

  it('resolves nothing more once the request deadline has passed, and answers one error instead of one per field', async () => {
    // The statement waits 2.5 s (under the statement timeout), past the 1.5 s deadline; every field after it is refused.
    const { result } = await holdingLock('lock table department in access exclusive mode', PAST_DEADLINE_MS, async () => {
      const answer = post(departmentsQuery);
      await new Promise((resolve) => setTimeout(resolve, PAST_DEADLINE_MS));
      return answer;
    });
    expect(result.status).toBe(503);
    expect(result.body.data).toBeUndefined();
    expect(result.body.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'TIME_BUDGET_EXCEEDED', requestTimeoutMs: REQUEST_TIMEOUT_MS }) }),
    ]);
    // Without the lock the same request answers in time.
    const fast = await post(departmentsQuery);
    expect(fast.status).toBe(200);
    expect(fast.body.errors).toBeUndefined();
  });

  it('lets long jobs wait past the statement timeout: a capture and the recount lift it in their own transactions', async () => {
    const month = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 7);
    const capture = await holdingLock('lock table report_snapshot in exclusive mode', STATEMENT_TIMEOUT_MS + 1_000, () =>
      post(`mutation { captureSnapshot(input: { period: "${month}" }) { period departmentCount } }`),
    );
    expect(capture.safetyFired).toBe(true);
    expect(capture.result.body.errors).toBeUndefined();
    expect(capture.result.body.data).toEqual({ captureSnapshot: { period: month, departmentCount: 5 } });

    const recount = await holdingLock(`select pg_advisory_xact_lock(${RECOUNT_LOCK_KEYS[0]}, ${RECOUNT_LOCK_KEYS[1]})`, STATEMENT_TIMEOUT_MS + 1_000, () =>
      recountFigures(api.orm, { wait: true }),
    );
    expect(recount.safetyFired).toBe(true);
    expect(recount.result).toBe(0);
    // The lifted timeout ended with the jobs' transactions: an API statement is still cut off.
    await expect(api.orm.em.fork().execute(`select pg_sleep(${(STATEMENT_TIMEOUT_MS + 1_000) / 1000})`)).rejects.toThrow(/statement timeout/);
  });

  it('refuses an answer larger than MULU_MAX_RESPONSE_MB with one error, before its text is built', async () => {
    const big = await post(getIntrospectionQuery());
    expect(big.status).toBe(400);
    expect(big.body.data).toBeUndefined();
    expect(big.body.errors).toHaveLength(1);
    expect(big.body.errors![0].extensions).toEqual(expect.objectContaining({ code: 'RESPONSE_TOO_LARGE', maxResponseBytes: MAX_RESPONSE_BYTES }));
    expect(big.bytes).toBeLessThan(1_000);
    const small = await post(departmentsQuery);
    expect(small.status).toBe(200);
    expect(small.body.errors).toBeUndefined();
  });

  it('measures an answer as its UTF-8 JSON text would be, and stops at the limit', () => {
    const answer = {
      data: {
        region: {
          name: '殷都区',
          code: '410505',
          departments: [
            { name: '殷都区教育局 "一"', open: true, note: null },
            { name: 'x', open: false, note: 'é' },
          ],
        },
      },
    };
    const exact = Buffer.byteLength(JSON.stringify(answer));
    const measured = jsonSizeUpTo(answer, Infinity);
    // Escapes count one character each, and a separator of more per list and object: never less than the text.
    expect(measured).toBeGreaterThanOrEqual(exact - 2);
    expect(measured).toBeLessThanOrEqual(exact + 10);
    expect(jsonSizeUpTo(answer, 50)).toBe(Infinity);
    // A list of a million shared items is not walked to its end.
    const shared = { name: 'x'.repeat(1000) };
    const started = process.hrtime.bigint();
    expect(jsonSizeUpTo({ data: Array.from({ length: 1_000_000 }, () => shared) }, 1_000_000)).toBe(Infinity);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1_000);
  });
});
