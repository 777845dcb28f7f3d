import { BUSINESS_TODAY_SQL, businessToday } from '../../../src/modules/subscriptions/subscription.state-machine';
import { fromGlobalId } from '../../../src/graphql/global-id';
import { addDirectory, createDepartment, createRegions, creditCode, mount } from '../../support/builders';
import { startTestServer, type ApiClient, type TestServer } from '../../support/test-server';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../../support/webhook-receiver';

const DAY_MS = 24 * 60 * 60 * 1000;
const CLOCK_EVENTS = ['SUBSCRIPTION_LAPSING_SOON', 'SUBSCRIPTION_LAPSED', 'MOUNT_STALE'];
const REQUEST = `mutation($i: RequestSubscriptionInput!) { requestSubscription(input: $i) { id status } }`;
const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`;

/** The business date (China Standard Time) `days` from today, as YYYY-MM-DD. */
const dayFromToday = (days: number) => businessToday(new Date(Date.now() + days * DAY_MS));

/**
 * The events no request causes, written by the dispatcher's scan of the
 * clock. The clock is driven by the data, never by waiting: end dates 3,
 * 7 and 8 days ahead, an end date two days past, refreshes 9 days and 1 day ago
 * of weekly data. The scan runs every 100 ms here instead of every minute.
 */
describe('events of the clock: lapsing soon, lapsed, mount stale', () => {
  let api: TestServer;
  const A = creditCode('410505', 1); // provider
  const B = creditCode('410505', 2); // requester
  let stewardA: ApiClient;
  let stewardB: ApiClient;
  let forA: WebhookReceiver;
  let forB: WebhookReceiver;
  const summary = (received: ReceivedWebhook[]) => received.map((x) => `${x.body.type} ${x.body.data.directory.code}`).sort();

  beforeAll(async () => {
    api = await startTestServer({ webhooks: { allowPrivate: true, pollIntervalMs: 50, clockScanIntervalMs: 100, backoffBaseMs: 50, backoffMaxMs: 200 } });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区教育局', regionCode: '410505' });
    stewardA = await api.asRole('STEWARD', A);
    stewardB = await api.asRole('STEWARD', B);
    forA = await startWebhookReceiver();
    forB = await startWebhookReceiver();
    await stewardA.ok(CREATE, { input: { url: forA.url, events: CLOCK_EVENTS } });
    await stewardB.ok(CREATE, { input: { url: forB.url, events: CLOCK_EVENTS } });
  });
  afterAll(async () => {
    await api.close();
    await forA.close();
    await forB.close();
  });

  it('sends each once, to the departments concerned, from the dates in the data', async () => {
    const request = async (code: string, endDate: string) => {
      await addDirectory(api, A, code);
      const { requestSubscription } = await stewardB.ok<{ requestSubscription: { id: string; status: string } }>(REQUEST, {
        i: { directory: { code }, purpose: '办理低保资格核验', endDate },
      });
      expect(requestSubscription.status).toBe('GRANTED');
      return Number(fromGlobalId(requestSubscription.id).key);
    };
    // Ends in 3 days, or in exactly 7: lapsing soon (the notice starts 7 days before; it started a day late, 6 days before).
    // Ends in 8 days: nothing yet.
    await request('D-SOON', dayFromToday(3));
    await request('D-WEEK', dayFromToday(7));
    await request('D-LATER', dayFromToday(8));
    // Granted until next month, then the data says it ended two days ago (as a grant does once its end date passes).
    const pastId = await request('D-PAST', dayFromToday(30));
    await api.orm.em.getConnection().execute(`update subscription_request set end_date = ${BUSINESS_TODAY_SQL} - 2 where id = ?`, [pastId]);
    // Weekly data refreshed 9 days ago turned stale 2 days ago; refreshed yesterday, it is fresh.
    await addDirectory(api, A, 'D-STALE', { updateCycle: 'WEEKLY' });
    const staleMount = await mount(api, 'D-STALE', 100, new Date(Date.now() - 9 * DAY_MS).toISOString());
    await addDirectory(api, A, 'D-FRESH', { updateCycle: 'WEEKLY' });
    await mount(api, 'D-FRESH', 100, new Date(Date.now() - DAY_MS).toISOString());

    await forA.waitFor((received) => received.length >= 4, 15_000, "the provider's four events");
    await forB.waitFor((received) => received.length >= 3, 15_000, "the requester's three events");
    // Several more scans: every event is written once (its key), so none arrives twice.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(summary(forA.received)).toEqual([
      'MOUNT_STALE D-STALE',
      'SUBSCRIPTION_LAPSED D-PAST',
      'SUBSCRIPTION_LAPSING_SOON D-SOON',
      'SUBSCRIPTION_LAPSING_SOON D-WEEK',
    ]);
    // A stale mount concerns its provider only.
    expect(summary(forB.received)).toEqual(['SUBSCRIPTION_LAPSED D-PAST', 'SUBSCRIPTION_LAPSING_SOON D-SOON', 'SUBSCRIPTION_LAPSING_SOON D-WEEK']);

    const soon = forB.received.find((x) => x.body.type === 'SUBSCRIPTION_LAPSING_SOON')!;
    expect(soon.body.data).toMatchObject({
      subscriptionRequest: { status: 'GRANTED', endDate: dayFromToday(3) },
      provider: { creditCode: A },
      requester: { creditCode: B },
      // The ids a GraphQL caller uses, so that a receiver acts without another call to learn them.
      directory: { id: (await api.ok(`{ directory(code: "D-SOON") { id } }`)).directory.id, code: 'D-SOON' },
    });
    const lapsed = forB.received.find((x) => x.body.type === 'SUBSCRIPTION_LAPSED')!;
    expect(lapsed.body.data).toMatchObject({ subscriptionRequest: { status: 'LAPSED', endDate: dayFromToday(-2) } });
    const stale = forA.received.find((x) => x.body.type === 'MOUNT_STALE')!;
    expect(stale.body.data).toMatchObject({
      directory: { id: (await api.ok(`{ directory(code: "D-STALE") { id } }`)).directory.id, code: 'D-STALE' },
      department: { creditCode: A },
      mounts: [{ id: staleMount }],
    });
    expect(Date.parse(stale.body.data.staleSince)).toBeLessThan(Date.now());
  });

  it('gives up a lapsing-soon notice not yet delivered when the grant is revoked: the receiver hears the revocation, not that it ends soon', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { createWebhook } = await stewardB.ok(CREATE, { input: { url: receiver.url, events: [...CLOCK_EVENTS, 'SUBSCRIPTION_REVOKED'] } });
      const id = createWebhook.webhook.id;
      // Paused, so that the notice waits as one still retrying does.
      await stewardB.ok(`mutation($id: ID!) { updateWebhook(input: { id: $id, active: false }) { id } }`, { id });
      await addDirectory(api, A, 'D-REVOKE');
      const { requestSubscription } = await stewardB.ok(REQUEST, {
        i: { directory: { code: 'D-REVOKE' }, purpose: '办理低保资格核验', endDate: dayFromToday(3) },
      });
      const notices = async () =>
        (await stewardB.ok(`{ webhooks { id deliveries(first: 50) { edges { node { status error event { type data } } } } } }`)).webhooks
          .find((w: { id: string }) => w.id === id)
          .deliveries.edges.map((e: { node: { status: string; error: string | null; event: { type: string; data: string } } }) => e.node)
          .filter((n: { event: { data: string } }) => JSON.parse(n.event.data).directory.code === 'D-REVOKE');
      const deadline = Date.now() + 15_000;
      while ((await notices()).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await notices()).map((n: { event: { type: string } }) => n.event.type)).toEqual(['SUBSCRIPTION_LAPSING_SOON']);
      await stewardA.ok(`mutation($id: ID!) { revokeSubscription(input: { id: $id, reason: "停止共享" }) { status } }`, { id: requestSubscription.id });
      await stewardB.ok(`mutation($id: ID!) { updateWebhook(input: { id: $id, active: true }) { id } }`, { id });
      await receiver.waitFor((received) => received.some((x) => x.body.type === 'SUBSCRIPTION_REVOKED'), 15_000, 'the revocation');
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(summary(receiver.received)).toEqual(['SUBSCRIPTION_REVOKED D-REVOKE']);
      expect((await notices()).map((n: { status: string; error: string | null; event: { type: string } }) => [n.event.type, n.status, n.error])).toEqual([
        ['SUBSCRIPTION_LAPSING_SOON', 'FAILED', expect.stringMatching(/^Not sent: the subscription was revoked or cancelled/)],
        ['SUBSCRIPTION_REVOKED', 'SUCCEEDED', null],
      ]);
    } finally {
      await receiver.close();
    }
  });

  it('sends MOUNT_STALE again when data refreshed meanwhile turns stale again, once each time', async () => {
    const staleOf = (received: ReceivedWebhook[]) => received.filter((x) => x.body.type === 'MOUNT_STALE' && x.body.data.directory.code === 'D-AGAIN');
    await addDirectory(api, A, 'D-AGAIN', { updateCycle: 'WEEKLY' });
    const mountId = await mount(api, 'D-AGAIN', 100, new Date(Date.now() - 9 * DAY_MS).toISOString());
    await forA.waitFor((received) => staleOf(received).length >= 1, 15_000, 'the first MOUNT_STALE');
    // Refreshed 7 days less 2 seconds ago: fresh now, stale again 2 seconds later by the clock alone.
    const refreshedAt = new Date(Date.now() - 7 * DAY_MS + 2000);
    await api.ok(`mutation($input: RefreshMountInput!) { refreshMount(input: $input) { id } }`, {
      input: { mountId, recordCount: 120, refreshedAt: refreshedAt.toISOString() },
    });
    expect(await api.ok(`{ directory(code: "D-AGAIN") { stale } }`)).toEqual({ directory: { stale: false } });
    await forA.waitFor((received) => staleOf(received).length >= 2, 15_000, 'the second MOUNT_STALE');
    await new Promise((resolve) => setTimeout(resolve, 600));
    const [first, second] = staleOf(forA.received);
    expect(staleOf(forA.received)).toHaveLength(2);
    expect(Date.parse(first.body.data.staleSince)).toBeLessThan(Date.parse(second.body.data.staleSince));
    expect(second.body.data).toMatchObject({
      staleSince: new Date(refreshedAt.getTime() + 7 * DAY_MS).toISOString(),
      lastRefreshedAt: refreshedAt.toISOString(),
    });
    expect(Date.parse(second.body.occurredAt)).toBeGreaterThanOrEqual(Date.parse(second.body.data.staleSince));
  });
});
