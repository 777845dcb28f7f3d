import { preparedStatementName } from '../../src/db/prepared';
import { createDepartment, createRegions, creditCode } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Named prepared statements (src/db/prepared.ts) live as long as each pooled
 * connection: a connection lost or a table altered under them must not leave
 * a read failing.
 */
describe('prepared statements', () => {
  let api: TestServer;
  const P = creditCode('410505', 1);
  const DIRECTORY = `{ directory(code: "D-PREP") { code name stale } }`;
  const expected = { data: { directory: { code: 'D-PREP', name: '低保对象', stale: false } } };

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: P, name: '殷都区民政局', regionCode: '410505' });
    await api.ok(`mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { id } }`, {
      input: {
        code: 'D-PREP',
        name: '低保对象',
        departmentCreditCode: P,
        resourceFormat: 'DATABASE',
        shareType: 'UNCONDITIONAL',
        updateCycle: 'MONTHLY',
        informationItems: [{ name: '姓名', dataType: '字符型', required: true }],
      },
    });
  });
  afterAll(() => api.close());

  /** Reads the directory (one prepared statement) on several pooled connections at once, afresh each time. */
  const readMany = () => Promise.all(Array.from({ length: 6 }, () => api.request(DIRECTORY, {}, { 'cache-control': 'no-cache' })));

  it('names statements by their text: the same name for the same text, never one for two texts', () => {
    const a = 'select 1 where ? = 1';
    expect(preparedStatementName(a)).toBe(preparedStatementName(a));
    expect(preparedStatementName(a)).not.toBe(preparedStatementName(`${a} `));
    expect(preparedStatementName(a)).toMatch(/^mulu_[0-9a-f]{24}$/);
  });

  it('reads again on new connections after PostgreSQL ended the pooled ones', async () => {
    expect(await readMany()).toEqual(Array(6).fill(expected));
    await api.orm.em.fork().execute(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`);
    const answers = await readMany();
    for (const answer of answers) if (answer.errors) expect(answer.errors[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(await readMany()).toEqual(Array(6).fill(expected));
  });

  it('reads again after a migration added a column to a table a prepared statement reads (a replica rolled out beside this one)', async () => {
    expect(await readMany()).toEqual(Array(6).fill(expected));
    await api.orm.em.fork().execute(`alter table resource_directory add column rolled_out_elsewhere int`);
    try {
      expect(await readMany()).toEqual(Array(6).fill(expected));
      expect(await readMany()).toEqual(Array(6).fill(expected));
    } finally {
      await api.orm.em.fork().execute(`alter table resource_directory drop column rolled_out_elsewhere`);
    }
    expect(await readMany()).toEqual(Array(6).fill(expected));
  });
});
