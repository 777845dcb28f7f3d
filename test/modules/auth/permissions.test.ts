import { addDirectory, createDepartment, createRegions, creditCode, errorCodes, mount } from '../../support/builders';
import { fromGlobalId } from '../../../src/graphql/global-id';
import { openConnection, untilWaiting } from '../../support/locks';
import { startTestServer, type ApiClient, type TestServer } from '../../support/test-server';

/**
 * Every mutation, refused for each role that must not run it (FORBIDDEN),
 * and for a missing or bad token (UNAUTHENTICATED). Department A provides
 * directories, B subscribes, C is a third department.
 */
describe('who may run which mutation', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);
  const B = creditCode('410505', 2);
  const C = creditCode('410505', 3);
  const clients: Record<string, ApiClient> = {};
  let mountId: string;
  let pendingId: string;
  let grantedId: string;
  let apiKeyId: string;

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区教育局', regionCode: '410505' });
    await createDepartment(api, { creditCode: C, name: '殷都区司法局', regionCode: '410505' });
    await addDirectory(api, A, 'A-DRAFT', { publish: false });
    await addDirectory(api, A, 'A-PUB');
    await addDirectory(api, A, 'A-COND', { shareType: 'CONDITIONAL' });
    await addDirectory(api, A, 'A-OPEN');
    mountId = await mount(api, 'A-PUB', 10);
    await api.ok(`mutation { createSupervisionMainItem(input: { departmentCreditCode: "${A}", code: "M1", name: "检查", legalBasis: "法" }) { code } }`);
    await api.ok(`mutation { createSupervisionMainItem(input: { departmentCreditCode: "${A}", code: "M2", name: "处罚", legalBasis: "法" }) { code } }`);
    await api.ok(
      `mutation { createSupervisionSubItem(input: { departmentCreditCode: "${A}", mainItemCode: "M1", code: "S1", name: "检查子项", category: INSPECTION }) { code } }`,
    );
    const requestAs = async (code: string) =>
      (
        await api.ok(`mutation($i: RequestSubscriptionInput!) { requestSubscription(input: $i) { id } }`, {
          i: { directory: { code }, requesterCreditCode: B, purpose: '办事' },
        })
      ).requestSubscription.id;
    pendingId = await requestAs('A-COND');
    grantedId = await requestAs('A-OPEN');
    apiKeyId = (await api.ok(`mutation { createApiKey(input: { name: "推送", departmentCreditCode: "${A}" }) { apiKey { id } } }`)).createApiKey.apiKey.id;
    clients.viewer = await api.asRole('VIEWER');
    clients.stewardA = await api.asRole('STEWARD', A);
    clients.stewardB = await api.asRole('STEWARD', B);
    clients.stewardC = await api.asRole('STEWARD', C);
  });
  afterAll(() => api.close());

  const cases: { mutation: string; document: () => [string, Record<string, unknown>]; refuse: string[]; hide?: string[] }[] = [
    {
      mutation: 'createRegion',
      document: () => ['mutation { createRegion(input: { code: "410502", name: "文峰区" }) { code } }', {}],
      refuse: ['viewer', 'stewardA'],
    },
    {
      mutation: 'createDepartment',
      document: () => [`mutation { createDepartment(input: { creditCode: "${creditCode('410505', 9)}", name: "新部门", regionCode: "410505" }) { id } }`, {}],
      refuse: ['viewer', 'stewardA'],
    },
    {
      mutation: 'registerDirectory',
      document: () => [
        `mutation { registerDirectory(input: { code: "A-NEW", name: "新资源", departmentCreditCode: "${A}", resourceFormat: DATABASE, shareType: UNCONDITIONAL, updateCycle: MONTHLY }) { id } }`,
        {},
      ],
      refuse: ['viewer', 'stewardB'],
    },
    {
      mutation: 'updateDirectory',
      document: () => ['mutation { updateDirectory(input: { directory: { code: "A-PUB" }, summary: "改" }) { id } }', {}],
      refuse: ['viewer', 'stewardB'],
    },
    {
      mutation: 'publishDirectory',
      document: () => ['mutation { publishDirectory(input: { directory: { code: "A-DRAFT" } }) { id } }', {}],
      // Another department's steward is answered NOT_FOUND: a draft is not there for them (drafts.test.ts).
      refuse: ['viewer'],
    },
    {
      mutation: 'withdrawDirectory',
      document: () => ['mutation { withdrawDirectory(input: { directory: { code: "A-PUB" } }) { id } }', {}],
      refuse: ['viewer', 'stewardB'],
    },
    {
      mutation: 'mountDataset',
      document: () => ['mutation { mountDataset(input: { directory: { code: "A-PUB" }, kind: TABLE, locator: "ods.x", recordCount: 1 }) { id } }', {}],
      refuse: ['viewer', 'stewardB'],
    },
    {
      mutation: 'refreshMount',
      document: () => ['mutation($id: ID!) { refreshMount(input: { mountId: $id, recordCount: 2 }) { id } }', { id: mountId }],
      refuse: ['viewer', 'stewardB'],
    },
    {
      mutation: 'unmountDataset',
      document: () => ['mutation($id: ID!) { unmountDataset(input: { mountId: $id }) { id } }', { id: mountId }],
      refuse: ['viewer', 'stewardB'],
    },
    {
      mutation: 'createSupervisionMainItem',
      document: () => [`mutation { createSupervisionMainItem(input: { departmentCreditCode: "${A}", code: "M9", name: "x", legalBasis: "法" }) { code } }`, {}],
      refuse: ['viewer', 'stewardB'],
    },
    {
      mutation: 'createSupervisionSubItem',
      document: () => [
        `mutation { createSupervisionSubItem(input: { departmentCreditCode: "${A}", mainItemCode: "M1", code: "S9", name: "x", category: PENALTY }) { code } }`,
        {},
      ],
      refuse: ['viewer', 'stewardB'],
    },
    {
      mutation: 'moveSupervisionSubItem',
      document: () => [`mutation { moveSupervisionSubItem(input: { departmentCreditCode: "${A}", subItemCode: "S1", toMainItemCode: "M2" }) { code } }`, {}],
      refuse: ['viewer', 'stewardB'],
    },
    {
      mutation: 'ingestSupervisionRecords',
      document: () => [
        `mutation { ingestSupervisionRecords(input: { departmentCreditCode: "${A}", records: [{ subItemCode: "S1", source: "t", externalId: "1", occurredAt: "2023-06-01T00:00:00Z" }] }) { accepted } }`,
        {},
      ],
      refuse: ['viewer', 'stewardB'],
    },
    {
      mutation: 'createApiKey',
      document: () => [`mutation { createApiKey(input: { name: "k", departmentCreditCode: "${A}" }) { secret } }`, {}],
      refuse: ['viewer', 'stewardA'],
    },
    {
      mutation: 'revokeApiKey',
      document: () => ['mutation($id: ID!) { revokeApiKey(input: { id: $id }) { id } }', { id: apiKeyId }],
      refuse: ['viewer', 'stewardA'],
    },
    {
      mutation: 'requestSubscription (for another department)',
      document: () => [`mutation { requestSubscription(input: { directory: { code: "A-PUB" }, requesterCreditCode: "${B}", purpose: "p" }) { id } }`, {}],
      refuse: ['viewer', 'stewardC'],
    },
    {
      mutation: 'approveSubscriptionRequest',
      document: () => ['mutation($id: ID!) { approveSubscriptionRequest(input: { id: $id }) { id } }', { id: pendingId }],
      refuse: ['viewer', 'stewardB'],
      // A third department's steward: answered as for an id without a request, as node(id:) answers null.
      hide: ['stewardC'],
    },
    {
      mutation: 'rejectSubscriptionRequest',
      document: () => ['mutation($id: ID!) { rejectSubscriptionRequest(input: { id: $id, reason: "r" }) { id } }', { id: pendingId }],
      refuse: ['viewer', 'stewardB'],
      // A third department's steward: answered as for an id without a request, as node(id:) answers null.
      hide: ['stewardC'],
    },
    {
      mutation: 'revokeSubscription',
      document: () => ['mutation($id: ID!) { revokeSubscription(input: { id: $id }) { id } }', { id: grantedId }],
      refuse: ['viewer', 'stewardB'],
      // A third department's steward: answered as for an id without a request, as node(id:) answers null.
      hide: ['stewardC'],
    },
    {
      mutation: 'cancelSubscription',
      document: () => ['mutation($id: ID!) { cancelSubscription(input: { id: $id }) { id } }', { id: grantedId }],
      refuse: ['viewer', 'stewardA'],
      // A third department's steward: answered as for an id without a request, as node(id:) answers null.
      hide: ['stewardC'],
    },
    {
      mutation: 'captureSnapshot',
      document: () => ['mutation { captureSnapshot(input: { period: "2023-06" }) { period } }', {}],
      refuse: ['viewer', 'stewardA'],
    },
  ];

  describe.each(cases)('$mutation', ({ document, refuse, hide }) => {
    it.each(refuse)('is FORBIDDEN for %s', async (who) => {
      const [query, variables] = document();
      const response = await clients[who].request(query, variables);
      expect(errorCodes(response)).toEqual(['FORBIDDEN']);
      // Refused before execution (no data at all) or by the field (its nullable field null): either way nothing ran.
      expect(Object.values(response.data ?? {}).filter((answer) => answer !== null)).toEqual([]);
    });

    if (hide?.length) {
      it.each(hide)('is NOT_FOUND for %s, word for word as for an id without a request', async (who) => {
        const [query, variables] = document();
        const missing = { ...variables, id: Buffer.from('SubscriptionRequest:999999').toString('base64url') };
        const answers = [await clients[who].request(query, variables), await clients[who].request(query, missing)];
        expect(answers.map((answer) => answer.errors?.map((e) => [e.extensions?.code, e.message]))).toEqual([
          [['NOT_FOUND', 'This subscription request does not exist.']],
          [['NOT_FOUND', 'This subscription request does not exist.']],
        ]);
        expect(answers.map((answer) => Object.values(answer.data ?? {}).filter((field) => field !== null))).toEqual([[], []]);
      });
    }

    it('is UNAUTHENTICATED without a token', async () => {
      const [query, variables] = document();
      expect(errorCodes(await api.anonymous.request(query, variables))).toEqual(['UNAUTHENTICATED']);
    });

    it('is UNAUTHENTICATED with a bad token', async () => {
      const [query, variables] = document();
      expect(errorCodes(await api.request(query, variables, { authorization: 'Bearer not.a.jwt' }))).toEqual(['UNAUTHENTICATED']);
      const expired = await api.signToken({ role: 'ADMIN' }, { expiresIn: Math.floor(Date.now() / 1000) - 300 });
      expect(errorCodes(await api.request(query, variables, { authorization: `Bearer ${expired}` }))).toEqual(['UNAUTHENTICATED']);
    });
  });

  it("lets a steward write their own department's directories and mounts, and nothing was changed by the refused attempts", async () => {
    const steward = clients.stewardA;
    await steward.ok(
      `mutation { registerDirectory(input: { code: "A-MINE", name: "自己的", departmentCreditCode: "${A}", resourceFormat: API, shareType: UNCONDITIONAL, updateCycle: DAILY, informationItems: [{ name: "n", dataType: "字符型" }] }) { id } }`,
    );
    await steward.ok('mutation { publishDirectory(input: { directory: { code: "A-MINE" } }) { id } }');
    const id = (await steward.ok('mutation { mountDataset(input: { directory: { code: "A-MINE" }, kind: API, locator: "https://x", recordCount: 5 }) { id } }'))
      .mountDataset.id;
    await steward.ok('mutation($id: ID!) { refreshMount(input: { mountId: $id, recordCount: 6 }) { id } }', { id });
    const data = await api.ok(`{ directory(code: "A-PUB") { status summary mounts { recordCount } } a: directory(code: "A-DRAFT") { status } }`);
    expect(data).toEqual({ directory: { status: 'PUBLISHED', summary: null, mounts: [{ recordCount: 10 }] }, a: { status: 'DRAFT' } });
    expect(await api.orm.em.fork().getConnection().execute(`select count(*)::int as n from report_snapshot`)).toEqual([{ n: 0 }]);
  });
});

describe('API keys', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);
  const B = creditCode('410505', 2);

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区教育局', regionCode: '410505' });
    await addDirectory(api, A, 'A-1');
    await addDirectory(api, B, 'B-1');
  });
  afterAll(() => api.close());

  it('are shown once, stored as a hash, scoped to one department and stop working when revoked', async () => {
    const created = (
      await api.ok(
        `mutation { createApiKey(input: { name: "监管系统推送", departmentCreditCode: "${A}" }) { secret apiKey { id prefix departmentCreditCode revokedAt } } }`,
      )
    ).createApiKey;
    expect(created.secret).toMatch(/^mulu_/);
    expect(created.secret.startsWith(created.apiKey.prefix)).toBe(true);
    const rows = await api.orm.em.getConnection().execute(`select * from api_key`);
    expect(JSON.stringify(rows)).not.toContain(created.secret);
    expect(rows[0].secret_hash).toMatch(/^[0-9a-f]{64}$/);
    const listed = (await api.ok(`{ apiKeys { id name prefix } }`)).apiKeys;
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    const machine = api.withToken(created.secret);
    expect((await machine.ok(`{ viewer { kind role departmentCreditCode } }`)).viewer).toEqual({ kind: 'API_KEY', role: 'STEWARD', departmentCreditCode: A });
    await machine.ok('mutation { mountDataset(input: { directory: { code: "A-1" }, kind: TABLE, locator: "ods.a", recordCount: 3 }) { id } }');
    expect(
      errorCodes(
        await machine.request('mutation { mountDataset(input: { directory: { code: "B-1" }, kind: TABLE, locator: "ods.b", recordCount: 3 }) { id } }'),
      ),
    ).toEqual(['FORBIDDEN']);

    await api.ok('mutation($id: ID!) { revokeApiKey(input: { id: $id }) { revokedAt } }', { id: created.apiKey.id });
    expect(errorCodes(await machine.request(`{ viewer { id } }`))).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(await api.request('mutation($id: ID!) { revokeApiKey(input: { id: $id }) { revokedAt } }', { id: created.apiKey.id }))).toEqual([
      'CONFLICT',
    ]);
    expect(errorCodes(await api.request(`{ viewer { id } }`, {}, { authorization: 'Bearer mulu_unknown' }))).toEqual(['UNAUTHENTICATED']);
  });

  it('are revoked once: of two revocations at once the second is CONFLICT, as it is after the first', async () => {
    const { id } = (await api.ok(`mutation { createApiKey(input: { name: "并发", departmentCreditCode: "${A}" }) { apiKey { id } } }`)).createApiKey.apiKey;
    const holder = await openConnection(api);
    const observer = await openConnection(api);
    try {
      // Held so that both reach the key before either commits.
      await holder.query('begin');
      await holder.query(`select id from api_key where name = '并发' for update`);
      const revoke = () => api.request('mutation($id: ID!) { revokeApiKey(input: { id: $id }) { id } }', { id });
      const first = revoke();
      await untilWaiting(observer, 1);
      const second = revoke();
      await untilWaiting(observer, 2);
      await holder.query('commit');
      expect((await Promise.all([first, second])).map(errorCodes).sort()).toEqual([[], ['CONFLICT']]);
      const audited = await api.orm.em
        .fork()
        .getConnection()
        .execute(`select count(*)::int as n from audit_entry where action = 'revokeApiKey' and entity_id = ?`, [fromGlobalId(id).key]);
      expect(audited).toEqual([{ n: 1 }]);
    } finally {
      await holder.end();
      await observer.end();
    }
  });

  it('are listed to administrators only', async () => {
    const steward = await api.asRole('STEWARD', A);
    expect(errorCodes(await steward.request(`{ apiKeys { id } }`))).toEqual(['FORBIDDEN']);
  });
});
