import { MAX_WEBHOOKS } from '../../../src/modules/notifications/webhook.service';
import { errorCodes } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`;
const DELETE = `mutation($id: ID!) { deleteWebhook(id: $id) { id } }`;

/** Query.webhooks is unpaged: its cost bound is the cap on how many webhooks Mulu holds. */
describe('the webhook cap', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer({ webhooks: { allowPrivate: true }, webhookDispatcher: false });
  });
  afterAll(() => api.close());

  it(`refuses webhook ${MAX_WEBHOOKS + 1} with CONFLICT and accepts one again after a delete`, async () => {
    const input = { url: 'http://127.0.0.1:9/hook', events: ['SNAPSHOT_CAPTURED'] };
    // All but one written directly: the cap, not the API, is under test here.
    await api.orm.em
      .fork()
      .execute(
        `insert into webhook (url, events, secret, created_by) select 'http://127.0.0.1:9/' || n, '{SNAPSHOT_CAPTURED}', 'secret-' || n, 'test' from generate_series(1, ?) n`,
        [MAX_WEBHOOKS - 1],
      );
    const last = await api.ok<{ createWebhook: { webhook: { id: string } } }>(CREATE, { input });
    const refused = await api.request(CREATE, { input });
    expect(errorCodes(refused)).toEqual(['CONFLICT']);
    expect(JSON.stringify(refused.errors)).toContain(`at most ${MAX_WEBHOOKS.toLocaleString('en')} webhooks`);
    const [{ n }] = await api.orm.em.fork().execute<{ n: string }[]>(`select count(*) as n from webhook`);
    expect(Number(n)).toBe(MAX_WEBHOOKS);
    await api.ok(DELETE, { id: last.createWebhook.webhook.id });
    expect((await api.request(CREATE, { input })).errors).toBeUndefined();
  });
});
