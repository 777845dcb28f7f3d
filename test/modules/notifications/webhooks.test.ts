import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import vm from 'node:vm';
import { startServer, type MuluServer } from '../../../src/app';
import { fromGlobalId, toGlobalId } from '../../../src/graphql/global-id';
import { emitEvents, NotificationEventType } from '../../../src/modules/notifications/notification-event';
import { setNotificationPolicy } from '../../../src/modules/notifications/notification-policy';
import { verifyWebhookSignature } from '../../../src/modules/notifications/webhook-signature';
import { addDirectory, createDepartment, createRegions, creditCode, errorCodes, HENAN_ANYANG_TWO_DISTRICTS } from '../../support/builders';
import { finishesOrWaits, openConnection, untilWaiting } from '../../support/locks';
import { startTestServer, type ApiClient, type TestServer } from '../../support/test-server';
import { freePort, startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../../support/webhook-receiver';

/** Fast retries so that a test sees several attempts in well under a second. */
const WEBHOOKS = { allowPrivate: true, backoffBaseMs: 50, backoffMaxMs: 200, pollIntervalMs: 50, timeoutMs: 3000, maxAttempts: 20 };

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id url departmentCreditCode events active } } }`;
const REQUEST = `mutation($i: RequestSubscriptionInput!) { requestSubscription(input: $i) { id status } }`;
const APPROVE = `mutation($id: ID!) { approveSubscriptionRequest(input: { id: $id }) { id status } }`;
const DELIVERIES = `query($d: String) { webhooks(departmentCreditCode: $d) { id url deliveries(first: 50) { edges { node { status attempt responseCode durationMs error nextAttemptAt deliveredAt event { id type departmentCreditCodes data } } } } } }`;

/** `verifyMuluWebhook` as docs/notifications.md shows it to receivers (its first `js` block). */
const verifyAsDocumented = vm.runInNewContext(
  `${/```js\n([\s\S]*?)```/.exec(readFileSync(path.join(__dirname, '../../../docs/notifications.md'), 'utf8'))![1]}\nverifyMuluWebhook`,
  { require, Buffer },
) as (secret: string, headers: http.IncomingHttpHeaders, rawBody: string) => boolean;

const SUBSCRIPTION_EVENTS = ['SUBSCRIPTION_REQUESTED', 'SUBSCRIPTION_APPROVED', 'SUBSCRIPTION_REJECTED', 'SUBSCRIPTION_REVOKED', 'SUBSCRIPTION_CANCELLED'];

describe('webhooks', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);
  const B = creditCode('410505', 2);
  const C = creditCode('410502', 1);
  let stewardA: ApiClient;
  let stewardB: ApiClient;
  let stewardC: ApiClient;
  const receivers: WebhookReceiver[] = [];
  let directoryN = 0;

  const receiver = async (port?: number) => {
    const r = await startWebhookReceiver(port);
    receivers.push(r);
    return r;
  };
  const createWebhook = async (client: ApiClient, input: Record<string, unknown>) => {
    const response = await client.request(CREATE, { input });
    if (response.errors) throw new Error(JSON.stringify(response.errors));
    return response.data!.createWebhook as { secret: string; webhook: { id: string } };
  };
  /** B asks for a new conditional directory of A, and A approves: two events for A and B. */
  const requestAndApprove = async () => {
    const code = await addDirectory(api, A, `A-HOOK-${++directoryN}`, { shareType: 'CONDITIONAL' });
    const requested = await stewardB.ok<{ requestSubscription: { id: string } }>(REQUEST, { i: { directory: { code }, purpose: '办理低保资格核验' } });
    await stewardA.ok(APPROVE, { id: requested.requestSubscription.id });
    return { code, requestId: requested.requestSubscription.id };
  };
  const eventsFor = (received: ReceivedWebhook[], code: string) => received.filter((r) => r.body.data.directory?.code === code);

  beforeAll(async () => {
    api = await startTestServer({ webhooks: WEBHOOKS });
    await createRegions(api, HENAN_ANYANG_TWO_DISTRICTS);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区教育局', regionCode: '410505' });
    await createDepartment(api, { creditCode: C, name: '文峰区民政局', regionCode: '410502' });
    stewardA = await api.asRole('STEWARD', A);
    stewardB = await api.asRole('STEWARD', B);
    stewardC = await api.asRole('STEWARD', C);
  });
  afterAll(async () => {
    await api.close();
    for (const r of receivers) await r.close();
  });

  it('signs every POST: the receiver verifies the signature with the secret, and rejects a tampered body', async () => {
    const r = await receiver();
    const { secret } = await createWebhook(stewardA, { url: r.url, events: SUBSCRIPTION_EVENTS });
    const { code } = await requestAndApprove();
    await r.waitFor((received) => eventsFor(received, code).length === 2);
    const [requested, approved] = eventsFor(r.received, code);
    expect([requested.body.type, approved.body.type]).toEqual(['SUBSCRIPTION_REQUESTED', 'SUBSCRIPTION_APPROVED']);
    expect(approved.body.data).toMatchObject({
      subscriptionRequest: { status: 'GRANTED' },
      provider: { creditCode: A },
      requester: { creditCode: B },
      // The directory's id as GraphQL gives it, so that a receiver acts on it without another call.
      directory: { id: (await api.ok(`query($code: String!) { directory(code: $code) { id } }`, { code })).directory.id, code },
    });
    for (const post of [requested, approved]) {
      // The body as PostgreSQL writes it (EVENT_BODY_SQL): these keys in this order, occurredAt as Date.toISOString() writes it.
      expect(Object.keys(post.body)).toEqual(['id', 'type', 'occurredAt', 'data']);
      expect(new Date(post.body.occurredAt).toISOString()).toBe(post.body.occurredAt);
      expect(post.headers['mulu-event-id']).toBe(post.body.id);
      expect(post.headers['mulu-event-type']).toBe(post.body.type);
      expect(post.headers['mulu-delivery-attempt']).toBe('1');
      const headers = { timestamp: post.headers['mulu-timestamp'] as string, signature: post.headers['mulu-signature'] as string };
      expect(verifyWebhookSignature(secret, headers, post.rawBody)).toBe(true);
      expect(verifyWebhookSignature(secret, headers, post.rawBody.replace('GRANTED', 'REVOKED').replace('PENDING', 'REVOKED'))).toBe(false);
      expect(verifyWebhookSignature('whsec_another-secret-entirely', headers, post.rawBody)).toBe(false);
      // The receiver's example in docs/notifications.md, run as written, with the headers as Node's server gives them.
      expect(verifyAsDocumented(secret, post.headers, post.rawBody)).toBe(true);
      expect(verifyAsDocumented(secret, post.headers, post.rawBody.replace('"id"', '"ID"'))).toBe(false);
    }
  });

  it('a receiver that fails three times and then answers 200 gets the event once it succeeds; the history shows each attempt', async () => {
    const r = await receiver();
    r.respond = ({ count }) => (count <= 3 ? 500 : 200);
    await createWebhook(api, { departmentCreditCode: B, url: r.url, events: ['SUBSCRIPTION_REQUESTED'] });
    const { code } = await requestAndApprove();
    await r.waitFor((received) => received.some((x) => x.answered === 200), 20_000, 'a successful attempt');
    // No further attempt once it succeeded.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const posts = eventsFor(r.received, code);
    expect(posts.map((p) => [p.answered, p.headers['mulu-delivery-attempt']])).toEqual([
      [500, '1'],
      [500, '2'],
      [500, '3'],
      [200, '4'],
    ]);
    expect(new Set(posts.map((p) => p.body.id)).size).toBe(1);
    expect(new Set(posts.map((p) => p.rawBody)).size).toBe(1);
    expect(r.accepted()).toHaveLength(1);
    const [hook] = (await api.ok(DELIVERIES, { d: B })).webhooks.filter((w: { url: string }) => w.url === r.url);
    const [delivery] = hook.deliveries.edges.map((e: { node: unknown }) => e.node);
    expect(delivery).toMatchObject({
      status: 'SUCCEEDED',
      attempt: 4,
      responseCode: 200,
      error: null,
      nextAttemptAt: null,
      event: { type: 'SUBSCRIPTION_REQUESTED', departmentCreditCodes: [A, B] },
    });
    expect(delivery.durationMs).toEqual(expect.any(Number));
    expect(delivery.deliveredAt).not.toBeNull();
  });

  it("a delivery retried after updateWebhook goes to the webhook's URL of now, signed with its secret of now; a change of its events leaves it queued", async () => {
    const before = await receiver();
    before.respond = () => 500;
    const after = await receiver();
    const { webhook, secret: oldSecret } = await createWebhook(api, { departmentCreditCode: C, url: before.url, events: ['DIRECTORY_PUBLISHED'] });
    await addDirectory(api, C, 'C-MOVED');
    await before.waitFor((received) => eventsFor(received, 'C-MOVED').length >= 1, 10_000, 'the first attempt');
    const newSecret = 'whsec_rotated-while-retrying-0123456789';
    await api.ok(`mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id } }`, {
      input: { id: webhook.id, url: after.url, secret: newSecret, events: ['DIRECTORY_WITHDRAWN'] },
    });
    await after.waitFor((received) => eventsFor(received, 'C-MOVED').length === 1, 10_000, 'the attempt after the update');
    const [moved] = eventsFor(after.received, 'C-MOVED');
    expect(moved.body.type).toBe('DIRECTORY_PUBLISHED');
    expect(moved.body.id).toBe(eventsFor(before.received, 'C-MOVED')[0].body.id);
    expect(Number(moved.headers['mulu-delivery-attempt'])).toBeGreaterThanOrEqual(2);
    const headers = { timestamp: moved.headers['mulu-timestamp'] as string, signature: moved.headers['mulu-signature'] as string };
    expect(verifyWebhookSignature(newSecret, headers, moved.rawBody)).toBe(true);
    expect(verifyWebhookSignature(oldSecret, headers, moved.rawBody)).toBe(false);
  });

  it("a paused webhook's deliveries wait and are sent once it is active again; a deleted webhook's are dropped with it", async () => {
    const [resumed, deleted] = [await receiver(), await receiver()];
    const hooks = [];
    for (const r of [resumed, deleted]) {
      const { webhook } = await createWebhook(api, { departmentCreditCode: C, url: r.url, events: ['DIRECTORY_PUBLISHED'] });
      await api.ok(`mutation($id: ID!) { updateWebhook(input: { id: $id, active: false }) { id } }`, { id: webhook.id });
      hooks.push(webhook.id);
    }
    await addDirectory(api, C, 'C-PAUSED');
    // Several claims (every 50 ms here) pass over both.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect([resumed.received, deleted.received]).toEqual([[], []]);
    await api.ok(`mutation($id: ID!) { deleteWebhook(id: $id) { id } }`, { id: hooks[1] });
    await api.ok(`mutation($id: ID!) { updateWebhook(input: { id: $id, active: true }) { id } }`, { id: hooks[0] });
    await resumed.waitFor((received) => eventsFor(received, 'C-PAUSED').length === 1, 10_000, 'the delivery held while paused');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(eventsFor(resumed.received, 'C-PAUSED').map((x) => [x.body.type, x.headers['mulu-delivery-attempt']])).toEqual([['DIRECTORY_PUBLISHED', '1']]);
    expect(deleted.received).toEqual([]);
    const { webhooks } = await api.ok(DELIVERIES, { d: C });
    expect(webhooks.map((w: { url: string }) => w.url)).not.toContain(deleted.url);
  });

  it('gives up after the last attempt: the delivery is FAILED with the reason, and not tried again', async () => {
    const r = await receiver();
    r.respond = () => 503;
    const { webhook } = await createWebhook(api, { departmentCreditCode: C, url: r.url, events: ['DIRECTORY_PUBLISHED'] });
    await addDirectory(api, C, 'C-FAILING');
    await r.waitFor((received) => received.length >= WEBHOOKS.maxAttempts, 20_000, 'every attempt');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(r.received).toHaveLength(WEBHOOKS.maxAttempts);
    const hook = (await api.ok(DELIVERIES, { d: C })).webhooks.find((w: { id: string }) => w.id === webhook.id);
    expect(hook.deliveries.edges[0].node).toMatchObject({
      status: 'FAILED',
      attempt: WEBHOOKS.maxAttempts,
      responseCode: 503,
      error: 'answered 503',
      nextAttemptAt: null,
    });
  });

  it('a long answer is read up to 64 KiB and then cut: the attempt counts by its code, and the next delivery opens a new connection', async () => {
    const posts: string[] = [];
    const long = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        posts.push(String(request.headers['mulu-event-id']));
        response.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(1024 * 1024));
      });
    });
    await new Promise<void>((resolve) => long.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(long.address() as AddressInfo).port}/hook`;
      const { webhook } = await createWebhook(api, { departmentCreditCode: B, url, events: ['DIRECTORY_PUBLISHED'] });
      await addDirectory(api, B, 'B-LONG-1');
      await addDirectory(api, B, 'B-LONG-2');
      const deadline = Date.now() + 10_000;
      let nodes: { status: string; attempt: number; responseCode: number | null; error: string | null }[] = [];
      while (Date.now() < deadline) {
        const hook = (await api.ok(DELIVERIES, { d: B })).webhooks.find((w: { id: string }) => w.id === webhook.id);
        nodes = hook.deliveries.edges.map((e: { node: (typeof nodes)[number] }) => e.node);
        if (nodes.length === 2 && nodes.every((n) => n.status !== 'PENDING')) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(nodes.map(({ status, attempt, responseCode, error }) => ({ status, attempt, responseCode, error }))).toEqual([
        { status: 'SUCCEEDED', attempt: 1, responseCode: 200, error: null },
        { status: 'SUCCEEDED', attempt: 1, responseCode: 200, error: null },
      ]);
      expect(posts).toHaveLength(2);
    } finally {
      long.closeAllConnections();
      await new Promise<void>((resolve) => long.close(() => resolve()));
    }
  });

  it('an answer whose body trickles is cut at the receiver timeout after its headers: the attempt counts by its code (it held a sender for hours)', async () => {
    const trickle = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'text/plain' });
        // A byte every 200 ms: never the 3 s between chunks of bodyTimeout, 64 KiB after 3.6 hours.
        const timer = setInterval(() => response.write('x'), 200);
        response.on('close', () => clearInterval(timer));
      });
    });
    await new Promise<void>((resolve) => trickle.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(trickle.address() as AddressInfo).port}/hook`;
      const { webhook } = await createWebhook(api, { departmentCreditCode: B, url, events: ['DIRECTORY_PUBLISHED'] });
      await addDirectory(api, B, 'B-TRICKLE-1');
      const deadline = Date.now() + 20_000;
      let nodes: { status: string; attempt: number; responseCode: number | null; error: string | null; durationMs: number | null }[] = [];
      while (Date.now() < deadline) {
        const hook = (await api.ok(DELIVERIES, { d: B })).webhooks.find((w: { id: string }) => w.id === webhook.id);
        nodes = hook.deliveries.edges.map((e: { node: (typeof nodes)[number] }) => e.node);
        if (nodes.length === 1 && nodes[0].status !== 'PENDING') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(nodes.map(({ status, attempt, responseCode, error }) => ({ status, attempt, responseCode, error }))).toEqual([
        { status: 'SUCCEEDED', attempt: 1, responseCode: 200, error: null },
      ]);
      // Cut at the 3 s receiver timeout after the headers, not at the end of the trickle.
      expect(nodes[0].durationMs).toBeGreaterThanOrEqual(3000);
      expect(nodes[0].durationMs).toBeLessThan(10_000);
    } finally {
      trickle.closeAllConnections();
      await new Promise<void>((resolve) => trickle.close(() => resolve()));
    }
  });

  it('an answer of endless informational (102) responses is no answer: the attempt ends at the receiver timeout without a code, and is tried again', async () => {
    // undici restarts its wait for the headers at each 1xx, so 102 Processing every 200 ms never reached headersTimeout.
    const processing = http.createServer((request, response) => {
      request.resume();
      const timer = setInterval(() => response.writeProcessing(), 200);
      response.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => processing.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(processing.address() as AddressInfo).port}/hook`;
      const { webhook } = await createWebhook(api, { departmentCreditCode: B, url, events: ['DIRECTORY_PUBLISHED'] });
      const started = Date.now();
      await addDirectory(api, B, 'B-PROCESSING-1');
      const deadline = Date.now() + 20_000;
      let nodes: { status: string; attempt: number; responseCode: number | null; error: string | null }[] = [];
      while (Date.now() < deadline) {
        const hook = (await api.ok(DELIVERIES, { d: B })).webhooks.find((w: { id: string }) => w.id === webhook.id);
        nodes = hook.deliveries.edges.map((e: { node: (typeof nodes)[number] }) => e.node);
        if (nodes.length === 1 && nodes[0].attempt >= 2) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The first attempt ended at the 3 s receiver timeout; the second was claimed after it.
      expect(nodes.map(({ status, responseCode, error }) => ({ status, responseCode, error }))).toEqual([
        { status: 'PENDING', responseCode: null, error: 'no final answer within 3000 ms (only informational 102 responses)' },
      ]);
      expect(nodes[0].attempt).toBeGreaterThanOrEqual(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
      await api.ok(`mutation($id: ID!) { deleteWebhook(id: $id) { id } }`, { id: webhook.id });
    } finally {
      processing.closeAllConnections();
      await new Promise<void>((resolve) => processing.close(() => resolve()));
    }
  });

  it('410 Gone is retried like any failed attempt: the webhook stays active, each attempt shows the code (docs/notifications.md)', async () => {
    const gone = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(410).end());
    });
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/hook`;
      const { webhook } = await createWebhook(api, { departmentCreditCode: B, url, events: ['DIRECTORY_PUBLISHED'] });
      await addDirectory(api, B, 'B-GONE-1');
      const deadline = Date.now() + 20_000;
      let hook:
        | { active: boolean; deliveries: { edges: { node: { status: string; attempt: number; responseCode: number | null; error: string | null } }[] } }
        | undefined;
      while (Date.now() < deadline) {
        hook = (
          await api.ok(
            `query($d: String) { webhooks(departmentCreditCode: $d) { id active deliveries(first: 5) { edges { node { status attempt responseCode error } } } } }`,
            { d: B },
          )
        ).webhooks.find((w: { id: string }) => w.id === webhook.id);
        if (hook!.deliveries.edges.length === 1 && hook!.deliveries.edges[0].node.attempt >= 3) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(hook!.active).toBe(true);
      const [{ node }] = hook!.deliveries.edges;
      expect(node).toMatchObject({ status: 'PENDING', responseCode: 410, error: 'answered 410' });
      expect(node.attempt).toBeGreaterThanOrEqual(3);
      await api.ok(`mutation($id: ID!) { deleteWebhook(id: $id) { id } }`, { id: webhook.id });
    } finally {
      gone.closeAllConnections();
      await new Promise<void>((resolve) => gone.close(() => resolve()));
    }
  });

  it("a steward's webhook never receives another department's events; an admin's webhook for every department receives them all", async () => {
    const forC = await receiver();
    const forAll = await receiver();
    await createWebhook(stewardC, { url: forC.url, events: [...SUBSCRIPTION_EVENTS, 'DIRECTORY_PUBLISHED'] });
    await createWebhook(api, { url: forAll.url, events: [...SUBSCRIPTION_EVENTS, 'DIRECTORY_PUBLISHED'] });
    const { code } = await requestAndApprove();
    await addDirectory(api, C, 'C-OWN');
    await forAll.waitFor((received) => eventsFor(received, code).length === 3 && eventsFor(received, 'C-OWN').length === 1);
    await forC.waitFor((received) => eventsFor(received, 'C-OWN').length === 1);
    // Everything A and B did has been sent to the admin's webhook; C's webhook got only C's own event.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(forC.received.map((x) => [x.body.type, x.body.data.department?.creditCode])).toEqual([['DIRECTORY_PUBLISHED', C]]);
    expect(eventsFor(forAll.received, code).map((x) => x.body.type)).toEqual(['DIRECTORY_PUBLISHED', 'SUBSCRIPTION_REQUESTED', 'SUBSCRIPTION_APPROVED']);
  });

  it('a rolled-back mutation sends nothing and leaves no event', async () => {
    const r = await receiver();
    await createWebhook(stewardA, { url: r.url, events: SUBSCRIPTION_EVENTS });
    const code = await addDirectory(api, A, 'A-ROLLBACK', { shareType: 'CONDITIONAL' });
    const requested = await stewardB.ok<{ requestSubscription: { id: string } }>(REQUEST, { i: { directory: { code }, purpose: '办理低保资格核验' } });
    await r.waitFor((received) => eventsFor(received, code).length === 1);
    // The approval writes its event, then its transaction fails at commit (a trigger refuses its audit entry).
    await api.orm.em.getConnection().execute(`
      create function refuse_approval() returns trigger language plpgsql as $$ begin
        if new.action = 'approveSubscriptionRequest' then raise exception 'refused by the test'; end if; return new; end $$;
      create trigger refuse_approval before insert on audit_entry for each row execute function refuse_approval();`);
    try {
      const response = await stewardA.request(APPROVE, { id: requested.requestSubscription.id });
      expect(errorCodes(response)).toEqual(['INTERNAL_SERVER_ERROR']);
    } finally {
      await api.orm.em.getConnection().execute(`drop trigger refuse_approval on audit_entry; drop function refuse_approval();`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(eventsFor(r.received, code).map((x) => x.body.type)).toEqual(['SUBSCRIPTION_REQUESTED']);
    const rows: { type: string }[] = await api.orm.em
      .getConnection()
      .execute(`select type from notification_event where payload->'directory'->>'code' = ? and type like 'SUBSCRIPTION%' order by id`, [code]);
    expect(rows.map((row: { type: string }) => row.type)).toEqual(['SUBSCRIPTION_REQUESTED']);
  });

  it('loading rows into a hosted dataset (appendDatasetRows) notifies its provider and its granted consumers, and no other department', async () => {
    const forA = await receiver();
    const forB = await receiver();
    const forC = await receiver();
    await createWebhook(stewardA, { url: forA.url, events: ['DATASET_ROWS_LOADED'] });
    await createWebhook(stewardB, { url: forB.url, events: ['DATASET_ROWS_LOADED'] });
    await createWebhook(stewardC, { url: forC.url, events: ['DATASET_ROWS_LOADED'] });
    const code = await addDirectory(api, A, 'A-HOSTED');
    // An unconditional share: B's request is granted at once. C asks for nothing.
    expect(
      (await stewardB.ok<{ requestSubscription: { status: string } }>(REQUEST, { i: { directory: { code }, purpose: '办理低保资格核验' } })).requestSubscription
        .status,
    ).toBe('GRANTED');
    const mounted = await stewardA.ok<{ mountDataset: { id: string } }>(`mutation($input: MountDatasetInput!) { mountDataset(input: $input) { id } }`, {
      input: { directory: { code }, kind: 'TABLE', locator: `mulu:${code}`, hosted: true },
    });
    const loaded = await stewardA.ok(`mutation($input: DatasetRowsInput!) { appendDatasetRows(input: $input) { rowsLoaded recordCount } }`, {
      input: { mountId: mounted.mountDataset.id, rows: [{ 名称: '甲' }, { 名称: '乙' }, { 名称: '丙' }] },
    });
    expect(loaded.appendDatasetRows).toEqual({ rowsLoaded: 3, recordCount: 3 });
    await forA.waitFor((received) => eventsFor(received, code).length === 1, 10_000, "the provider's event");
    await forB.waitFor((received) => eventsFor(received, code).length === 1, 10_000, "the granted consumer's event");
    for (const post of [...forA.received, ...forB.received]) {
      expect(post.body.type).toBe('DATASET_ROWS_LOADED');
      expect(post.body.data).toMatchObject({
        directory: { code },
        department: { creditCode: A },
        rows: 3,
        totalRows: 3,
        load: { mode: 'APPEND', version: 1, route: 'GRAPHQL' },
      });
    }
    // One event, sent to both webhooks.
    expect(forA.received[0].body.id).toBe(forB.received[0].body.id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(forC.received).toEqual([]);
  });

  it('withdrawing a directory and publishing it again notify its provider and its granted consumers (delivery stops and resumes), and no other department', async () => {
    const forA = await receiver();
    const forB = await receiver();
    const forC = await receiver();
    const DIRECTORY_EVENTS = ['DIRECTORY_PUBLISHED', 'DIRECTORY_WITHDRAWN'];
    const code = await addDirectory(api, A, 'A-WITHDRAWN');
    await createWebhook(stewardA, { url: forA.url, events: DIRECTORY_EVENTS });
    await createWebhook(stewardB, { url: forB.url, events: DIRECTORY_EVENTS });
    await createWebhook(stewardC, { url: forC.url, events: DIRECTORY_EVENTS });
    expect(
      (await stewardB.ok<{ requestSubscription: { status: string } }>(REQUEST, { i: { directory: { code }, purpose: '办理低保资格核验' } })).requestSubscription
        .status,
    ).toBe('GRANTED');
    await stewardA.ok(`mutation($code: String!) { withdrawDirectory(input: { directory: { code: $code } }) { status } }`, { code });
    await stewardA.ok(`mutation($code: String!) { publishDirectory(input: { directory: { code: $code } }) { status } }`, { code });
    for (const r of [forA, forB]) await r.waitFor((received) => eventsFor(received, code).length === 2, 10_000, 'both events');
    for (const r of [forA, forB]) {
      expect(eventsFor(r.received, code).map((x) => [x.body.type, x.body.data.department.creditCode])).toEqual([
        ['DIRECTORY_WITHDRAWN', A],
        ['DIRECTORY_PUBLISHED', A],
      ]);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(eventsFor(forC.received, code)).toEqual([]);
  });

  it('a receiver that is down while the server restarts still gets every event afterwards', async () => {
    const port = await freePort();
    await createWebhook(api, { departmentCreditCode: A, url: `http://127.0.0.1:${port}/hook`, events: SUBSCRIPTION_EVENTS });
    const first = await requestAndApprove();
    const second = await requestAndApprove();
    // Attempts fail (connection refused) until the server stops.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await api.server.stop();
    let restarted: MuluServer | undefined;
    try {
      const r = await receiver(port);
      restarted = await startServer(api.orm, 0, api.authenticator, { webhooks: WEBHOOKS });
      await r
        .waitFor((received) => eventsFor(received, first.code).length === 2 && eventsFor(received, second.code).length === 2, 20_000, 'all four events')
        .catch(async (error) => {
          const rows = await api.orm.em
            .getConnection()
            .execute(
              `select d.id, d.status, d.attempt, d.error, d.next_attempt_at, e.type from webhook_delivery d join notification_event e on e.id = d.event_id join webhook w on w.id = d.webhook_id where w.url like ?`,
              [`%:${port}/%`],
            );
          throw new Error(`${error.message}\n${JSON.stringify(rows)}`);
        });
      // Retries do not keep the order of events (receivers order by occurredAt); each event arrives.
      expect(
        r
          .accepted()
          .map((x) => `${x.body.data.directory.code} ${x.body.type}`)
          .sort(),
      ).toEqual([
        `${first.code} SUBSCRIPTION_APPROVED`,
        `${first.code} SUBSCRIPTION_REQUESTED`,
        `${second.code} SUBSCRIPTION_APPROVED`,
        `${second.code} SUBSCRIPTION_REQUESTED`,
      ]);
      expect(Number(r.received[0].headers['mulu-delivery-attempt'])).toBeGreaterThan(1);
    } finally {
      await restarted?.stop();
    }
  });
});

describe('webhook registration', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);
  const B = creditCode('410505', 2);

  beforeAll(async () => {
    api = await startTestServer({ webhooks: { allowPrivate: false } });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区教育局', regionCode: '410505' });
  });
  afterAll(() => api.close());

  const create = (client: ApiClient, input: Record<string, unknown>) => client.request(CREATE, { input: { events: ['DIRECTORY_PUBLISHED'], ...input } });

  it('refuses URLs that are not http(s), and loopback or private receivers unless the platform allows them', async () => {
    setNotificationPolicy({ allowPrivate: false });
    for (const url of ['ftp://hooks.example.com/x', 'not a url', 'http://user:pw@hooks.example.com/x']) {
      expect(errorCodes(await create(api, { url }))).toEqual(['BAD_USER_INPUT']);
    }
    for (const url of [
      'http://127.0.0.1:9/x',
      'http://localhost:9/x',
      'http://10.1.2.3/x',
      'http://[::1]:9/x',
      'http://169.254.169.254/latest',
      'http://[::ffff:192.168.1.1]/x',
    ]) {
      const response = await create(api, { url });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0].message).toMatch(/loopback or private address.*MULU_WEBHOOK_ALLOW_PRIVATE/);
    }
  });

  it('refuses a secret anyone could guess (spaces, one character repeated) or that a receiver would read trimmed, at registration and on change', async () => {
    setNotificationPolicy({ allowPrivate: true });
    const url = 'http://127.0.0.1:9/mulu';
    const weak = [' '.repeat(16), '\u3000'.repeat(16), 'a'.repeat(40), 'abababababababab', ' s3cr3t-0123456789 ', 's3cr3t 0123456789'];
    for (const secret of weak) {
      const response = await create(api, { url, secret });
      expect([secret, errorCodes(response)]).toEqual([secret, ['BAD_USER_INPUT']]);
      expect(response.errors![0].message).toMatch(/secret/);
    }
    const { webhook } = (await create(api, { url, secret: 'k7#Qv9!mZ2@xL4$w' })).data!.createWebhook;
    for (const secret of weak) {
      const response = await api.request(`mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id } }`, {
        input: { id: webhook.id, secret },
      });
      expect([secret, errorCodes(response)]).toEqual([secret, ['BAD_USER_INPUT']]);
    }
    await api.ok(`mutation($id: ID!) { deleteWebhook(id: $id) { id } }`, { id: webhook.id });
  });

  it('lets a steward register for their own department only; read-only viewers not at all; platform events need an admin webhook for all departments', async () => {
    setNotificationPolicy({ allowPrivate: true });
    const stewardA = await api.asRole('STEWARD', A);
    const viewer = await api.asRole('VIEWER');
    const url = 'http://127.0.0.1:9/hook';
    const own = await create(stewardA, { url });
    expect(own.data!.createWebhook.webhook).toMatchObject({ departmentCreditCode: A, events: ['DIRECTORY_PUBLISHED'], active: true });
    expect(own.data!.createWebhook.secret).toMatch(/^whsec_/);
    expect(errorCodes(await create(stewardA, { url, departmentCreditCode: B }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await create(viewer, { url }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await create(stewardA, { url, events: ['SNAPSHOT_CAPTURED'] }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await create(api, { url, events: ['SNAPSHOT_CAPTURED'] }))).toEqual([]);
    // Another department's steward can neither see nor change it, nor tell it from a webhook that does not exist (ids
    // count up); a viewer is refused for their role whether it exists or not.
    const stewardB = await api.asRole('STEWARD', B);
    const id = own.data!.createWebhook.webhook.id;
    const missing = toGlobalId('Webhook', 999_999);
    const answers = async (caller: ApiClient, webhookId: string) =>
      Promise.all(
        [
          `mutation($id: ID!) { deleteWebhook(id: $id) { id } }`,
          `mutation($id: ID!) { updateWebhook(input: { id: $id, active: false }) { id } }`,
          `mutation($id: ID!) { testWebhook(id: $id) { id } }`,
        ].map(async (document) => (await caller.request(document, { id: webhookId })).errors?.map((e) => [e.extensions?.code, e.message])),
      );
    expect(await answers(stewardB, id)).toEqual(await answers(stewardB, missing));
    expect((await answers(stewardB, id))[0]).toEqual([['NOT_FOUND', 'This webhook does not exist.']]);
    expect(await answers(viewer, id)).toEqual(await answers(viewer, missing));
    expect((await answers(viewer, id))[0]?.[0]?.[0]).toBe('FORBIDDEN');
    expect((await stewardB.ok(`{ webhooks { id } }`)).webhooks).toEqual([]);
    expect((await stewardA.ok(`{ webhooks { id } }`)).webhooks).toEqual([{ id }]);
    const paused = await stewardA.ok(
      `mutation($id: ID!) { updateWebhook(input: { id: $id, active: false, events: [DIRECTORY_WITHDRAWN] }) { active events } }`,
      { id },
    );
    expect(paused.updateWebhook).toEqual({ active: false, events: ['DIRECTORY_WITHDRAWN'] });
    expect((await stewardA.ok(`mutation($id: ID!) { deleteWebhook(id: $id) { id } }`, { id })).deleteWebhook).toEqual({ id });
    expect((await stewardA.ok(`{ webhooks { id } }`)).webhooks).toEqual([]);
  });

  it('takes two changes of one webhook in turn: of two deletions at once one wins and the other is NOT_FOUND, an update after the deletion too', async () => {
    setNotificationPolicy({ allowPrivate: true });
    const stewardA = await api.asRole('STEWARD', A);
    const id = (await create(stewardA, { url: 'http://127.0.0.1:9/race' })).data!.createWebhook.webhook.id;
    const holder = await openConnection(api);
    const observer = await openConnection(api);
    try {
      // Held so that all three reach the webhook before any of them commits.
      await holder.query('begin');
      await holder.query(`select id from webhook where url = 'http://127.0.0.1:9/race' for update`);
      const remove = () => stewardA.request(`mutation($id: ID!) { deleteWebhook(id: $id) { id } }`, { id });
      const first = remove();
      await untilWaiting(observer, 1);
      const second = remove();
      await untilWaiting(observer, 2);
      const update = stewardA.request(`mutation($id: ID!) { updateWebhook(input: { id: $id, active: false }) { id active } }`, { id });
      await untilWaiting(observer, 3);
      await holder.query('commit');
      const answers = await Promise.all([first, second, update]);
      expect(answers.map(errorCodes).sort()).toEqual([[], ['NOT_FOUND'], ['NOT_FOUND']]);
      expect(answers.filter((answer) => !answer.errors)[0].data).toEqual({ deleteWebhook: { id } });
      const audited = await api.orm.em
        .fork()
        .getConnection()
        .execute(`select action from audit_entry where entity_type = 'Webhook' and entity_id = ? and action <> 'createWebhook'`, [fromGlobalId(id).key]);
      expect(audited).toEqual([{ action: 'deleteWebhook' }]);
    } finally {
      await holder.end();
      await observer.end();
    }
  });

  it('pages deliveries forward without passing over one that commits after a page was read with a lower id (ids are drawn in commit order)', async () => {
    setNotificationPolicy({ allowPrivate: true });
    const stewardA = await api.asRole('STEWARD', A);
    const id = (await create(stewardA, { url: 'http://127.0.0.1:9/paging' })).data!.createWebhook.webhook.id;
    const PAGE = `query($after: String) { webhooks { id deliveries(first: 10, after: $after) { edges { node { event { type data } } } pageInfo { endCursor } } } }`;
    const page = async (after: string | null) => {
      const { webhooks } = await stewardA.ok(PAGE, { after });
      return webhooks.find((w: { id: string }) => w.id === id).deliveries as {
        edges: { node: { event: { type: string; data: unknown } } }[];
        pageInfo: { endCursor: string | null };
      };
    };
    const holder = await openConnection(api);
    const other = await openConnection(api);
    const observer = await openConnection(api);
    // The outbox statement as every mutation runs it, on a connection of the test's, with one event for this webhook.
    const emitOn = (client: typeof holder, data: Record<string, unknown>) =>
      emitEvents(
        (sql, params) => client.query(sql.replace('?::jsonb', '$1::jsonb'), params).then((r) => r.rows),
        [{ type: NotificationEventType.WEBHOOK_TEST, departments: [], data, webhookId: Number(fromGlobalId(id).key) }],
      );
    try {
      // A transaction that writes its event (drawing the lower ids) and commits last, as a slow mutation does.
      await holder.query('begin');
      await emitOn(holder, { n: 1 });
      const second = emitOn(other, { n: 2 });
      await finishesOrWaits(observer, second);
      // A page read while the first is not committed; then the next page from its end, once both are.
      const first = await page(null);
      await holder.query('commit');
      await second;
      const next = await page(first.pageInfo.endCursor);
      expect([...first.edges, ...next.edges].map((edge) => edge.node.event.data)).toEqual(['{"n":1}', '{"n":2}']);
    } finally {
      await holder.end();
      await other.end();
      await observer.end();
      await stewardA.ok(`mutation($id: ID!) { deleteWebhook(id: $id) { id } }`, { id });
    }
  });

  // A literal loopback address is refused before connecting; a host name is refused by the guarded DNS lookup of the connection itself.
  it.each([
    ['a literal address', (port: string) => `http://127.0.0.1:${port}/hook`, /^127\.0\.0\.1 is a private or loopback address/],
    ['a host name that resolves to loopback', (port: string) => `http://localhost:${port}/hook`, /localhost resolves to .*, a private or loopback address/],
  ])('testWebhook queues a WEBHOOK_TEST delivery to that webhook; the dispatcher refuses %s', async (_, urlOf, refusal) => {
    setNotificationPolicy({ allowPrivate: true });
    const r = await startWebhookReceiver();
    try {
      // This server refuses private receivers when sending too; this test's receiver is on loopback, so use the allowing setting of a second server.
      const stewardA = await api.asRole('STEWARD', A);
      const { createWebhook } = await stewardA.ok(CREATE, { input: { url: urlOf(new URL(r.url).port), events: ['DIRECTORY_PUBLISHED'] } });
      const { testWebhook } = await stewardA.ok(`mutation($id: ID!) { testWebhook(id: $id) { status attempt event { type } } }`, {
        id: createWebhook.webhook.id,
      });
      expect(testWebhook).toEqual({ status: 'PENDING', attempt: 0, event: { type: 'WEBHOOK_TEST' } });
      // The dispatcher of this server (allowPrivate: false) refuses to connect to loopback: the attempt fails with that reason.
      await new Promise((resolve) => setTimeout(resolve, 300));
      api.server.dispatcher!.wake();
      const deadline = Date.now() + 10_000;
      let delivery: { attempt: number; error: string | null } | undefined;
      while (Date.now() < deadline) {
        const { webhooks } = await stewardA.ok(`{ webhooks { deliveries { edges { node { attempt error } } } } }`);
        delivery = webhooks[0].deliveries.edges[0].node;
        if (delivery!.attempt > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(delivery!.error).toMatch(refusal);
      expect(r.received).toEqual([]);
      await stewardA.ok(`mutation($id: ID!) { deleteWebhook(id: $id) { id } }`, { id: createWebhook.webhook.id });
    } finally {
      await r.close();
    }
  });
});
