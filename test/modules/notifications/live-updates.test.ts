import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { KEY_RECHECK_MS, MAX_SUBSCRIPTIONS_PER_CALLER } from '../../../src/graphql/websocket';
import {
  addDirectory,
  createDepartment,
  createRegions,
  creditCode,
  errorCodes,
  HENAN_ANYANG_YINDU,
  mount,
  HENAN_ANYANG_TWO_DISTRICTS,
} from '../../support/builders';
import { finishesOrWaits, openConnection } from '../../support/locks';
import { startTestServer, type TestServer } from '../../support/test-server';

interface Next {
  data?: any;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** A graphql-ws client on the server's /graphql, with the token in connectionParams; records how the socket closed. */
function wsClient(api: TestServer, token: string | null) {
  const closed: { code: number; reason: string }[] = [];
  const client = createClient({
    url: api.server.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    on: { closed: (event) => closed.push({ code: (event as { code: number }).code, reason: String((event as { reason: unknown }).reason) }) },
  });
  return { client, closed };
}

/**
 * A raw graphql-ws socket, signed in and subscribed to `query`, whose reading
 * the test pauses and resumes (`paused`: as a client whose process hangs, or an
 * attacker's); records when and how it closed and the `next` payloads' data.
 */
async function rawSubscriber(api: TestServer, token: string, query: string, variables: Record<string, unknown>) {
  const socket = new WebSocket(api.server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const state: { closedAt: number | null; closeCode: number | null; data: any[] } = { closedAt: null, closeCode: null, data: [] };
  socket.on('close', (code) => Object.assign(state, { closedAt: Date.now(), closeCode: code }));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (message) => {
      const parsed = JSON.parse(String(message)) as { type: string; payload?: { data?: unknown } };
      if (parsed.type === 'connection_ack') resolve();
      if (parsed.type === 'next') state.data.push(parsed.payload?.data);
    });
  });
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const raw = (socket as unknown as { _socket: import('node:net').Socket })._socket;
  return { socket, state, pause: () => raw.pause(), resume: () => raw.resume() };
}

/** Subscribes and collects what arrives; `next(n)` waits for the n-th message. */
function subscribe(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const messages: Next[] = [];
  let finished: { error?: unknown } | null = null;
  const waiters: (() => void)[] = [];
  const notify = () => waiters.splice(0).forEach((w) => w());
  const dispose = client.subscribe(
    { query, variables },
    {
      next: (value) => {
        messages.push(value as Next);
        notify();
      },
      error: (error) => {
        finished = { error };
        notify();
      },
      complete: () => {
        finished = {};
        notify();
      },
    },
  );
  const until = async (predicate: () => boolean, what: string, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}; got ${JSON.stringify(messages)} ${JSON.stringify(finished)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };
  return {
    messages,
    finished: () => finished,
    next: (n: number) => until(() => messages.length >= n, `message ${n}`),
    end: () => until(() => finished !== null, 'the end of the stream'),
    dispose,
  };
}

const FIGURES = `subscription($code: String!) { figuresChanged(regionCode: $code) { code mountStats { publishedDirectories mountedDirectories dataVolume } } }`;
const EVENTS = `subscription($d: String!) { subscriptionEvents(departmentCreditCode: $d) { id type subscriptionRequest { status requester { creditCode } provider { creditCode } directory { code } } } }`;
const REQUEST = `mutation($i: RequestSubscriptionInput!) { requestSubscription(input: $i) { id status } }`;
const CANCEL_REQUEST = `mutation($id: ID!) { cancelSubscription(input: { id: $id }) { status } }`;

describe('GraphQL subscriptions over graphql-ws', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);
  const B = creditCode('410505', 2);
  const C = creditCode('410502', 1);
  const clients: Client[] = [];
  const open = (token: string | null) => {
    const c = wsClient(api, token);
    clients.push(c.client);
    return c;
  };

  beforeAll(async () => {
    api = await startTestServer({ maxQueryCost: 5000 });
    await createRegions(api, HENAN_ANYANG_TWO_DISTRICTS);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区教育局', regionCode: '410505' });
    await createDepartment(api, { creditCode: C, name: '文峰区民政局', regionCode: '410502' });
  });
  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await api.close();
  });

  it("figuresChanged pushes a region's new figures when a change below it commits, and not another region's", async () => {
    const viewer = open(await api.signToken({ role: 'VIEWER' }));
    const city = subscribe(viewer.client, FIGURES, { code: '410500' });
    const wenfeng = subscribe(viewer.client, FIGURES, { code: '410502' });
    // Let the subscriptions register before the change.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await addDirectory(api, A, 'A-LIVE');
    await city.next(1);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    await mount(api, 'A-LIVE', 1234);
    await city.next(2);
    const last = city.messages.at(-1)!;
    expect(last.errors).toBeUndefined();
    expect(last.data.figuresChanged).toEqual({ code: '410500', mountStats: { publishedDirectories: 1, mountedDirectories: 1, dataVolume: 1234 } });
    expect(city.messages[0].data.figuresChanged.mountStats.publishedDirectories).toBe(1);
    expect(wenfeng.messages).toEqual([]);
  });

  it('coalesces a burst of changes into at most one push per second per region', async () => {
    const viewer = open(await api.signToken({ role: 'VIEWER' }));
    const yindu = subscribe(viewer.client, FIGURES, { code: '410505' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    for (let i = 0; i < 6; i++) await addDirectory(api, B, `B-BURST-${i}`);
    const elapsed = Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Twelve commits changed the region (a register and a publish each); pushes are bounded by the seconds that passed.
    expect(yindu.messages.length).toBeGreaterThanOrEqual(1);
    expect(yindu.messages.length).toBeLessThanOrEqual(Math.ceil(elapsed / 1000) + 2);
    expect(yindu.messages.at(-1)!.data.figuresChanged.mountStats.publishedDirectories).toBe(7);
  });

  it("subscriptionEvents streams a department's request events to its steward and to admins, and refuses another department's steward", async () => {
    await addDirectory(api, A, 'A-COND', { shareType: 'CONDITIONAL' });
    const stewardA = open(await api.signToken({ role: 'STEWARD', department: A, sub: 'steward-a' }));
    const stewardC = open(await api.signToken({ role: 'STEWARD', department: C, sub: 'steward-c' }));
    const admin = open(api.adminToken);
    const ofA = subscribe(stewardA.client, EVENTS, { d: A });
    const ofCByC = subscribe(stewardC.client, EVENTS, { d: C });
    const ofAByC = subscribe(stewardC.client, EVENTS, { d: A });
    const ofAByAdmin = subscribe(admin.client, EVENTS, { d: A });
    await ofAByC.next(1);
    expect(ofAByC.messages[0].errors![0].extensions!.code).toBe('FORBIDDEN');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stewardB = await api.asRole('STEWARD', B);
    const { requestSubscription } = await stewardB.ok(REQUEST, { i: { directory: { code: 'A-COND' }, purpose: '办理低保资格核验' } });
    await ofA.next(1);
    await ofAByAdmin.next(1);
    expect(ofA.messages[0].data.subscriptionEvents).toMatchObject({
      type: 'SUBSCRIPTION_REQUESTED',
      subscriptionRequest: { status: 'PENDING', requester: { creditCode: B }, provider: { creditCode: A }, directory: { code: 'A-COND' } },
    });
    await (
      await api.asRole('STEWARD', A)
    ).ok(`mutation($id: ID!) { rejectSubscriptionRequest(input: { id: $id, reason: "用途不明确" }) { status } }`, { id: requestSubscription.id });
    await ofA.next(2);
    expect(ofA.messages[1].data.subscriptionEvents).toMatchObject({ type: 'SUBSCRIPTION_REJECTED', subscriptionRequest: { status: 'REJECTED' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ofCByC.messages).toEqual([]);
  });

  it('refuses a subscription sent over HTTP as BAD_REQUEST pointing to graphql-ws, whoever sends it (it ran its fields with no event: INTERNAL_SERVER_ERROR)', async () => {
    const stewardC = await api.asRole('STEWARD', C);
    for (const [client, document] of [
      [api, `subscription { figuresChanged(regionCode: "410505") { code } }`],
      [api, `subscription { subscriptionEvents(departmentCreditCode: "${A}") { id } }`],
      [stewardC, `subscription { subscriptionEvents(departmentCreditCode: "${A}") { id } }`],
    ] as const) {
      const response = await client.request(document);
      expect(response).toEqual({ errors: [expect.objectContaining({ extensions: { code: 'BAD_REQUEST' } })] });
      expect(response.errors![0].message).toContain('graphql-ws');
    }
    const anonymous = await api.anonymous.request(`subscription { figuresChanged(regionCode: "410505") { code } }`);
    expect(errorCodes(anonymous)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses connections without a valid token, and operations over the cost limit', async () => {
    const anonymous = open(null);
    const refused = subscribe(anonymous.client, FIGURES, { code: '410500' });
    await refused.end();
    expect(refused.finished()).toMatchObject({ error: [expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })] });
    const expired = open(await api.signToken({ role: 'VIEWER' }, { expiresIn: Math.floor(Date.now() / 1000) - 120 }));
    const stale = subscribe(expired.client, FIGURES, { code: '410500' });
    await stale.end();
    expect(expired.closed[0]).toMatchObject({ code: 4401, reason: expect.stringMatching(/expired/) });

    const viewer = open(await api.signToken({ role: 'VIEWER' }));
    const costly = subscribe(
      viewer.client,
      `subscription { figuresChanged(regionCode: "410500") { children { departments(first: 500) { edges { node { name code: creditCode mountStats { mountRate } } } } } } }`,
    );
    await costly.end();
    expect(costly.finished()).toMatchObject({ error: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })] });
  });

  /** The server still serves: a subscription to 殷都区's figures gets the change a new directory makes. */
  const expectFiguresServed = async (client: Parameters<typeof subscribe>[0], directoryCode: string) => {
    const served = subscribe(client, FIGURES, { code: '410505' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await addDirectory(api, A, directoryCode);
    await served.next(1);
    expect(served.messages[0].data.figuresChanged.code).toBe('410505');
    served.dispose();
  };

  it(`lets one caller hold at most ${MAX_SUBSCRIPTIONS_PER_CALLER} live subscriptions over all its connections, and counts ended ones no more`, async () => {
    const wall = await api.signToken({ role: 'VIEWER', sub: 'dashboard-wall' });
    const first = open(wall);
    const second = open(wall);
    const held = Array.from({ length: MAX_SUBSCRIPTIONS_PER_CALLER }, (_, i) => subscribe(i % 2 ? first.client : second.client, FIGURES, { code: '410505' }));
    // Each was accepted: a refused one would end at once.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(held.filter((s) => s.finished() !== null)).toEqual([]);

    const over = subscribe(first.client, FIGURES, { code: '410505' });
    await over.end();
    expect(over.finished()).toEqual({
      error: [
        expect.objectContaining({
          message: `You already hold ${MAX_SUBSCRIPTIONS_PER_CALLER} live subscriptions, the most one caller may hold at once; complete some you no longer need before starting another.`,
          extensions: { code: 'BAD_USER_INPUT' },
        }),
      ],
    });
    // Another caller is not affected.
    const other = open(await api.signToken({ role: 'VIEWER', sub: 'someone-else' }));
    await expectFiguresServed(other.client, 'A-OTHER-CALLER');

    // A completed subscription, and every subscription of a closed connection, no longer count.
    held[0].dispose();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expectFiguresServed(first.client, 'A-AFTER-COMPLETE');
    await second.client.dispose();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const again = Array.from({ length: MAX_SUBSCRIPTIONS_PER_CALLER / 2 }, () => subscribe(first.client, FIGURES, { code: '410500' }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(again.filter((s) => s.finished() !== null)).toEqual([]);
    await first.client.dispose();
  });

  it("refuses a subscription's argument holding a NUL as GraphQL does, naming it, and the connection serves on", async () => {
    const viewer = open(await api.signToken({ role: 'VIEWER' }));
    for (const [query, variables, field, position] of [
      [FIGURES, { code: '41\u00000' }, 'regionCode', 3],
      [EVENTS, { d: `${A}\u0000` }, 'departmentCreditCode', 19],
    ] as const) {
      const refused = subscribe(viewer.client, query, variables);
      await refused.end();
      expect(refused.messages.map((m) => m.errors?.map((e) => [e.extensions?.code, e.message]))).toEqual([
        [['BAD_USER_INPUT', `${field} contains the control character U+0000 at position ${position}; only tab and newline are allowed.`]],
      ]);
    }
    await expectFiguresServed(viewer.client, 'A-AFTER-NUL');
  });

  it('closes a connection whose message is larger than a POSTed GraphQL body may be (20 MB), before reading it', async () => {
    const closed = await new Promise<number>((resolve) => {
      // Anyone may open the socket: the message comes before connection_init, as an attacker's would.
      const socket = new WebSocket(api.server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      socket.on('open', () => socket.send(Buffer.alloc(20 * 1024 * 1024 + 1, 0x20)));
      socket.on('error', () => undefined);
      socket.on('close', (code) => resolve(code));
    });
    // 1009: message too big (ws's default allowed 100 MiB, buffered whole, from anyone).
    expect(closed).toBe(1009);
    const viewer = open(await api.signToken({ role: 'VIEWER' }));
    await expectFiguresServed(viewer.client, 'A-AFTER-BIG');
  });

  it("closes an API key's connection once the key is revoked: no push after it, nor another operation", async () => {
    await addDirectory(api, A, 'A-KEYED', { shareType: 'CONDITIONAL' });
    const { secret, apiKey } = (await api.ok(`mutation { createApiKey(input: { name: "推送订阅", departmentCreditCode: "${A}" }) { secret apiKey { id } } }`))
      .createApiKey;
    const machine = open(secret);
    const events = subscribe(machine.client, EVENTS, { d: A });
    const idle = open(secret);
    await subscribe(idle.client, `{ viewer { kind } }`).next(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stewardB = await api.asRole('STEWARD', B);
    const requested = (await stewardB.ok(REQUEST, { i: { directory: { code: 'A-KEYED' }, purpose: '核验' } })).requestSubscription;
    await events.next(1);
    await api.ok('mutation($id: ID!) { revokeApiKey(input: { id: $id }) { revokedAt } }', { id: apiKey.id });
    // Past the interval within which a connection's key is taken as checked.
    await new Promise((resolve) => setTimeout(resolve, KEY_RECHECK_MS + 200));
    await stewardB.ok(CANCEL_REQUEST, { id: requested.id });
    await events.end();
    expect(machine.closed[0]).toMatchObject({ code: 4401, reason: 'This API key has been revoked; sign in with a valid one.' });
    // The cancellation's push was not sent: the connection was closed before it.
    expect(events.messages.map((m) => m.data?.subscriptionEvents?.type)).toEqual(['SUBSCRIPTION_REQUESTED']);
    // A connection opened before the revocation and idle since: its next operation closes it, unanswered.
    const late = subscribe(idle.client, `{ viewer { kind } }`);
    await late.end();
    expect(late.messages).toEqual([]);
    expect(idle.closed[0]).toMatchObject({ code: 4401 });
  });

  it('closes a connection when its token expires', async () => {
    const shortLived = open(await api.signToken({ role: 'VIEWER' }, { expiresIn: Math.floor(Date.now() / 1000) + 2 }));
    const stream = subscribe(shortLived.client, FIGURES, { code: '410500' });
    await stream.end();
    expect(shortLived.closed[0]).toMatchObject({ code: 4401, reason: 'The token has expired; sign in again.' });
  });
  it("hears, once, what was committed while the server's listening connection was away, and goes on hearing", async () => {
    await addDirectory(api, A, 'A-AWAY');
    const figures = subscribe(open(await api.signToken({ role: 'VIEWER' })).client, FIGURES, { code: '410505' });
    const events = subscribe(open(await api.signToken({ role: 'STEWARD', department: A, sub: 'steward-a-away' })).client, EVENTS, { d: A });
    // Past the coalescing second of the directory's own change, before anything else changes.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    figures.messages.length = 0;
    const observer = await openConnection(api);
    const holder = await openConnection(api);
    try {
      // The request (granted at once: an unconditional share) waits on 殷都区's figures row until the listener is gone.
      await holder.query('begin');
      await holder.query(`select 1 from region_figures where region_code = '410505' for update`);
      const stewardB = await api.asRole('STEWARD', B);
      const requested = stewardB.ok(REQUEST, { i: { directory: { code: 'A-AWAY' }, purpose: '办理低保资格核验' } });
      expect(await finishesOrWaits(observer, requested)).toBe('waits');
      const { rows } = await observer.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and query ilike 'listen %'`);
      expect(rows).toHaveLength(1);
      await observer.query('select pg_terminate_backend($1, 5000)', [rows[0].pid]);
      // It commits, and PostgreSQL notifies, while the listener is away (it is reopened a second later).
      await holder.query('rollback');
      const { requestSubscription } = await requested;
      await figures.next(1);
      await events.next(1);
      expect(figures.messages[0].data.figuresChanged.code).toBe('410505');
      expect(events.messages[0].data.subscriptionEvents).toMatchObject({ type: 'SUBSCRIPTION_REQUESTED', subscriptionRequest: { status: 'GRANTED' } });

      await stewardB.ok(`mutation($id: ID!) { cancelSubscription(input: { id: $id }) { status } }`, { id: requestSubscription.id });
      await events.next(2);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(events.messages.map((m) => m.data.subscriptionEvents.type)).toEqual(['SUBSCRIPTION_REQUESTED', 'SUBSCRIPTION_CANCELLED']);
    } finally {
      await holder.end();
      await observer.end();
    }
  });
});

describe('a graphql-ws client that stops reading', () => {
  // Long enough that a reader on a loaded machine answers each ping in time.
  const STALL_MS = 2000;
  let api: TestServer;
  const A = creditCode('410505', 1);

  beforeAll(async () => {
    api = await startTestServer({ sendStallMs: STALL_MS });
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
  });
  afterAll(() => api.close());

  it('is cut once it leaves a ping unanswered for the stall time, while a client that reads keeps its subscription', async () => {
    const token = await api.signToken({ role: 'VIEWER' });
    // A raw client that subscribes, then stops reading its socket (as a client whose process hangs, or an attacker's).
    const stalled = await rawSubscriber(api, token, FIGURES, { code: '410505' });
    const reader = wsClient(api, token);
    const stream = subscribe(reader.client, FIGURES, { code: '410505' });
    stalled.pause();

    // Two pings at most go unanswered; then the server has closed its end, which the client sees once it reads again.
    await new Promise((resolve) => setTimeout(resolve, 3 * STALL_MS));
    const resumedAt = Date.now();
    stalled.resume();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(stalled.state.closedAt).not.toBeNull();
    expect(stalled.state.closedAt!).toBeGreaterThanOrEqual(resumedAt);

    // The client that reads answered every ping: it is still subscribed and hears the next change.
    expect(reader.closed).toEqual([]);
    await addDirectory(api, A, 'AFTER-STALL');
    await stream.next(1);
    expect(stream.messages[0].data.figuresChanged.code).toBe('410505');
    await reader.client.dispose();
  });
});

describe('a graphql-ws client that reads slowly', () => {
  // Longer than graphql-ws's own keep-alive (a ping every 12 s, a pong due within 12 s): the configured time rules alone.
  const STALL_MS = 30_000;
  let api: TestServer;
  const A = creditCode('410505', 1);

  beforeAll(async () => {
    api = await startTestServer({ sendStallMs: STALL_MS });
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
  });
  afterAll(() => api.close());

  it('keeps a connection that reads nothing for 25 s, within the stall time, and it hears the next change', async () => {
    const token = await api.signToken({ role: 'VIEWER' });
    const slow = await rawSubscriber(api, token, FIGURES, { code: '410505' });
    slow.pause();
    // graphql-ws's keep-alive would ping within 12 s and cut the connection 12 s later.
    await new Promise((resolve) => setTimeout(resolve, 25_000));
    slow.resume();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(slow.state.closeCode).toBeNull();
    await addDirectory(api, A, 'AFTER-SLOW');
    const deadline = Date.now() + 15_000;
    while (slow.state.data.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect([slow.state.closeCode, slow.state.data.map((d) => d.figuresChanged.code)]).toEqual([null, ['410505']]);
    slow.socket.close();
  });
});
