import { DEFAULT_DISPATCHER_SETTINGS, startDispatcher, type Dispatcher } from '../../../src/modules/notifications/webhook-dispatcher';
import { emitEvents, NotificationEventType } from '../../../src/modules/notifications/notification-event';
import { createDepartment, createRegions, creditCode } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver';

/** The dispatcher's connections carry this name, so that the trigger below logs their statements and no one else's. */
const APPLICATION_NAME = 'claims-test-dispatcher';

/**
 * How often the dispatcher claims: once per wake, again only while a claim
 * comes back full. While events arrived 50 at a time, every worker that
 * took a job from a short queue claimed again, up to 5 claims a NOTIFY,
 * most of them empty (docs/notifications.md, "Figures").
 */
describe('webhook dispatcher claims', () => {
  let api: TestServer;
  let receiver: WebhookReceiver;
  let dispatcher: Dispatcher | null = null;
  const A = creditCode('410505', 1);
  let n = 0;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    // This server registers and writes; the dispatcher under test sends.
    api = await startTestServer({ webhookDispatcher: false, webhooks: { allowPrivate: true } });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await api.ok(`mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret } }`, {
      input: { url: receiver.url, events: ['DIRECTORY_PUBLISHED'] },
    });
    // A statement-level trigger fires once per UPDATE statement, rows or none: it logs every claim and every
    // recording of results the dispatcher's connections run, by their text.
    const em = api.orm.em.fork();
    await em.execute(`create table test_dispatch_statement (id serial primary key, query text not null)`);
    await em.execute(`create function test_log_dispatch_statement() returns trigger language plpgsql as $$
      begin
        if current_setting('application_name') = '${APPLICATION_NAME}' then
          insert into test_dispatch_statement (query) values (current_query());
        end if;
        return null;
      end $$`);
    await em.execute(
      `create trigger test_log_dispatch_statement after update on webhook_delivery for each statement execute function test_log_dispatch_statement()`,
    );
  });
  afterAll(async () => {
    await dispatcher?.stop(0);
    await api.close();
    await receiver.close();
  });

  const claims = async (): Promise<number> => {
    const [{ count }] = await api.orm.em
      .fork()
      .execute<{ count: number }[]>(`select count(*)::int as count from test_dispatch_statement where query like '%for update of d skip locked%'`);
    return count;
  };
  const queue = async (events: number) => {
    await emitEvents(
      api.orm.em.fork(),
      Array.from({ length: events }, () => ({
        type: NotificationEventType.DIRECTORY_PUBLISHED,
        departments: [A],
        data: { directory: { code: `CLAIM-${++n}` } },
      })),
    );
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

  it('claims once for a wake that finds fewer than a claim holds, and again after each full claim', async () => {
    const url = new URL(api.orm.config.get('clientUrl')!);
    url.searchParams.set('application_name', APPLICATION_NAME);
    // Concurrency 2: a claim holds 8 (4 rounds). No poll within the test: only the wakes below (and the start) claim.
    dispatcher = startDispatcher(url.toString(), null, { ...DEFAULT_DISPATCHER_SETTINGS, concurrency: 2, allowPrivate: true, pollIntervalMs: 600_000 });
    await settle();
    // The start looks once and finds nothing.
    expect(await claims()).toBe(1);

    await queue(3);
    dispatcher.wake();
    await receiver.waitFor((received) => received.length === 3);
    await settle();
    // One claim took all three; none while the workers emptied the queue.
    expect(await claims()).toBe(2);

    await queue(20);
    dispatcher.wake();
    await receiver.waitFor((received) => received.length === 23);
    await settle();
    // 8 and 8 (full: there may be more), then 4 (short: that was all).
    expect(await claims()).toBe(5);
    expect(receiver.accepted()).toHaveLength(23);
    const statuses = await api.orm.em.fork().execute(`select status, count(*)::int as count from webhook_delivery group by status`);
    expect(statuses).toEqual([{ status: 'SUCCEEDED', count: 23 }]);
  });
});
