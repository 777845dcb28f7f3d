import http from 'node:http';
import { Client } from 'pg';
import { createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU, hostedDataset, WELFARE_ITEMS } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';

/**
 * A bulk load (POST /mounts/{id}/rows) whose connection PostgreSQL ends in
 * the middle of its COPY, as a restart or a failover does: the caller gets
 * 503 SERVICE_UNAVAILABLE, nothing of the load is stored (the figures and
 * the dataset stay as they were), and the next load of the mount is served
 * without a restart. The whole-server restart under write load is
 * test/chaos; this is the streaming path, on its own connection.
 */
describe('a bulk load cut off mid-COPY', () => {
  let api: TestServer;
  let admin: Client;
  const A = creditCode('410505', 1);

  beforeAll(async () => {
    // The body waits while the test finds the COPY and ends it (seconds on a loaded machine): the slow-body rule (408,
    // body-rate.ts, tested in upload-stall.test.ts) must not answer first.
    api = await startTestServer({ bodyRate: { minBytesPerSecond: 1, windowMs: 60_000, timeoutMs: 120_000 } });
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    admin = new Client({ connectionString: api.orm.config.get('clientUrl') });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
    await api.close();
  });

  it('answers 503, stores nothing of it, and serves the next load', async () => {
    const mountId = await hostedDataset(api, A, 'D-CUT', WELFARE_ITEMS, [{ 姓名: '甲' }]);
    const FIGURES = `{ directory(code: "D-CUT") { dataVolume mounts { recordCount datasetVersion } } region(code: "410505") { mountStats { dataVolume } } }`;
    const before = await api.ok(FIGURES);

    const url = new URL(api.server.url);
    const request = http.request({
      host: url.hostname,
      port: url.port,
      path: `/mounts/${mountId}/rows`,
      method: 'POST',
      headers: { authorization: `Bearer ${api.adminToken}`, 'content-type': 'text/csv' },
    });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      request.on('error', reject);
      request.on('response', (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      });
    });
    request.write('姓名,年龄\n');
    for (let i = 0; i < 20_000; i++) request.write(`人${i},${i % 90}\n`);
    // The COPY is running once its statement shows in pg_stat_activity; then the server ends that session.
    let cut = 0;
    for (let tries = 0; cut === 0 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const { rowCount } = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and query ilike 'copy dataset_row%'`,
      );
      cut = rowCount ?? 0;
    }
    expect(cut).toBe(1);
    for (let i = 0; i < 2_000; i++) request.write(`后${i},1\n`);
    request.end();

    const { status, body } = await answer;
    expect(status).toBe(503);
    expect(JSON.parse(body).error.code).toBe('SERVICE_UNAVAILABLE');
    expect(await api.ok(FIGURES)).toEqual(before);
    const stored = await admin.query(`select count(*)::int as n from dataset_row where mount_id = $1`, [
      Number(Buffer.from(mountId, 'base64url').toString().split(':')[1]),
    ]);
    expect(stored.rows).toEqual([{ n: 1 }]);

    const again = await api.ok(`mutation($input: DatasetRowsInput!) { appendDatasetRows(input: $input) { rowsLoaded recordCount } }`, {
      input: { mountId, rows: [{ 姓名: '乙' }] },
    });
    expect(again.appendDatasetRows).toEqual({ rowsLoaded: 1, recordCount: 2 });
  });
});
