import { addDirectory, createDepartment, createRegions, creditCode, mount, HENAN_ANYANG_TWO_DISTRICTS } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';

const REGISTER = `mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { id code status shareType informationItems { name dataType description } department { name } } }`;
const PUBLISH = `mutation($code: String!) { publishDirectory(input: { directory: { code: $code } }) { status publishedAt } }`;
const WITHDRAW = `mutation($code: String!) { withdrawDirectory(input: { directory: { code: $code } }) { status withdrawnAt } }`;
const STATS = `query($c: String!) { department(creditCode: $c) { mountStats { publishedDirectories mountedDirectories mountRate } } }`;

describe('resource directories', () => {
  let api: TestServer;
  const edu = creditCode('410505', 1);
  const civil = creditCode('410505', 2);
  const wenfeng = creditCode('410502', 1);

  const base = (code: string, overrides: Record<string, unknown> = {}) => ({
    code,
    name: `资源${code}`,
    departmentCreditCode: edu,
    resourceFormat: 'DATABASE',
    shareType: 'UNCONDITIONAL',
    updateCycle: 'MONTHLY',
    ...overrides,
  });

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, HENAN_ANYANG_TWO_DISTRICTS);
    await createDepartment(api, { creditCode: edu, name: '殷都区教育局', regionCode: '410505' });
    await createDepartment(api, { creditCode: civil, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: wenfeng, name: '文峰区教育局', regionCode: '410502' });
  });
  afterAll(() => api.close());

  it('registers a draft with its catalogue metadata', async () => {
    const data = await api.ok(REGISTER, {
      input: base('EDU-001', {
        shareType: 'CONDITIONAL',
        shareConditions: '仅用于学籍核验',
        informationItems: [{ name: '学籍号', dataType: '字符型', description: '全国学籍号' }],
      }),
    });
    expect(data.registerDirectory).toMatchObject({
      code: 'EDU-001',
      status: 'DRAFT',
      shareType: 'CONDITIONAL',
      informationItems: [{ name: '学籍号', dataType: '字符型', description: '全国学籍号' }],
      department: { name: '殷都区教育局' },
    });
  });

  it('refuses a taken code, an unknown department, and missing share conditions', async () => {
    expect((await api.request(REGISTER, { input: base('EDU-001') })).errors?.[0].extensions?.code).toBe('CONFLICT');
    const unknown = await api.request(REGISTER, { input: base('EDU-X', { departmentCreditCode: creditCode('410505', 99) }) });
    expect(unknown.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const conditional = await api.request(REGISTER, { input: base('EDU-Y', { shareType: 'CONDITIONAL' }) });
    expect(conditional.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(conditional.errors?.[0].message).toContain('share conditions');
    const badCode = await api.request(REGISTER, { input: base('has space') });
    expect(badCode.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const badItem = await api.request(REGISTER, { input: base('EDU-Z', { informationItems: [{ name: '', dataType: '字符型' }] }) });
    expect(badItem.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('enforces the lifecycle: publishing needs an information item, withdrawn stops counting', async () => {
    await api.ok(REGISTER, { input: base('EDU-002') });
    const empty = await api.request(PUBLISH, { code: 'EDU-002' });
    expect(empty.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(empty.errors?.[0].message).toContain('information item');

    expect((await api.ok(PUBLISH, { code: 'EDU-001' })).publishDirectory.status).toBe('PUBLISHED');
    expect((await api.request(PUBLISH, { code: 'EDU-001' })).errors?.[0].extensions?.code).toBe('CONFLICT');
    expect((await api.ok(STATS, { c: edu })).department.mountStats).toEqual({ publishedDirectories: 1, mountedDirectories: 0, mountRate: 0 });

    expect((await api.ok(WITHDRAW, { code: 'EDU-001' })).withdrawDirectory.status).toBe('WITHDRAWN');
    expect((await api.request(WITHDRAW, { code: 'EDU-001' })).errors?.[0].extensions?.code).toBe('CONFLICT');
    expect((await api.request(WITHDRAW, { code: 'EDU-002' })).errors?.[0].extensions?.code).toBe('CONFLICT');
    expect((await api.ok(STATS, { c: edu })).department.mountStats).toEqual({ publishedDirectories: 0, mountedDirectories: 0, mountRate: null });

    // A withdrawn directory can be published again.
    expect((await api.ok(PUBLISH, { code: 'EDU-001' })).publishDirectory.status).toBe('PUBLISHED');
  });

  it('updates metadata; a published directory keeps its code and at least one item', async () => {
    const UPDATE = `mutation($input: UpdateDirectoryInput!) { updateDirectory(input: $input) { code name updateCycle } }`;
    const renamed = await api.ok(UPDATE, { input: { directory: { code: 'EDU-002' }, newCode: 'EDU-002A', name: '学校名录', updateCycle: 'YEARLY' } });
    expect(renamed.updateDirectory).toEqual({ code: 'EDU-002A', name: '学校名录', updateCycle: 'YEARLY' });
    const codeChange = await api.request(UPDATE, { input: { directory: { code: 'EDU-001' }, newCode: 'EDU-001B' } });
    expect(codeChange.errors?.[0].extensions?.code).toBe('CONFLICT');
    const noItems = await api.request(UPDATE, { input: { directory: { code: 'EDU-001' }, informationItems: [] } });
    expect(noItems.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const both = await api.request(UPDATE, { input: { directory: {}, name: 'x' } });
    expect(both.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('searches the catalogue by department, region (with descendants), status, share type and text', async () => {
    await addDirectory(api, civil, 'CIV-001');
    await addDirectory(api, civil, 'CIV-002', { publish: false });
    await addDirectory(api, wenfeng, 'WF-001');
    const search = async (filter: Record<string, unknown>) =>
      (await api.ok(`query($f: DirectoryFilter) { directories(filter: $f, first: 100) { edges { node { code } } } }`, { f: filter })).directories.edges.map(
        (e: any) => e.node.code,
      );
    expect(await search({ departmentCreditCode: civil })).toEqual(['CIV-001', 'CIV-002']);
    expect(await search({ regionCode: '410505', status: 'PUBLISHED' })).toEqual(['EDU-001', 'CIV-001']);
    expect(await search({ regionCode: '410500' })).toHaveLength(5);
    expect(await search({ regionCode: '410502' })).toEqual(['WF-001']);
    expect(await search({ shareType: 'CONDITIONAL' })).toEqual(['EDU-001']);
    expect(await search({ text: 'civ-00' })).toEqual(['CIV-001', 'CIV-002']);
    expect(await search({ text: '学校' })).toEqual(['EDU-002A']);
    expect(await search({ text: '%' })).toEqual([]);
  });

  it('matches text as ILIKE does, beyond ASCII, reading lower-cased names from the search index', async () => {
    await api.ok(`mutation($input: UpdateDirectoryInput!) { updateDirectory(input: $input) { code } }`, {
      input: { directory: { code: 'CIV-002' }, name: 'Ärzte-Verzeichnis ΣΟΦΊΑ' },
    });
    const search = async (text: string) =>
      (await api.ok(`query($f: DirectoryFilter) { directories(filter: $f, first: 100) { edges { node { code } } } }`, { f: { text } })).directories.edges.map(
        (e: any) => e.node.code,
      );
    expect(await search('ärzte-v')).toEqual(['CIV-002']);
    expect(await search('σοφία')).toEqual(['CIV-002']);
    expect(await search('ÄRZTE_V')).toEqual([]);
    // The filter is `lower(x) like lower(p)` (directoryFilterSql): the same rows as `x ilike p` for every pattern here.
    const em = api.orm.em.fork();
    for (const pattern of ['%ärzte%', '%ΣΟΦΊΑ%', '%civ-00%', '%资源%', '%Ä%', '%\\_%', '%sofia%']) {
      const [row]: { ilike: number[]; lowered: number[] }[] = await em.execute(
        `select array(select id from resource_directory where name ilike ? or code ilike ? order by id) as ilike,
                array(select id from resource_directory where lower(name) like lower(?) or lower(code) like lower(?) order by id) as lowered`,
        [pattern, pattern, pattern, pattern],
      );
      expect(row.lowered).toEqual(row.ilike);
    }
    // Told not to scan the table (too small here to be worth an index otherwise), PostgreSQL answers the filter from the index alone.
    const plan = await em.transactional(async (tx) => {
      await tx.execute('set local enable_seqscan = off; set local enable_bitmapscan = off');
      const rows: { 'QUERY PLAN': string }[] = await tx.execute(
        `explain (costs off) select c.id from resource_directory c where c.department_id = 1 and c.id > 0 and (lower(c.name) like lower('%a%') or lower(c.code) like lower('%a%'))`,
      );
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('Index Only Scan using resource_directory_search_index');
    // ... with the lower-cased columns among the index's own, so that nothing is lower-cased per row.
    const [index]: { definition: string }[] = await em.execute(`select pg_get_indexdef('resource_directory_search_index'::regclass) as definition`);
    expect(index.definition).toContain('(department_id, id, lower((name)::text), lower((code)::text)) INCLUDE');
  });

  it('pages the catalogue and caps the page size at 100', async () => {
    const page1 = (await api.ok(`{ directories(first: 2) { edges { node { code } } pageInfo { hasNextPage endCursor } } }`)).directories;
    expect(page1.edges).toHaveLength(2);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (
      await api.ok(`query($a: String) { directories(first: 100, after: $a) { edges { node { code } } pageInfo { hasNextPage } } }`, {
        a: page1.pageInfo.endCursor,
      })
    ).directories;
    expect(page2.edges).toHaveLength(3);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    expect((await api.request(`{ directories(first: 101) { edges { cursor } } }`)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it("lists a department's directories with a filter", async () => {
    const data = await api.ok(
      `query($c: String!) { department(creditCode: $c) { directories(filter: { status: DRAFT }) { edges { node { code status } } } } }`,
      { c: civil },
    );
    expect(data.department.directories.edges).toEqual([{ node: { code: 'CIV-002', status: 'DRAFT' } }]);
  });

  it('lists stale directories, and the others, in the catalogue and in a department', async () => {
    const health = creditCode('410505', 3);
    await createDepartment(api, { creditCode: health, name: '殷都区卫健委', regionCode: '410505' });
    const daysAgo = (days: number) => new Date(Date.now() - days * 24 * 3600 * 1000).toISOString();
    await addDirectory(api, health, 'HE-STALE', { updateCycle: 'DAILY' });
    await mount(api, 'HE-STALE', 10, daysAgo(3));
    await addDirectory(api, health, 'HE-FRESH', { updateCycle: 'MONTHLY' });
    await mount(api, 'HE-FRESH', 10, daysAgo(3));
    await addDirectory(api, health, 'HE-EMPTY', { updateCycle: 'DAILY' });
    // A draft with old data is not stale: only published directories count.
    await addDirectory(api, health, 'HE-DRAFT', { updateCycle: 'DAILY', publish: false });
    await mount(api, 'HE-DRAFT', 10, daysAgo(3));

    const search = async (filter: Record<string, unknown>) =>
      (
        await api.ok(`query($f: DirectoryFilter) { directories(filter: $f, first: 100) { edges { node { code stale } } } }`, { f: filter })
      ).directories.edges.map((e: any) => e.node);
    expect(await search({ departmentCreditCode: health, stale: true })).toEqual([{ code: 'HE-STALE', stale: true }]);
    expect(await search({ departmentCreditCode: health, stale: false })).toEqual([
      { code: 'HE-FRESH', stale: false },
      { code: 'HE-EMPTY', stale: false },
      { code: 'HE-DRAFT', stale: false },
    ]);
    expect(await search({ regionCode: '410000', stale: true })).toEqual([{ code: 'HE-STALE', stale: true }]);
    expect(await search({ departmentCreditCode: health, stale: null })).toHaveLength(4);

    const ofDepartment = async (filter: Record<string, unknown>) =>
      (
        await api.ok(
          `query($c: String!, $f: DepartmentDirectoryFilter) { department(creditCode: $c) { directories(filter: $f) { edges { node { code } } } } }`,
          { c: health, f: filter },
        )
      ).department.directories.edges.map((e: any) => e.node.code);
    expect(await ofDepartment({ stale: true })).toEqual(['HE-STALE']);
    expect(await ofDepartment({ stale: false, status: 'PUBLISHED' })).toEqual(['HE-FRESH', 'HE-EMPTY']);

    // Refreshed, it is no longer stale.
    const id = (await api.ok(`{ directory(code: "HE-STALE") { mounts { id } } }`)).directory.mounts[0].id;
    await api.ok(`mutation($id: ID!) { refreshMount(input: { mountId: $id, recordCount: 11 }) { id } }`, { id });
    expect(await ofDepartment({ stale: true })).toEqual([]);
  });
});
