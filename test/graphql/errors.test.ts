import { addDirectory, createDepartment, createRegions, creditCode, mount } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';
import { logger } from '../../src/observability/logger';

describe('errors', () => {
  let api: TestServer;
  const dept = creditCode('410505', 1);
  let logged: jest.SpyInstance;

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: dept, name: '殷都区教育局', regionCode: '410505' });
    await addDirectory(api, dept, 'ERR-1');
  });
  beforeEach(() => {
    logged = jest.spyOn(logger, 'error');
  });
  afterEach(() => logged.mockRestore());
  afterAll(() => api.close());

  it('masks a database failure: no SQL, no stack trace, a stable code, and the cause is logged', async () => {
    await api.orm.em.getConnection().execute('alter table mount rename to mount_moved');
    try {
      const response = await api.request(`{ directory(code: "ERR-1") { code mounts { id } } }`);
      const error = response.errors?.[0];
      expect(error?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
      expect(error?.message).not.toMatch(/mount|select|relation|sql/i);
      expect(JSON.stringify(response)).not.toMatch(/stack|node_modules|\.ts:/);
      expect(response.data?.directory).toBeNull();
      // The cause, with its stack, is in the log only.
      expect(logged).toHaveBeenCalledWith(
        expect.objectContaining({ err: expect.objectContaining({ stack: expect.stringContaining('mount') }) }),
        expect.any(String),
      );
    } finally {
      await api.orm.em.getConnection().execute('alter table mount_moved rename to mount');
    }
  });

  it('rolls a failed mutation back whole: the mount row goes with the failed summary update', async () => {
    const conn = api.orm.em.getConnection();
    await conn.execute(`create function fail_update() returns trigger language plpgsql as $$ begin raise exception 'forced failure'; end $$`);
    await conn.execute(`create trigger fail_directory_update before update on resource_directory for each row execute function fail_update()`);
    try {
      const response = await api.request(
        `mutation { mountDataset(input: { directory: { code: "ERR-1" }, kind: TABLE, locator: "t", recordCount: 9 }) { id } }`,
      );
      expect(response.errors?.[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(response.errors?.[0].message).not.toContain('forced failure');
    } finally {
      await conn.execute('drop trigger fail_directory_update on resource_directory');
      await conn.execute('drop function fail_update');
    }
    const [{ count }] = await conn.execute(`select count(*)::int as count from mount`);
    expect(count).toBe(0);
  });

  it('keeps the directory summary exact under concurrent mounts of one directory', async () => {
    await Promise.all(Array.from({ length: 8 }, (_, i) => mount(api, 'ERR-1', 100 + i)));
    const { directory } = await api.ok(`{ directory(code: "ERR-1") { dataVolume mounts { id } } }`);
    expect(directory.mounts).toHaveLength(8);
    expect(directory.dataVolume).toBe(8 * 100 + 28);
  });

  it('answers variables with more errors than graphql-js reports (50) as a bad request, never an internal error', async () => {
    const result = await fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}` },
      body: JSON.stringify({
        query: 'mutation($input: DatasetRowsInput!) { replaceDatasetRows(input: $input) { recordCount } }',
        variables: { input: { mountId: 'TW91bnQ6MQ==', rows: Array.from({ length: 60 }, () => []) } },
      }),
    });
    const body = (await result.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(result.status).toBe(400);
    expect(body.errors.length).toBeGreaterThan(50);
    expect(body.errors.map((e) => e.extensions.code).filter((code) => code !== 'BAD_USER_INPUT' && code !== 'BAD_REQUEST')).toEqual([]);
    expect(logged).not.toHaveBeenCalled();
  });

  it('reports invalid input with a readable message and BAD_USER_INPUT', async () => {
    const response = await api.request(`mutation { createRegion(input: { code: "abc", name: "" }) { code } }`);
    expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0].message).toMatch(/code: must be 6 digits/);
    expect(response.errors?.[0].message).toMatch(/name: must be 1 to 100 characters/);
    const wrongType = await api.request(
      `mutation { mountDataset(input: { directory: { code: "ERR-1" }, kind: TABLE, locator: "t", recordCount: "many" }) { id } }`,
    );
    expect(wrongType.errors?.[0].extensions?.code).toMatch(/GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT/);
    const badVariable = await api.request(
      `mutation($n: SafeInt!) { mountDataset(input: { directory: { code: "ERR-1" }, kind: TABLE, locator: "t", recordCount: $n }) { id } }`,
      { n: 'many' },
    );
    expect(badVariable.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(badVariable.errors?.[0].message).toContain('$n');
    expect(logged).not.toHaveBeenCalled();
  });

  it("cuts graphql-js's messages that quote what a caller sent (a variable's value, a field's name) at 1,000 characters, as Mulu's own", async () => {
    const huge = 'x'.repeat(1_000_000);
    const answers = [
      // "Variable $n got invalid value "xxx…"; Int cannot represent non-integer value: "xxx…"": 2 MB back for 1 MB sent.
      await api.request(`query($n: Int) { directories(first: $n) { totalCount } }`, { n: huge }),
      // "Cannot query field "xxx…" on type "Query"."
      await api.request(`{ ${huge} }`),
      await api.request(`query($${huge}: Int) { __typename }`),
    ];
    for (const answer of answers) {
      expect(answer.errors?.length).toBeGreaterThan(0);
      for (const error of answer.errors!) {
        expect(error.extensions?.code).toMatch(/^(BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED)$/);
        expect(error.message.length).toBeLessThanOrEqual(1000);
        expect(error.message).toMatch(/^(Variable|Cannot query field)/);
      }
    }
    expect(logged).not.toHaveBeenCalled();
  });

  it("checks a directory list's filter as its own input: a search text over 100 characters is refused on every list", async () => {
    const text = 'x'.repeat(101);
    for (const query of [
      `query($t: String) { directories(filter: { text: $t }) { totalCount } }`,
      `query($t: String) { region(code: "410505") { directories(filter: { text: $t }) { totalCount } } }`,
      `query($t: String) { department(creditCode: "${dept}") { directories(filter: { text: $t }) { totalCount } } }`,
    ]) {
      const response = await api.request(query, { t: text });
      expect([query, response.errors?.map((e) => [e.extensions?.code, e.message])]).toEqual([
        query,
        [['BAD_USER_INPUT', expect.stringMatching(/text: text must be shorter than or equal to 100 characters/)]],
      ]);
    }
    expect((await api.ok(`{ directories(filter: { text: "ERR" }) { totalCount } }`)).directories.totalCount).toBe(1);
  });

  it('nulls only the failed mutation of a document: the answers before it are kept and the mutations after it still run', async () => {
    const response = await api.request(`mutation {
      first: registerDirectory(input: { code: "ERR-2", name: "资源 ERR-2", departmentCreditCode: "${dept}", resourceFormat: DATABASE, shareType: UNCONDITIONAL, updateCycle: MONTHLY, informationItems: [{ name: "字段", dataType: "string" }] }) { code status }
      taken: registerDirectory(input: { code: "ERR-2", name: "资源 ERR-2", departmentCreditCode: "${dept}", resourceFormat: DATABASE, shareType: UNCONDITIONAL, updateCycle: MONTHLY, informationItems: [{ name: "字段", dataType: "string" }] }) { code }
      last: publishDirectory(input: { directory: { code: "ERR-2" } }) { code status }
    }`);
    expect(response.data).toEqual({ first: { code: 'ERR-2', status: 'DRAFT' }, taken: null, last: { code: 'ERR-2', status: 'PUBLISHED' } });
    expect(response.errors).toHaveLength(1);
    expect(response.errors?.[0]).toMatchObject({ path: ['taken'], extensions: { code: 'CONFLICT' } });
    // The failed one wrote nothing; the ones around it were committed.
    expect((await api.ok(`{ directory(code: "ERR-2") { status } }`)).directory).toEqual({ status: 'PUBLISHED' });
  });
});

describe('malformed requests', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer();
  });
  afterAll(() => api.close());

  it('answers a body that is not JSON with a GraphQL-shaped BAD_REQUEST, no HTML and no stack', async () => {
    const response = await fetch(api.server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
    expect(text).not.toMatch(/node_modules|at |<html/i);
  });

  it('refuses a JSON body whose bytes are not UTF-8, rather than read each bad byte as U+FFFD and store it', async () => {
    const query = `mutation($name: String!) { createRegion(input: { code: "410599", name: $name, parentCode: "410500" }) { name } }`;
    const body = Buffer.concat([
      Buffer.from(`{"query":${JSON.stringify(query)},"variables":{"name":"`),
      Buffer.from([0xe6, 0xae, 0xb7, 0xff, 0xfe]),
      Buffer.from('"}}'),
    ]);
    const response = await fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}` },
      body,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [
        {
          message:
            'The request body is not valid UTF-8: some bytes encode no character. Send JSON encoded as UTF-8 (content-type: application/json; charset=utf-8).',
          extensions: { code: 'BAD_REQUEST' },
        },
      ],
    });
    expect((await api.request(`{ region(code: "410599") { name } }`)).data).toEqual({ region: null });
  });
});

describe('query cost limit', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer();
  });
  afterAll(() => api.close());

  it('refuses pages nested in pages before running them, with the cost and the limit', async () => {
    const response = await api.request(
      `{ directories(first: 100) { edges { node { department { directories(first: 100) { edges { node { department { directories(first: 100) { edges { node { code } } } } } } } } } } } }`,
    );
    expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0].message).toMatch(/would cost more than 1000000/);
    expect(response.data).toBeUndefined();
  });

  it('lets a 500-department dashboard through', async () => {
    const response = await api.request(
      `{ region(code: "410505") { departments(first: 500) { edges { node { name mountStats { mountRate dataVolume } directories(first: 5) { edges { node { code mounts { recordCount } } } } } } } } }`,
    );
    expect(response.errors).toBeUndefined();
  });
});
