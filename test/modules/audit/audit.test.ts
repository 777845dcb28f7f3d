import { addDirectory, createDepartment, createRegions, creditCode, errorCodes, mount } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';

const ENTRIES = `query($filter: AuditFilterInput, $first: Int, $after: String) {
  auditEntries(filter: $filter, first: $first, after: $after) {
    edges { node { at actorKind actorId actorName actorRole action entityType entityId before after } }
    pageInfo { hasNextPage endCursor }
  }
}`;

type Entry = {
  action: string;
  entityType: string;
  entityId: string;
  actorId: string;
  actorKind: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown>;
};

describe('the audit trail', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);
  const entries = async (filter: Record<string, unknown> = {}, first = 200): Promise<Entry[]> =>
    (await api.ok(ENTRIES, { filter, first })).auditEntries.edges.map((e: { node: Entry }) => e.node);

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    const steward = await api.asRole('STEWARD', A);
    await steward.ok(
      `mutation { registerDirectory(input: { code: "A-1", name: "低保名录", departmentCreditCode: "${A}", resourceFormat: DATABASE, shareType: UNCONDITIONAL, updateCycle: MONTHLY, informationItems: [{ name: "姓名", dataType: "字符型" }] }) { id } }`,
    );
    await steward.ok('mutation { updateDirectory(input: { directory: { code: "A-1" }, name: "低保对象名录", summary: "全区低保对象" }) { id } }');
    await steward.ok('mutation { publishDirectory(input: { directory: { code: "A-1" } }) { id } }');
    const mountId = await mount(api, 'A-1', 100);
    await api.ok('mutation($id: ID!) { refreshMount(input: { mountId: $id, recordCount: 120 }) { id } }', { id: mountId });
    await api.ok('mutation($id: ID!) { unmountDataset(input: { mountId: $id }) { id } }', { id: mountId });
    await api.ok('mutation { withdrawDirectory(input: { directory: { code: "A-1" } }) { id } }');
    await addDirectory(api, A, 'A-2');
  });
  afterAll(() => api.close());

  it('records every mutation with its actor and only the fields it changed', async () => {
    const all = await entries();
    expect(all.map((e) => e.action)).toEqual([
      'createRegion',
      'createRegion',
      'createRegion',
      'createDepartment',
      'registerDirectory',
      'updateDirectory',
      'publishDirectory',
      'mountDataset',
      'refreshMount',
      'unmountDataset',
      'withdrawDirectory',
      'registerDirectory',
      'publishDirectory',
    ]);
    const update = all[5];
    expect(update).toMatchObject({
      actorKind: 'USER',
      actorId: `steward-${A}`,
      entityType: 'ResourceDirectory',
      before: { name: '低保名录', summary: null },
      after: { name: '低保对象名录', summary: '全区低保对象' },
    });
    expect(all[4]).toMatchObject({ before: null, after: { code: 'A-1', status: 'DRAFT', shareType: 'UNCONDITIONAL' } });
    expect(all[8]).toMatchObject({ actorKind: 'SYSTEM', actorId: 'bootstrap', before: { recordCount: 100 }, after: { recordCount: 120 } });
    expect(Object.keys(all[8].after).sort()).toEqual(['lastRefreshedAt', 'recordCount']);
    expect(all[0]).toMatchObject({ entityType: 'Region', entityId: '410000', after: { code: '410000', name: '河南省', level: 'PROVINCE', parent: null } });
  });

  it('filters by entity, actor and time, and pages', async () => {
    const directoryId = (await entries({ entityType: 'ResourceDirectory' }))[0].entityId;
    expect((await entries({ entityType: 'ResourceDirectory', entityId: directoryId })).map((e) => e.action)).toEqual([
      'registerDirectory',
      'updateDirectory',
      'publishDirectory',
      'withdrawDirectory',
    ]);
    expect((await entries({ actorId: `steward-${A}` })).length).toBe(3);
    expect(await entries({ from: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    expect((await entries({ to: new Date(Date.now() + 60_000).toISOString() })).length).toBe(13);
    const first = (await api.ok(ENTRIES, { first: 5 })).auditEntries;
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = (await api.ok(ENTRIES, { first: 100, after: first.pageInfo.endCursor })).auditEntries;
    expect(next.edges.length).toBe(8);
  });

  it('checks its filter as an input of its own: texts over their lengths are refused, null is no filter', async () => {
    for (const [field, length] of [
      ['entityType', 101],
      ['entityId', 101],
      ['actorId', 201],
    ] as const) {
      const response = await api.request(ENTRIES, { filter: { [field]: 'x'.repeat(length) }, first: 1 });
      expect([field, response.errors?.map((e) => [e.extensions?.code, e.message])]).toEqual([
        field,
        [['BAD_USER_INPUT', expect.stringContaining(`${field} must be shorter than or equal to ${length - 1} characters`)]],
      ]);
    }
    expect((await api.ok(ENTRIES, { filter: null, first: 1 })).auditEntries.edges).toHaveLength(1);
  });

  it('is readable by administrators only', async () => {
    for (const client of [await api.asRole('STEWARD', A), await api.asRole('VIEWER')]) {
      expect(errorCodes(await client.request(ENTRIES))).toEqual(['FORBIDDEN']);
    }
    expect(errorCodes(await api.anonymous.request(ENTRIES))).toEqual(['UNAUTHENTICATED']);
    expect((await (await api.asRole('ADMIN')).ok(ENTRIES, { first: 1 })).auditEntries.edges).toHaveLength(1);
  });

  it('writes nothing for a mutation that failed', async () => {
    const before = (await entries()).length;
    expect(errorCodes(await api.request('mutation { publishDirectory(input: { directory: { code: "A-2" } }) { id } }'))).toEqual(['CONFLICT']);
    expect((await entries()).length).toBe(before);
  });

  it('cannot be changed: no mutation in the schema, and the database refuses updates and deletes', async () => {
    const mutations = (await api.ok(`{ __schema { mutationType { fields { name } } } }`)).__schema.mutationType.fields.map((f: { name: string }) => f.name);
    expect(mutations.filter((name: string) => /audit/i.test(name))).toEqual([]);
    const connection = api.orm.em.getConnection();
    await expect(connection.execute(`update audit_entry set actor_id = 'someone-else'`)).rejects.toThrow(/cannot be changed/);
    await expect(connection.execute(`delete from audit_entry`)).rejects.toThrow(/cannot be changed/);
  });
});
