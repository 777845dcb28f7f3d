import { addDirectory, createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU, mount, unmount } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../../support/webhook-receiver';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`;
const CAPTURE = `mutation($input: CaptureSnapshotInput!) { captureSnapshot(input: $input) { period } }`;
const RATE_EVENTS = ['RATE_FELL_BELOW_THRESHOLD', 'RATE_ROSE_ABOVE_THRESHOLD'];

/**
 * The threshold events of a capture (default threshold 0.6), through the API
 * as an administrator causes them: A's only directory unmounted (mount rate
 * 1 to 0) and mounted again, B's mounted all along (1, one side: nothing).
 * Yindu and its ancestors hold both: 1, then 0.5, then 1.
 */
describe('rate threshold events of a snapshot capture', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);
  const B = creditCode('410505', 2);
  let forA: WebhookReceiver;
  let forB: WebhookReceiver;
  let forAdmin: WebhookReceiver;
  const summary = (received: ReceivedWebhook[]) =>
    received
      .map(({ body: { type, data } }) =>
        type === 'SNAPSHOT_CAPTURED' ? `${type} ${data.period}${data.replaced ? ' replaced' : ''}` : `${type} ${data.period} ${data.unit.code}`,
      )
      .sort();

  beforeAll(async () => {
    api = await startTestServer({ webhooks: { allowPrivate: true, pollIntervalMs: 50, backoffBaseMs: 50, backoffMaxMs: 200 } });
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区教育局', regionCode: '410505' });
    [forA, forB, forAdmin] = await Promise.all([startWebhookReceiver(), startWebhookReceiver(), startWebhookReceiver()]);
    await (await api.asRole('STEWARD', A)).ok(CREATE, { input: { url: forA.url, events: RATE_EVENTS } });
    await (await api.asRole('STEWARD', B)).ok(CREATE, { input: { url: forB.url, events: RATE_EVENTS } });
    await api.ok(CREATE, { input: { url: forAdmin.url, events: [...RATE_EVENTS, 'SNAPSHOT_CAPTURED'] } });
  });
  afterAll(async () => {
    await api.close();
    await Promise.all([forA.close(), forB.close(), forAdmin.close()]);
  });

  it('sends each crossing once, in both directions, and not again when the month is captured again', async () => {
    await addDirectory(api, A, 'A-RATE');
    const mountOfA = await mount(api, 'A-RATE', 100);
    await addDirectory(api, B, 'B-RATE');
    await mount(api, 'B-RATE', 100);
    await api.ok(CAPTURE, { input: { period: '2025-01' } });

    await unmount(api, mountOfA);
    await api.ok(CAPTURE, { input: { period: '2025-02' } });
    // The same figures captured again: the same crossings, already sent (they were sent a second time).
    await api.ok(CAPTURE, { input: { period: '2025-02', replace: true } });

    await mount(api, 'A-RATE', 100);
    await api.ok(CAPTURE, { input: { period: '2025-03' } });

    await forAdmin.waitFor((received) => received.length >= 12, 15_000, "the administrator's twelve events");
    // Time for any event sent twice to arrive (a delivery is claimed every 50 ms here).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(summary(forA.received)).toEqual(['RATE_FELL_BELOW_THRESHOLD 2025-02 ' + A, 'RATE_ROSE_ABOVE_THRESHOLD 2025-03 ' + A]);
    expect(forB.received).toEqual([]);
    expect(summary(forAdmin.received)).toEqual([
      `RATE_FELL_BELOW_THRESHOLD 2025-02 ${A}`,
      'RATE_FELL_BELOW_THRESHOLD 2025-02 410000',
      'RATE_FELL_BELOW_THRESHOLD 2025-02 410500',
      'RATE_FELL_BELOW_THRESHOLD 2025-02 410505',
      `RATE_ROSE_ABOVE_THRESHOLD 2025-03 ${A}`,
      'RATE_ROSE_ABOVE_THRESHOLD 2025-03 410000',
      'RATE_ROSE_ABOVE_THRESHOLD 2025-03 410500',
      'RATE_ROSE_ABOVE_THRESHOLD 2025-03 410505',
      'SNAPSHOT_CAPTURED 2025-01',
      'SNAPSHOT_CAPTURED 2025-02',
      'SNAPSHOT_CAPTURED 2025-02 replaced',
      'SNAPSHOT_CAPTURED 2025-03',
    ]);
    const fell = forA.received.find((x) => x.body.type === 'RATE_FELL_BELOW_THRESHOLD')!;
    expect(fell.body.data).toEqual({
      unit: { kind: 'DEPARTMENT', code: A, name: '殷都区民政局' },
      metric: 'mountRate',
      threshold: 0.6,
      period: '2025-02',
      rate: 0,
      counts: { numerator: 0, denominator: 1 },
      previousPeriod: '2025-01',
      previousRate: 1,
      previousCounts: { numerator: 1, denominator: 1 },
    });
  });
});
