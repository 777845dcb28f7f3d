import { addDirectory, createDepartment, createRegions, creditCode, mount } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';

/**
 * Stale directories and lapsed subscriptions change the stored figures with
 * no write at all: the server recounts them by itself (startServer, not
 * main.ts, so every embedder and every test server does), and stops doing so
 * when it is stopped. The interval is shortened here; five minutes by default.
 */
describe('the server recounts what the clock changes', () => {
  const INTERVAL_MS = 200;
  let api: TestServer;
  const A = creditCode('410505', 1);
  const B = creditCode('410505', 2);

  const execute = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => api.orm.em.fork().getConnection().execute<T[]>(sql, params);
  /** The stored counts, read directly (they are what every statistic reads). */
  const stored = async () => {
    const rows = await execute<{ credit_code: string; stale_directories: number; subscriptions_made: number; subscriptions_received: number }>(
      `select d.credit_code, f.stale_directories, f.subscriptions_made, f.subscriptions_received from department_figures f join department d on d.id = f.department_id order by d.credit_code`,
    );
    return Object.fromEntries(
      rows.map((r) => [r.credit_code === A ? 'a' : 'b', { stale: r.stale_directories, made: r.subscriptions_made, received: r.subscriptions_received }]),
    );
  };
  const until = async <T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value) || Date.now() > deadline) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  /** Time passes: every granted subscription of `directory` ended two days ago. */
  const lapse = (directory: string) =>
    execute(
      `update subscription_request set end_date = current_date - 2 where status = 'GRANTED' and directory_id = (select id from resource_directory where code = ?)`,
      [directory],
    );

  beforeAll(async () => {
    api = await startTestServer({ figuresRecountIntervalMs: INTERVAL_MS });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区教育局', regionCode: '410505' });
    await addDirectory(api, A, 'A-1');
    await addDirectory(api, A, 'A-2');
    await mount(api, 'A-1', 100);
    const stewardB = await api.asRole('STEWARD', B);
    for (const code of ['A-1', 'A-2']) {
      await stewardB.ok(
        `mutation($code: String!) { requestSubscription(input: { directory: { code: $code }, purpose: "办理", endDate: "2099-12-31" }) { status } }`,
        { code },
      );
    }
  });
  afterAll(() => api.close());

  it('recounts lapsed subscriptions and stale data while it runs', async () => {
    expect(await stored()).toEqual({ a: { stale: 0, made: 0, received: 2 }, b: { stale: 0, made: 2, received: 0 } });
    await lapse('A-1');
    await execute(`update resource_directory set stale_after = now() - interval '1 minute' where code = 'A-1'`);
    const after = await until(stored, (s) => s.b.made === 1 && s.a.stale === 1);
    expect(after).toEqual({ a: { stale: 1, made: 0, received: 1 }, b: { stale: 0, made: 1, received: 0 } });
    // What the API reports: the stored counts, region sums included.
    const read = await api.ok(
      `{ a: department(creditCode: "${A}") { mountStats { staleDirectories } subscriptionStats { received } } r: region(code: "410000") { subscriptionStats { made received } } }`,
    );
    expect(read).toEqual({
      a: { mountStats: { staleDirectories: 1 }, subscriptionStats: { received: 1 } },
      r: { subscriptionStats: { made: 1, received: 1 } },
    });
  });

  it('stops recounting when the server stops', async () => {
    await api.server.stop();
    await lapse('A-2');
    const before = await stored();
    // Ten intervals: a timer left running would have recounted by now.
    await new Promise((resolve) => setTimeout(resolve, 10 * INTERVAL_MS));
    expect(await stored()).toEqual(before);
    expect(before.b.made).toBe(1);
  });
});

describe('a snapshot capture', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);
  const B = creditCode('410505', 2);
  const execute = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => api.orm.em.fork().getConnection().execute<T[]>(sql, params);

  beforeAll(async () => {
    // The default interval: no recount runs during the test after the one at start.
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区教育局', regionCode: '410505' });
    await addDirectory(api, A, 'A-1');
    await mount(api, 'A-1', 100);
    const stewardB = await api.asRole('STEWARD', B);
    await stewardB.ok(`mutation { requestSubscription(input: { directory: { code: "A-1" }, purpose: "办理", endDate: "2099-12-31" }) { status } }`);
  });
  afterAll(() => api.close());

  it('recounts what the clock changed first, so the month holds the counts as they stand', async () => {
    // Time passes while no recount runs (a server that was down, a capture from cron).
    await execute(`update subscription_request set end_date = current_date - 2 where status = 'GRANTED'`);
    await execute(`update resource_directory set stale_after = now() - interval '1 minute' where code = 'A-1'`);
    const [storedBefore] = await execute<{ made: number }>(
      `select f.subscriptions_made as made from department_figures f join department d on d.id = f.department_id where d.credit_code = ?`,
      [B],
    );
    expect(storedBefore.made).toBe(1);
    const admin = await api.asRole('ADMIN');
    await admin.ok(`mutation { captureSnapshot(input: { period: "2026-01" }) { period } }`);
    const rows = await execute<{ unit_key: string; figures: { mount: { staleDirectories: number }; subscriptions: { made: number; received: number } } }>(
      `select unit_key, figures from report_snapshot_unit where period = '2026-01' and unit_kind = 'DEPARTMENT' order by unit_key`,
    );
    const captured = Object.fromEntries(
      rows.map((row) => [
        row.unit_key,
        { stale: row.figures.mount.staleDirectories, made: row.figures.subscriptions.made, received: row.figures.subscriptions.received },
      ]),
    );
    expect(captured).toEqual({ [A]: { stale: 1, made: 0, received: 0 }, [B]: { stale: 0, made: 0, received: 0 } });
  });
});
