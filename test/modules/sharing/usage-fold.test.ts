import type { Knex } from '@mikro-orm/knex';
import { foldUsage } from '../../../src/modules/sharing/usage-fold';
import { createDepartment, createRegions, creditCode } from '../../support/builders';
import { startTestServer, type ApiClient, type TestServer } from '../../support/test-server';

/**
 * The usage fold (src/modules/sharing/usage-fold.ts): deliveries only append
 * to the access log; the fold adds them to the counters exactly once, also
 * when a delivery's transaction commits after later ones were folded, and
 * when folds run at the same time.
 */
describe('usage fold', () => {
  let api: TestServer;
  let consumer: ApiClient;
  const P = creditCode('410505', 1);
  const C = creditCode('410505', 2);
  const PAGE = `{ directory(code: "D-FOLD") { rows(first: 2) { edges { node { rowNumber } } } } }`;

  /** The stored usage next to what the log says, for the directory and both departments. */
  async function usage() {
    const em = api.orm.em.fork();
    const [stored] = await em.execute(
      `select (select requests from directory_usage u join resource_directory d on d.id = u.directory_id where d.code = 'D-FOLD')::int as directory_requests,
              (select usage_requests_provided from department_figures f join department d on d.id = f.department_id where d.credit_code = ?)::int as provided,
              (select usage_rows_received from department_figures f join department d on d.id = f.department_id where d.credit_code = ?)::int as received,
              (select usage_requests_provided from region_figures where region_code = '410505')::int as region_provided`,
      [P, C],
    );
    const [log] = await em.execute(
      `select count(*)::int as requests, coalesce(sum(rows_delivered), 0)::int as rows from dataset_access where consumer_id is not null`,
    );
    return { stored, log };
  }

  beforeAll(async () => {
    // A fold every 100 ms, besides those the tests run: the properties hold whoever folds.
    api = await startTestServer({ usageFoldIntervalMs: 100 });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: P, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: C, name: '殷都区人社局', regionCode: '410505' });
    await api.ok(`mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { id } }`, {
      input: {
        code: 'D-FOLD',
        name: '低保名册',
        departmentCreditCode: P,
        resourceFormat: 'DATABASE',
        shareType: 'UNCONDITIONAL',
        updateCycle: 'MONTHLY',
        informationItems: [{ name: '姓名', dataType: '字符型' }],
      },
    });
    await api.ok(`mutation { publishDirectory(input: { directory: { code: "D-FOLD" } }) { status } }`);
    const mounted = await api.ok(
      `mutation { mountDataset(input: { directory: { code: "D-FOLD" }, kind: TABLE, locator: "mulu:D-FOLD", hosted: true }) { id } }`,
    );
    await api.ok(`mutation($input: DatasetRowsInput!) { appendDatasetRows(input: $input) { recordCount } }`, {
      input: { mountId: mounted.mountDataset.id, rows: [{ 姓名: '甲' }, { 姓名: '乙' }, { 姓名: '丙' }] },
    });
    consumer = await api.asRole('STEWARD', C);
    await consumer.ok(`mutation { requestSubscription(input: { directory: { code: "D-FOLD" }, purpose: "核验" }) { status } }`);
  });
  afterAll(() => api.close());

  it('counts an entry whose transaction was still open while later entries were folded, once it commits', async () => {
    const knex = api.orm.em.getConnection().getKnex();
    const open: Knex.Transaction = await knex.transaction();
    try {
      // A delivery that takes long (an export): its entry is written, its transaction not yet committed.
      await open.raw(
        `insert into dataset_access (directory_id, mount_id, version, provider_id, consumer_id, actor_kind, actor_id, route, rows_delivered)
         select d.id, m.id, m.dataset_version, d.department_id, (select id from department where credit_code = ?), 'USER', 'slow-export', 'CSV', 3
           from resource_directory d join mount m on m.directory_id = d.id and m.hosted and m.active where d.code = 'D-FOLD'`,
        [C],
      );
      await consumer.ok(PAGE);
      await foldUsage(api.orm.em, { wait: true });
      const before = await usage();
      // The page, committed after the open entry was written, is counted; the open entry is not (and not skipped: below).
      expect(before.stored.provided).toBe(1);
      await open.commit();
    } catch (error) {
      await open.rollback();
      throw error;
    }
    await api.settleUsage();
    const after = await usage();
    expect(after.log).toEqual({ requests: 2, rows: 5 });
    expect(after.stored).toEqual({ directory_requests: 2, provided: 2, received: 5, region_provided: 2 });
  });

  it('counts each entry once when deliveries and folds run at the same time', async () => {
    const pages = Array.from({ length: 30 }, () => consumer.ok(PAGE));
    const folds = Array.from({ length: 6 }, (_, i) => foldUsage(api.orm.em, { wait: i % 2 === 0 }));
    await Promise.all([...pages, ...folds]);
    await api.settleUsage();
    const { stored, log } = await usage();
    expect(log.requests).toBe(32);
    expect(stored).toEqual({ directory_requests: log.requests, provided: log.requests, received: log.rows, region_provided: log.requests });
  });

  it('is folded by the server on its own within its interval', async () => {
    await consumer.ok(PAGE);
    // No settle: the server's periodic fold (every 100 ms here, every second by default) counts the delivery.
    const deadline = Date.now() + 10_000;
    let seen = await usage();
    while (seen.stored.provided !== seen.log.requests && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen = await usage();
    }
    expect(seen.log.requests).toBe(33);
    expect(seen.stored.provided).toBe(33);
  });
});

describe('usage fold on an idle server', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer({ usageFoldIntervalMs: 100 });
  });
  afterAll(() => api.close());

  it('writes nothing when there is nothing to fold, so an idle server keeps its cached answers', async () => {
    // A write takes a transaction id and changes the database snapshot, which retires every cached answer.
    const fold = async () => {
      const [row] = await api.orm.em
        .fork()
        .execute<{ version: string }[]>(`select xmin::text || '/' || xmax::text || '/' || folded_below::text as version from usage_fold`);
      return row.version;
    };
    const before = await fold();
    for (let i = 0; i < 3; i++) expect(await foldUsage(api.orm.em, { wait: true })).toBe(0);
    expect(await fold()).toBe(before);
  });
});
