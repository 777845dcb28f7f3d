import { COLLISION_MESSAGE } from '../../src/core/errors';
import { MUTATION_ATTEMPTS } from '../../src/core/unit-of-work';
import { formatError } from '../../src/graphql/format-error';
import { metricsRegistry } from '../../src/observability/metrics';
import { addDirectory, createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU, hostedDataset, WELFARE_ITEMS } from '../support/builders';
import { finishesOrWaits, openConnection } from '../support/locks';
import { createMainItems, createSubItems, ingest, INGEST, records } from '../support/supervision-builders';
import { startTestServer, type TestServer } from '../support/test-server';

const PUBLISH = `mutation($code: String!) { publishDirectory(input: { directory: { code: $code } }) { status } }`;
const A = creditCode('410505', 1);

async function retriesCounted(mutation = 'publishDirectory'): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('mulu_mutation_retries_total')!.get();
  return metric.values.filter((v) => v.labels.mutation === mutation && v.labels.sqlstate === '40P01').reduce((sum, v) => sum + v.value, 0);
}

/**
 * A mutation PostgreSQL undoes for colliding with another transaction (here a
 * deadlock, 40P01, with a session that locks the same two rows the other way
 * round) wrote nothing, so it is run again and succeeds; the retry is logged
 * and counted. Before, the caller got INTERNAL_SERVER_ERROR (500), as if for
 * a bug, for a change it only had to send again.
 */
describe('a mutation that collides with another transaction', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await addDirectory(api, A, 'COLLIDE-1', { publish: false });
    await createMainItems(api, A, [{ code: 'M1' }]);
    await createSubItems(api, A, [{ code: 'S1', mainItemCode: 'M1', category: 'INSPECTION' }]);
  });
  afterAll(async () => api.close());

  /**
   * Runs `publish` while another session holds 殷都区's figures row, then has
   * that session lock A's figures row, which the mutation holds by then
   * (recounted before the region's trigger): a deadlock, which the mutation
   * (waiting first, so checking first) loses. Returns once that session has
   * its row; it then rolls back.
   */
  async function deadlockWith<T>(publish: () => Promise<T>): Promise<T> {
    const observer = await openConnection(api);
    const holder = await openConnection(api);
    try {
      await holder.query('begin');
      await holder.query(`select 1 from region_figures where region_code = '410505' for update`);
      const answer = publish();
      expect(await finishesOrWaits(observer, answer)).toBe('waits');
      await holder.query(`select 1 from department_figures f join department d on d.id = f.department_id where d.credit_code = $1 for update`, [A]);
      await holder.query('rollback');
      return await answer;
    } finally {
      await holder.end();
      await observer.end();
    }
  }

  it('is run again and succeeds; the retry is counted', async () => {
    const before = await retriesCounted();
    const response = await deadlockWith(() => api.request(PUBLISH, { code: 'COLLIDE-1' }));
    expect(response).toEqual({ data: { publishDirectory: { status: 'PUBLISHED' } } });
    expect((await retriesCounted()) - before).toBe(1);
    // Published once: one audit entry, and the figures count it once.
    const [{ audits }] = await api.orm.em.getConnection().execute(`select count(*)::int as audits from audit_entry where action = 'publishDirectory'`);
    expect(audits).toBe(1);
    const [{ published }] = await api.orm.em
      .getConnection()
      .execute(`select published_directories as published from region_figures where region_code = '410505'`);
    expect(published).toBe(1);
  });

  it('runs a collided batch of supervision records again from the batch as sent: a record stored before is one duplicate, not one per attempt', async () => {
    // COLLIDE-R-0 is stored already; the batch sends it again with a new record, and collides once.
    await ingest(api, A, records('S1', 1, 'COLLIDE-R'));
    const batch = records('S1', 2, 'COLLIDE-R');
    const before = await retriesCounted('ingestSupervisionRecords');
    const response = await deadlockWith(() => api.request(INGEST, { input: { departmentCreditCode: A, records: batch } }));
    expect(response).toEqual({
      data: { ingestSupervisionRecords: { received: 2, accepted: 1, duplicates: 1, duplicateIndexes: [0], rejected: [], stored: true } },
    });
    const [{ stored }] = await api.orm.em
      .getConnection()
      .execute(`select count(*)::int as stored from supervision_record where external_id like 'COLLIDE-R-%'`);
    expect(stored).toBe(2);
    expect((await retriesCounted('ingestSupervisionRecords')) - before).toBe(1);
  });

  it('runs a collided load of rows sent through GraphQL again from the rows as sent: each row stored once', async () => {
    const mountId = await hostedDataset(api, A, 'COLLIDE-ROWS', WELFARE_ITEMS, [{ 姓名: '甲' }]);
    const APPEND = `mutation($input: DatasetRowsInput!) { appendDatasetRows(input: $input) { rowsLoaded recordCount } }`;
    const before = await retriesCounted('appendDatasetRows');
    const response = await deadlockWith(() =>
      api.request(APPEND, { input: { mountId, rows: [{ 姓名: '乙' }, { 姓名: '丙' }], idempotencyKey: 'collide-rows-1' } }),
    );
    expect(response).toEqual({ data: { appendDatasetRows: { rowsLoaded: 2, recordCount: 3 } } });
    expect((await retriesCounted('appendDatasetRows')) - before).toBe(1);
    const stored = await api.orm.em
      .getConnection()
      .execute(
        `select r.data->>'姓名' as name from dataset_row r join mount m on m.id = r.mount_id join resource_directory d on d.id = m.directory_id where d.code = 'COLLIDE-ROWS' order by r.row_no`,
      );
    expect(stored.map((row) => row.name)).toEqual(['甲', '乙', '丙']);
  });

  it(`answers a collision that reaches the caller (each of ${MUTATION_ATTEMPTS} attempts, or work that runs once) CONFLICT saying to send it again, not INTERNAL_SERVER_ERROR`, () => {
    for (const sqlState of ['40P01', '40001']) {
      // As node-postgres reports it, wrapped by MikroORM.
      const cause = Object.assign(new Error('deadlock detected'), { code: sqlState, detail: 'Process 1 waits for ShareLock on transaction 2' });
      const error = Object.assign(new Error('update "department_figures" ... - deadlock detected'), { cause, code: sqlState });
      expect(formatError({ message: error.message }, error)).toEqual({ message: COLLISION_MESSAGE, extensions: { code: 'CONFLICT' } });
    }
  });
});
