import { Client } from 'pg';
import { SQL_POOL_APPLICATION_NAME } from '../../../src/modules/notifications/sql-pool';
import { addDirectory, createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver';

const QUERY_TIMEOUT_MS = 1000;
const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`;

/**
 * The dispatcher's own connections cut without a word (here: their backends
 * stopped with SIGSTOP, so the sockets stay open and nothing answers, as
 * behind a NAT that dropped the flow): its claim fails after the pool's query
 * timeout, the connection is dropped, and the next claim, on a new one,
 * delivers. Before, the claim waited for good and no webhook was sent again
 * until the server was restarted.
 */
describe('the webhook dispatcher whose database connections stop answering', () => {
  let api: TestServer;
  let receiver: WebhookReceiver;
  let observer: Client;
  const A = creditCode('410505', 1);

  beforeAll(async () => {
    api = await startTestServer({ webhooks: { allowPrivate: true, pollIntervalMs: 50, timeoutMs: 3000, queryTimeoutMs: QUERY_TIMEOUT_MS } });
    receiver = await startWebhookReceiver();
    observer = new Client({ connectionString: api.orm.config.getClientUrl() });
    await observer.connect();
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await api.ok(CREATE, { input: { url: receiver.url, departmentCreditCode: A, events: ['DIRECTORY_PUBLISHED'] } });
  });
  afterAll(async () => {
    await observer.end();
    await api.close();
    await receiver.close();
  });

  const published = (code: string) => receiver.received.filter((r) => r.body.type === 'DIRECTORY_PUBLISHED' && r.body.data.directory?.code === code);

  it('drops them after the query timeout and delivers on new ones', async () => {
    await addDirectory(api, A, 'STALL-1');
    await receiver.waitFor(() => published('STALL-1').length === 1);
    const { rows } = await observer.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and application_name = $1`, [
      SQL_POOL_APPLICATION_NAME,
    ]);
    expect(rows.length).toBeGreaterThan(0);
    for (const { pid } of rows) process.kill(pid, 'SIGSTOP');
    try {
      await addDirectory(api, A, 'STALL-2');
      await receiver.waitFor(() => published('STALL-2').length === 1, 15_000, 'the delivery after the stall');
      expect(published('STALL-2')).toHaveLength(1);
    } finally {
      for (const { pid } of rows) process.kill(pid, 'SIGCONT');
      await observer.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [rows.map((row) => row.pid)]);
    }
  });
});
