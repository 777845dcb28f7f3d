import { departmentFiguresService } from '../../../src/modules/stats/department-figures.service';
import { addDirectory, createDepartment, createRegions, creditCode, errorCodes, HENAN_ANYANG_TWO_DISTRICTS, HENAN_ANYANG_YINDU } from '../../support/builders';
import type { Client } from 'pg';
import { finishesOrWaits, openConnection, untilWaiting } from '../../support/locks';
import { startTestServer, type ApiClient, type TestServer } from '../../support/test-server';

const REQUEST = `mutation($i: RequestSubscriptionInput!) { requestSubscription(input: $i) { id status endDate provider { name } requester { name } directory { code } } }`;
const DECIDE = (name: string) => `mutation($id: ID!, $reason: String) { ${name}(input: { id: $id, reason: $reason }) { id status decisionReason } }`;
const CANCEL = `mutation($id: ID!) { cancelSubscription(input: { id: $id }) { id status } }`;

// A and B in Yindu, C in Wenfeng: regions sum their own departments.
const A = creditCode('410505', 1);
const B = creditCode('410505', 2);
const C = creditCode('410502', 1);

const request = (client: ApiClient, code: string, extra: Record<string, unknown> = {}) =>
  client.request(REQUEST, { i: { directory: { code }, purpose: '办理低保资格核验', ...extra } });

/** The regions and the three departments both suites start from, with a steward of each. */
async function threeDepartments(api: TestServer): Promise<{ stewardA: ApiClient; stewardB: ApiClient; stewardC: ApiClient }> {
  await createRegions(api, HENAN_ANYANG_TWO_DISTRICTS);
  await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
  await createDepartment(api, { creditCode: B, name: '殷都区教育局', regionCode: '410505' });
  await createDepartment(api, { creditCode: C, name: '文峰区民政局', regionCode: '410502' });
  return { stewardA: await api.asRole('STEWARD', A), stewardB: await api.asRole('STEWARD', B), stewardC: await api.asRole('STEWARD', C) };
}

describe('subscription requests (订阅)', () => {
  let api: TestServer;
  let stewardA: ApiClient;
  let stewardB: ApiClient;
  let stewardC: ApiClient;
  const stats = async () =>
    api.ok(`{
      a: department(creditCode: "${A}") { subscriptionStats { made received pending } }
      b: department(creditCode: "${B}") { subscriptionStats { made received pending } }
      c: department(creditCode: "${C}") { subscriptionStats { made received pending } }
      yindu: region(code: "410505") { subscriptionStats { made received pending } }
      wenfeng: region(code: "410502") { subscriptionStats { made received pending } }
      city: region(code: "410500") { subscriptionStats { made received pending } }
    }`);

  beforeAll(async () => {
    api = await startTestServer();
    ({ stewardA, stewardB, stewardC } = await threeDepartments(api));
    await addDirectory(api, A, 'A-OPEN');
    await addDirectory(api, A, 'A-COND', { shareType: 'CONDITIONAL' });
    await addDirectory(api, A, 'A-COND2', { shareType: 'CONDITIONAL' });
    await addDirectory(api, A, 'A-COND3', { shareType: 'CONDITIONAL' });
    await addDirectory(api, A, 'A-SECRET', { shareType: 'NOT_SHARED' });
    await addDirectory(api, A, 'A-DRAFT', { publish: false });
    await addDirectory(api, A, 'A-LATER', { shareType: 'CONDITIONAL' });
    await addDirectory(api, B, 'B-OPEN');
  });
  afterAll(() => api.close());

  it('grants an unconditionally shared directory at once', async () => {
    const response = await request(stewardB, 'A-OPEN', { endDate: '2099-12-31' });
    expect(response.data!.requestSubscription).toMatchObject({
      status: 'GRANTED',
      endDate: '2099-12-31',
      provider: { name: '殷都区民政局' },
      requester: { name: '殷都区教育局' },
    });
  });

  it('keeps a conditionally shared one pending until the provider approves', async () => {
    const { id, status } = (await request(stewardB, 'A-COND')).data!.requestSubscription;
    expect(status).toBe('PENDING');
    const queue = await stewardA.ok(`{ subscriptionQueue { edges { node { id status requester { creditCode } } } } }`);
    expect(queue.subscriptionQueue.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([id]);
    const approved = await stewardA.ok(DECIDE('approveSubscriptionRequest'), { id, reason: null });
    expect(approved.approveSubscriptionRequest.status).toBe('GRANTED');
    expect((await stewardA.ok(`{ subscriptionQueue { edges { node { id } } } }`)).subscriptionQueue.edges).toEqual([]);
  });

  it('refuses to approve a request whose directory was withdrawn or stopped being shared meanwhile', async () => {
    // A department of its own, so the other tests' counts stay as they are.
    const D = creditCode('410505', 9);
    await createDepartment(api, { creditCode: D, name: '殷都区审计局', regionCode: '410505' });
    const { id } = (await request(await api.asRole('STEWARD', D), 'A-LATER')).data!.requestSubscription;
    await api.ok(`mutation { withdrawDirectory(input: { directory: { code: "A-LATER" } }) { status } }`);
    const withdrawn = await stewardA.request(DECIDE('approveSubscriptionRequest'), { id, reason: null });
    expect(errorCodes(withdrawn)).toEqual(['CONFLICT']);
    expect(withdrawn.errors?.[0].message).toContain('no longer published');
    await api.ok(`mutation { publishDirectory(input: { directory: { code: "A-LATER" } }) { status } }`);
    await api.ok(`mutation { updateDirectory(input: { directory: { code: "A-LATER" }, shareType: NOT_SHARED, shareConditions: "依法不予共享" }) { status } }`);
    expect(errorCodes(await stewardA.request(DECIDE('approveSubscriptionRequest'), { id, reason: null }))).toEqual(['CONFLICT']);
    const rejected = await stewardA.ok(DECIDE('rejectSubscriptionRequest'), { id, reason: '目录已不予共享' });
    expect(rejected.rejectSubscriptionRequest.status).toBe('REJECTED');
  });

  it('needs a reason to reject', async () => {
    const { id } = (await request(stewardC, 'A-COND2')).data!.requestSubscription;
    expect(errorCodes(await stewardA.request(DECIDE('rejectSubscriptionRequest'), { id, reason: '  ' }))).toEqual(['BAD_USER_INPUT']);
    const rejected = await stewardA.ok(DECIDE('rejectSubscriptionRequest'), { id, reason: '用途与共享条件不符' });
    expect(rejected.rejectSubscriptionRequest).toMatchObject({ status: 'REJECTED', decisionReason: '用途与共享条件不符' });
    // A rejected request is not live: the department may ask again.
    expect((await request(stewardC, 'A-COND2')).data!.requestSubscription.status).toBe('PENDING');
  });

  it('refuses directories that are not shared, not published, or the requester’s own', async () => {
    const secret = await request(stewardB, 'A-SECRET');
    expect(errorCodes(secret)).toEqual(['BAD_USER_INPUT']);
    expect(secret.errors![0].message).toMatch(/not shared/);
    expect(secret.errors![0].extensions!.reason).toBe('NOT_SHARED');
    // Another department's draft is not there for B (its unpublished work): as a code without a directory.
    expect(errorCodes(await request(stewardB, 'A-DRAFT'))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await request(stewardA, 'A-OPEN'))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await request(stewardB, 'A-OPEN', { endDate: '2000-01-01', purpose: 'x' }))).toEqual(['BAD_USER_INPUT']);
  });

  it('allows one live request per directory and department', async () => {
    const again = await request(stewardB, 'A-OPEN');
    expect(errorCodes(again)).toEqual(['CONFLICT']);
    expect(again.errors![0].message).toMatch(/already has a granted request/);
  });

  it('turns illegal transitions into CONFLICT', async () => {
    const granted = (
      await api.ok(`{ department(creditCode: "${B}") { subscriptionsMade(status: GRANTED) { edges { node { id directory { code } } } } } }`)
    ).department.subscriptionsMade.edges.map((e: { node: { id: string } }) => e.node.id);
    expect(granted).toHaveLength(2);
    expect(errorCodes(await stewardA.request(DECIDE('approveSubscriptionRequest'), { id: granted[0] }))).toEqual(['CONFLICT']);
    expect(errorCodes(await stewardA.request(DECIDE('rejectSubscriptionRequest'), { id: granted[0], reason: 'r' }))).toEqual(['CONFLICT']);
  });

  it('counts granted, live subscriptions made and received, and pending ones, for departments and summed for regions', async () => {
    // B made 2 granted (A-OPEN, A-COND); C has 1 pending (A-COND2) with A.
    expect(await stats()).toEqual({
      a: { subscriptionStats: { made: 0, received: 2, pending: 1 } },
      b: { subscriptionStats: { made: 2, received: 0, pending: 0 } },
      c: { subscriptionStats: { made: 0, received: 0, pending: 0 } },
      yindu: { subscriptionStats: { made: 2, received: 2, pending: 1 } },
      wenfeng: { subscriptionStats: { made: 0, received: 0, pending: 0 } },
      city: { subscriptionStats: { made: 2, received: 2, pending: 1 } },
    });
  });

  it('lets the provider revoke and the requester cancel, and neither twice', async () => {
    const made = (await stewardB.ok(`{ department(creditCode: "${B}") { subscriptionsMade(status: GRANTED) { edges { node { id directory { code } } } } } }`))
      .department.subscriptionsMade.edges;
    const byCode = Object.fromEntries(made.map((e: { node: { id: string; directory: { code: string } } }) => [e.node.directory.code, e.node.id]));
    expect((await stewardA.ok(DECIDE('revokeSubscription'), { id: byCode['A-COND'], reason: '共享条件变化' })).revokeSubscription.status).toBe('REVOKED');
    expect(errorCodes(await stewardA.request(DECIDE('revokeSubscription'), { id: byCode['A-COND'] }))).toEqual(['CONFLICT']);
    expect((await stewardB.ok(CANCEL, { id: byCode['A-OPEN'] })).cancelSubscription.status).toBe('CANCELLED');
    expect(errorCodes(await stewardB.request(CANCEL, { id: byCode['A-OPEN'] }))).toEqual(['CONFLICT']);
    const statuses = (
      await api.ok(`{ department(creditCode: "${A}") { subscriptionsReceived { edges { node { status } } } } }`)
    ).department.subscriptionsReceived.edges.map((e: { node: { status: string } }) => e.node.status);
    // Two rejected: C's first request, and the request on the directory that stopped being shared.
    expect(statuses.sort()).toEqual(['CANCELLED', 'PENDING', 'REJECTED', 'REJECTED', 'REVOKED']);
  });

  it('lapses a granted subscription after its end date, when read, and lets the department ask again', async () => {
    const { id } = (await stewardB.ok(REQUEST, { i: { directory: { code: 'A-OPEN' }, purpose: '办理', endDate: '2099-01-01' } })).requestSubscription;
    expect((await stats()).b.subscriptionStats.made).toBe(1);
    // Time passes: the end date is yesterday.
    await api.orm.em.getConnection().execute(`update subscription_request set end_date = current_date - 2 where status = 'GRANTED'`);
    const read = await api.ok(`query($id: ID!) { node(id: $id) { ... on SubscriptionRequest { status } } }`, { id });
    expect(read.node.status).toBe('LAPSED');
    // The stored counts follow the clock at the server's periodic recount (every five minutes).
    expect(await departmentFiguresService.refreshStaleness(api.orm.em.fork())).toBeGreaterThan(0);
    expect((await stats()).b.subscriptionStats).toEqual({ made: 0, received: 0, pending: 0 });
    const lapsed = await api.ok(`{ department(creditCode: "${B}") { subscriptionsMade(status: LAPSED) { edges { node { id } } } } }`);
    expect(lapsed.department.subscriptionsMade.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([id]);
    expect(errorCodes(await stewardA.request(DECIDE('revokeSubscription'), { id }))).toEqual(['CONFLICT']);
    expect((await request(stewardB, 'A-OPEN')).data!.requestSubscription.status).toBe('GRANTED');
  });

  it('lets exactly one of two simultaneous approvals succeed', async () => {
    const { id } = (await request(stewardB, 'A-COND3')).data!.requestSubscription;
    const admin: ApiClient = api;
    const results = await Promise.all([
      stewardA.request(DECIDE('approveSubscriptionRequest'), { id }),
      admin.request(DECIDE('approveSubscriptionRequest'), { id }),
    ]);
    expect(results.map(errorCodes).sort()).toEqual([[], ['CONFLICT']]);
    const audit = await api.ok(
      `query($id: String!) { auditEntries(filter: { entityType: "SubscriptionRequest", entityId: $id }) { edges { node { action } } } }`,
      {
        id: String(Buffer.from(id, 'base64url').toString().split(':')[1]),
      },
    );
    expect(audit.auditEntries.edges.map((e: { node: { action: string } }) => e.node.action)).toEqual(['requestSubscription', 'approveSubscriptionRequest']);
  });

  it('reads statistics of many departments in a fixed number of statements', async () => {
    const query = `{ region(code: "410500") { subscriptionStats { made } children { subscriptionStats { made } departments { edges { node { subscriptionStats { made received pending } } } } } } }`;
    await api.ok(query);
    api.sql.reset();
    // Computed afresh, not taken from the response cache.
    const response = await api.request(query, undefined, { 'cache-control': 'no-cache' });
    expect(response.errors).toBeUndefined();
    // region, its subscription stats, children, their stats (one batch), departments (one batch), their stats (one batch);
    // the response cache sends nothing for a no-cache request
    expect(api.sql.count).toBeLessThanOrEqual(6);
  });
});

/**
 * An approval re-checks that the directory is still published and shared; a
 * withdrawal committing between that check and the grant would leave a
 * withdrawn directory granted. A connection of the test locks the directory
 * as a withdrawal does, a real withdrawal queues behind it, then the approval
 * is sent: it must wait for the withdrawal, then see it.
 */
describe('an approval racing a withdrawal of the directory', () => {
  let api: TestServer;
  let holder: Client & { pid: number };
  let observer: Client;

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区教育局', regionCode: '410505' });
    await addDirectory(api, A, 'A-RACE', { shareType: 'CONDITIONAL' });
    holder = await openConnection(api);
    observer = await openConnection(api);
  });
  afterAll(async () => {
    await holder?.end();
    await observer?.end();
    await api?.close();
  });

  it('waits for the withdrawal and refuses to grant the withdrawn directory', async () => {
    const stewardB = await api.asRole('STEWARD', B);
    const stewardA = await api.asRole('STEWARD', A);
    const { id } = (await stewardB.ok(REQUEST, { i: { directory: { code: 'A-RACE' }, purpose: '办理低保资格核验' } })).requestSubscription;

    await holder.query('begin');
    await holder.query(`select id from resource_directory where code = 'A-RACE' for update`);
    const withdrawal = stewardA.request(`mutation { withdrawDirectory(input: { directory: { code: "A-RACE" } }) { status } }`);
    const withdrawing = await untilWaiting(observer, 1);
    const approval = stewardA.request(DECIDE('approveSubscriptionRequest'), { id, reason: null });
    const outcome = await finishesOrWaits(observer, approval, withdrawing);
    await holder.query('commit');
    expect(outcome).toBe('waits');

    expect((await withdrawal).data).toEqual({ withdrawDirectory: { status: 'WITHDRAWN' } });
    const approved = await approval;
    expect(errorCodes(approved)).toEqual(['CONFLICT']);
    expect(approved.errors?.[0].message).toContain('no longer published');
    const read = await api.ok(`query($id: ID!) { node(id: $id) { ... on SubscriptionRequest { status } } }`, { id });
    expect(read.node.status).toBe('PENDING');
    const stats = await api.ok(
      `{ a: department(creditCode: "${A}") { subscriptionStats { received pending } } b: department(creditCode: "${B}") { subscriptionStats { made } } }`,
    );
    expect(stats).toEqual({ a: { subscriptionStats: { received: 0, pending: 1 } }, b: { subscriptionStats: { made: 0 } } });
  });
});

describe('who reads subscription requests', () => {
  let api: TestServer;
  let stewardA: ApiClient;
  let stewardB: ApiClient;
  let stewardC: ApiClient;

  beforeAll(async () => {
    api = await startTestServer();
    ({ stewardA, stewardB, stewardC } = await threeDepartments(api));
  });
  afterAll(() => api.close());

  it('shows a request (its purpose, who asked) to the stewards of its two departments and administrators only, on every path to it', async () => {
    await addDirectory(api, A, 'A-PRIVATE', { shareType: 'CONDITIONAL' });
    const { id } = (await request(stewardB, 'A-PRIVATE', { purpose: '核验在校学生家庭低保身份' })).data!.requestSubscription;
    const viewer = await api.asRole('VIEWER');
    const paths: [string, string][] = [
      ['queue', `{ subscriptionQueue(departmentCreditCode: "${A}") { edges { node { purpose } } } }`],
      ['received', `{ department(creditCode: "${A}") { subscriptionsReceived { edges { node { purpose } } } } }`],
      ['made', `{ department(creditCode: "${B}") { subscriptionsMade { edges { node { purpose } } } } }`],
      ['through a region', `{ region(code: "410505") { departments(first: 10) { edges { node { subscriptionsMade { edges { node { purpose } } } } } } } }`],
      ['node', `{ node(id: "${id}") { ... on SubscriptionRequest { purpose requestedBy } } }`],
    ];
    const missing = Buffer.from('SubscriptionRequest:999999').toString('base64url');
    for (const [who, client] of [
      ['a third department', stewardC],
      ['a viewer', viewer],
    ] as const) {
      // node(id:) answers as for an id without a request: a refusal would say the request exists.
      const answers = [await client.request(paths[4][1]), await client.request(paths[4][1].replace(id, missing))];
      expect([who, answers]).toEqual([who, [{ data: { node: null } }, { data: { node: null } }]]);
    }
    for (const [path, query] of paths.slice(0, 4)) {
      for (const [who, client] of [
        ['a third department', stewardC],
        ['a viewer', viewer],
      ] as const) {
        const refused = await client.request(query);
        // One error for each department the path reaches.
        expect([path, who, [...new Set(errorCodes(refused))]]).toEqual([path, who, ['FORBIDDEN']]);
        expect(JSON.stringify(refused)).not.toContain('核验在校学生家庭低保身份');
      }
    }
    expect(JSON.stringify(await stewardA.ok(paths[0][1]))).toContain('核验在校学生家庭低保身份');
    expect(JSON.stringify(await stewardA.ok(paths[1][1]))).toContain('核验在校学生家庭低保身份');
    expect(JSON.stringify(await stewardB.ok(paths[2][1]))).toContain('核验在校学生家庭低保身份');
    expect(JSON.stringify(await api.ok(paths[3][1]))).toContain('核验在校学生家庭低保身份');
    for (const party of [stewardA, stewardB, api]) expect((await party.ok(paths[4][1])).node.purpose).toBe('核验在校学生家庭低保身份');
    // The counts stay everyone's.
    expect((await viewer.ok(`{ department(creditCode: "${A}") { subscriptionStats { pending } } }`)).department.subscriptionStats.pending).toBeGreaterThan(0);
  });
});
