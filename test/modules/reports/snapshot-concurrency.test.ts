import type { Knex } from '@mikro-orm/postgresql';
import { addDirectory, createDepartment, createRegions, creditCode, errorCodes, mount } from '../../support/builders';
import { startTestServer, type GraphQLResponse, type TestServer } from '../../support/test-server';

const CAPTURE = `mutation($period: String!, $replace: Boolean) { captureSnapshot(input: { period: $period, replace: $replace }) { period departmentCount regionCount replacements } }`;

/**
 * Two captures that truly overlap: a third connection holds the lock a
 * capture queues on, both captures are sent on their own connections and
 * shown waiting by PostgreSQL, then the lock is released and they race.
 */
async function overlapping(api: TestServer, variables: Record<string, unknown>[]): Promise<GraphQLResponse[]> {
  const knex = api.orm.em.getConnection().getKnex();
  const holder = await knex.transaction();
  try {
    await holder.raw('lock table report_snapshot in share row exclusive mode');
    const requests = variables.map((v) => api.request(CAPTURE, v));
    await waitForLockWaiters(knex, variables.length);
    await holder.commit();
    return await Promise.all(requests);
  } finally {
    if (!holder.isCompleted()) await holder.rollback();
  }
}

/** Waits until `count` other sessions of this database wait for a lock. */
async function waitForLockWaiters(knex: Knex, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { rows } = await knex.raw(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
    );
    if (rows[0].n >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${rows[0].n} of ${count} captures are waiting for the lock`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('concurrent snapshot captures', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    for (let n = 1; n <= 3; n++) await createDepartment(api, { creditCode: creditCode('410505', n), name: `殷都区部门${n}`, regionCode: '410505' });
    await mount(api, await addDirectory(api, creditCode('410505', 1), 'D-1'), 42);
  });

  afterAll(() => api.close());

  const snapshotRows = async (period: string) => {
    const knex = api.orm.em.getConnection().getKnex();
    const [snapshots, units] = await Promise.all([
      knex.raw(`select replacements from report_snapshot where period = ?`, [period]),
      knex.raw(
        `select unit_kind, count(*)::int as n, count(distinct unit_key)::int as keys from report_snapshot_unit where period = ? group by unit_kind order by unit_kind`,
        [period],
      ),
    ]);
    return { snapshots: snapshots.rows, units: units.rows };
  };

  it('of two simultaneous first captures of a month, one is written and the other is CONFLICT', async () => {
    const responses = await overlapping(api, [{ period: '2023-03' }, { period: '2023-03' }]);
    const succeeded = responses.filter((r) => !r.errors);
    const refused = responses.filter((r) => r.errors);
    expect(succeeded.map((r) => r.data!.captureSnapshot)).toEqual([{ period: '2023-03', departmentCount: 3, regionCount: 3, replacements: 0 }]);
    expect(refused.map(errorCodes)).toEqual([['CONFLICT']]);
    expect(refused[0].errors![0].message).toContain('The snapshot of 2023-03 was captured at');
    expect(await snapshotRows('2023-03')).toEqual({
      snapshots: [{ replacements: 0 }],
      units: [
        { unit_kind: 'DEPARTMENT', n: 3, keys: 3 },
        { unit_kind: 'REGION', n: 3, keys: 3 },
      ],
    });
  });

  it('of two simultaneous replacements, both succeed, the second replacing the first', async () => {
    await api.ok(CAPTURE, { period: '2023-04' });
    await mount(api, await addDirectory(api, creditCode('410505', 2), 'D-2'), 8);
    const responses = await overlapping(api, [
      { period: '2023-04', replace: true },
      { period: '2023-04', replace: true },
    ]);
    expect(responses.flatMap(errorCodes)).toEqual([]);
    // The second saw the first one's capture: replacements 1, then 2.
    expect(responses.map((r) => r.data!.captureSnapshot.replacements).sort()).toEqual([1, 2]);
    expect(await snapshotRows('2023-04')).toEqual({
      snapshots: [{ replacements: 2 }],
      units: [
        { unit_kind: 'DEPARTMENT', n: 3, keys: 3 },
        { unit_kind: 'REGION', n: 3, keys: 3 },
      ],
    });
    const report = await api.ok(
      `{ region(code: "410505") { report(period: "2023-04") { region { figures { mount { publishedDirectories dataVolume } } } } } }`,
    );
    expect(report.region.report.region.figures.mount).toEqual({ publishedDirectories: 2, dataVolume: 50 });
    const audit = await api.ok(
      `{ auditEntries(filter: { entityType: "ReportSnapshot", entityId: "2023-04" }, first: 10) { edges { node { action before after } } } }`,
    );
    const replaced = audit.auditEntries.edges
      .map((e: { node: { action: string; before: { replacements: number } | null; after: { replacements: number } } }) => e.node)
      .filter((e: { action: string }) => e.action === 'replaceSnapshot');
    expect(
      replaced.map((e: { before: { replacements: number }; after: { replacements: number } }) => [e.before.replacements, e.after.replacements]).sort(),
    ).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });
});
