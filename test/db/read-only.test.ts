import { once } from 'node:events';
import { Client, type PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { WRITES_REFUSED_MESSAGE } from '../../src/core/errors';
import { createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU, hostedDataset, WELFARE_ITEMS } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * A database that takes no writes (made read-only here with
 * default_transaction_read_only, as a failover to a standby or an operator
 * would): a write answers 503 saying so, with nothing written, reads go on,
 * and once writes are allowed again they succeed without a restart, though
 * the pool's connections were opened while it was read-only.
 */
describe('a read-only database', () => {
  let api: TestServer;
  let admin: Client;
  let database: string;
  const STEWARD = creditCode('410505', 1);

  beforeAll(async () => {
    // No response cache: every read below must reach the database.
    api = await startTestServer({ responseCacheBytes: 0 });
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: STEWARD, name: '殷都区民政局', regionCode: '410505' });
    admin = new Client({ connectionString: api.orm.config.get('clientUrl') });
    await admin.connect();
    database = (await admin.query<{ name: string }>('select current_database() as name')).rows[0].name;
  });
  afterAll(async () => {
    await admin.query(`alter database "${database}" reset default_transaction_read_only`).catch(() => undefined);
    await admin.end();
    await api.close();
  });

  const createRegion = (code: string) =>
    api.request(`mutation($input: CreateRegionInput!) { createRegion(input: $input) { code } }`, { input: { code, name: `区${code}` } });
  const writes = async () => {
    const response = await fetch(`${api.server.url.replace(/\/graphql$/, '')}/health/ready`);
    return [response.status, ((await response.json()) as { checks: { writes: string } }).checks.writes];
  };
  const readRegion = (code: string) => api.request<{ region: { code: string } | null }>(`{ region(code: "${code}") { code } }`);
  /** Makes the database read-only, its pool's sessions too (as after a failover to a standby), and waits until reads are answered. */
  const makeReadOnly = async () => {
    await admin.query(`alter database "${database}" set default_transaction_read_only = on`);
    // The pool's sessions began read-write: ended here, the connections it opens next are read-only, as after a failover to a standby.
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [database]);
    // The first statements after the cut may meet a dead pooled connection (503, the database away): read until answered.
    const deadline = Date.now() + 20_000;
    while (!(await readRegion('410505')).data?.region && Date.now() < deadline) await new Promise((done) => setTimeout(done, 200));
  };

  it('refuses writes with 503 saying why, answers reads, and takes writes again once it is writable', async () => {
    await makeReadOnly();

    const refused = await createRegion('410506');
    expect(refused.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['SERVICE_UNAVAILABLE', WRITES_REFUSED_MESSAGE]]);
    expect((await readRegion('410505')).data).toEqual({ region: { code: '410505' } });
    expect((await readRegion('410506')).data).toEqual({ region: null });
    // Ready (reads are answered), saying that writes are refused.
    expect(await writes()).toEqual([200, 'refused']);

    // Writable again. The pool's connections still carry the read-only default their sessions began with: a
    // write refused on one ends it, so that at most as many writes are refused as it held (before, every one was).
    const held = Number(
      (await admin.query<{ n: string }>(`select count(*) as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [database])).rows[0].n,
    );
    await admin.query(`alter database "${database}" reset default_transaction_read_only`);
    const answers: string[] = [];
    for (let n = 10; n < 22; n++) {
      const answer = await createRegion(`4105${n}`);
      answers.push(answer.errors?.[0]?.extensions?.code ?? answer.data?.createRegion.code);
    }
    const refusedAfter = answers.filter((a) => a === 'SERVICE_UNAVAILABLE').length;
    console.log(`writable again: ${refusedAfter} of 12 writes refused, ${held} connections held at the lift; answers ${answers.join(' ')}`);
    expect(refusedAfter).toBeLessThanOrEqual(held);
    expect(await writes()).toEqual([200, 'ok']);
    expect(answers.slice(held)).toEqual(Array.from({ length: 12 - held }, (_, i) => `4105${10 + held + i}`));
  }, 60_000);

  // A load's rows go through COPY (a stream handed to the connection): PostgreSQL refuses it before it begins, answering
  // an error where the stream waits for CopyInResponse. Before, the load then waited for good, holding its request,
  // its transaction and a pooled connection: ten such loads took the whole pool.
  it('refuses a load of rows (COPY) with 503 at once, and frees its connection', async () => {
    await admin.query(`alter database "${database}" reset default_transaction_read_only`);
    const mountId = await hostedDataset(api, STEWARD, 'D-RO', WELFARE_ITEMS, [{ 姓名: '甲' }]);
    await makeReadOnly();
    const load = () =>
      api.request(`mutation($input: DatasetRowsInput!) { appendDatasetRows(input: $input) { recordCount } }`, {
        input: { mountId, rows: [{ 姓名: '乙' }] },
      });
    // More loads than the pool has connections (10): none is held.
    for (let n = 0; n < 12; n++) {
      expect((await load()).errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['SERVICE_UNAVAILABLE', WRITES_REFUSED_MESSAGE]]);
    }
    expect((await readRegion('410505')).data).toEqual({ region: { code: '410505' } });
    await admin.query(`alter database "${database}" reset default_transaction_read_only`);
  }, 60_000);

  // A COPY's answers reach its stream, not a callback: its refusal counts as any write's, for readiness and for the pool.
  it("counts a COPY's refusal: readiness says writes are refused, and its connection is discarded", async () => {
    await admin.query(`alter database "${database}" reset default_transaction_read_only`);
    // A write taken (the pool's connections of the tests above may refuse one each, then are replaced): readiness says 'ok'.
    let taken = false;
    for (let n = 30; n < 42 && !taken; n++) taken = (await createRegion(`4105${n}`)).data?.createRegion?.code === `4105${n}`;
    expect(taken).toBe(true);
    expect(await writes()).toEqual([200, 'ok']);
    await makeReadOnly();
    const knex = api.orm.em.getConnection().getKnex();
    const connection = (await knex.client.acquireConnection()) as PoolClient & { __knex__disposed?: unknown };
    try {
      const copy = connection.query(copyFrom('copy dataset_row (mount_id, version, row_no, data) from stdin'));
      const failed = once(copy, 'error');
      copy.end();
      const [error] = (await failed) as [{ code?: string }];
      expect(error.code).toBe('25006');
      // knex's mark of a connection to discard, as on any other statement's 25006.
      expect(connection.__knex__disposed).toBeTruthy();
    } finally {
      await knex.client.releaseConnection(connection);
    }
    expect(await writes()).toEqual([200, 'refused']);
    await admin.query(`alter database "${database}" reset default_transaction_read_only`);
  }, 60_000);
});
