import { createRegions, creditCode } from '../../support/builders';
import { openConnection, untilWaiting } from '../../support/locks';
import { startTestServer, type TestServer } from '../../support/test-server';

const CREATE = `mutation($input: CreateDepartmentInput!) { createDepartment(input: $input) { creditCode name region { code } } }`;

describe('departments', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
  });
  afterAll(() => api.close());

  it('registers a department under its credit code, normalised to capitals', async () => {
    const code = creditCode('410505', 1);
    const data = await api.ok(CREATE, { input: { creditCode: code.toLowerCase(), name: '殷都区教育局', regionCode: '410505' } });
    expect(data.createDepartment).toEqual({ creditCode: code, name: '殷都区教育局', region: { code: '410505' } });
    expect((await api.ok(`query($c: String!) { department(creditCode: $c) { name } }`, { c: code })).department).toEqual({ name: '殷都区教育局' });
  });

  it("answers a department's region in full, read by credit code or as a created department", async () => {
    const code = creditCode('410500', 3);
    const region = { code: '410500', name: '安阳市', parent: { code: '410000', name: '河南省' } };
    const created = await api.ok(`mutation($input: CreateDepartmentInput!) { createDepartment(input: $input) { region { code name parent { code name } } } }`, {
      input: { creditCode: code, name: '安阳市民政局', regionCode: '410500' },
    });
    expect(created.createDepartment.region).toEqual(region);
    const read = await api.ok(`query($c: String!) { department(creditCode: $c) { region { code name parent { code name } } } }`, { c: code });
    expect(read.department.region).toEqual(region);
  });

  it('refuses a credit code with a wrong check character, saying so, and writes nothing', async () => {
    const good = creditCode('410505', 2);
    const wrong = good.slice(0, 17) + (good[17] === '0' ? '1' : '0');
    const response = await api.request(CREATE, { input: { creditCode: wrong, name: '殷都区司法局', regionCode: '410505' } });
    expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0].message).toMatch(/check character/);
    expect((await api.ok(`query($c: String!) { department(creditCode: $c) { name } }`, { c: wrong })).department).toBeNull();
  });

  it('refuses duplicates of the credit code or of the name within a region, and unknown regions', async () => {
    const taken = creditCode('410505', 1);
    expect((await api.request(CREATE, { input: { creditCode: taken, name: '别的局', regionCode: '410505' } })).errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(
      (await api.request(CREATE, { input: { creditCode: creditCode('410505', 3), name: '殷都区教育局', regionCode: '410505' } })).errors?.[0].extensions?.code,
    ).toBe('CONFLICT');
    expect(
      (await api.request(CREATE, { input: { creditCode: creditCode('410505', 4), name: '某局', regionCode: '410599' } })).errors?.[0].extensions?.code,
    ).toBe('NOT_FOUND');
  });

  it('answers a registration that loses a race for its credit code or name as CONFLICT naming what is taken, as the check before it does', async () => {
    const holder = await openConnection(api);
    const observer = await openConnection(api);
    try {
      for (const [code, name, taken] of [
        [creditCode('410505', 71), '并发局', 'A department with this credit code already exists'],
        [creditCode('410505', 72), '并发同名局', 'The region already has a department of this name'],
      ] as const) {
        // Another registration of the same key, not yet committed: the request's own check cannot see it, its insert waits for it.
        await holder.query('begin');
        await holder.query(`insert into department (credit_code, name, region_code) values ($1, $2, '410505')`, [
          taken.includes('code') ? code : creditCode('410505', 73),
          name,
        ]);
        const racing = api.request(CREATE, { input: { creditCode: code, name, regionCode: '410505' } });
        await untilWaiting(observer, 1);
        await holder.query('commit');
        const answer = await racing;
        expect(answer.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
          ['CONFLICT', `${taken}; another request may have written it at the same moment. Nothing was changed.`],
        ]);
      }
    } finally {
      // The rows this test wrote past the service: the paging test below counts the region's departments.
      await holder.query(`delete from department where name in ('并发局', '并发同名局')`);
      await holder.end();
      await observer.end();
    }
  });

  it('pages the departments of a region with cursors, and caps the page size', async () => {
    for (let n = 10; n < 15; n++) await api.ok(CREATE, { input: { creditCode: creditCode('410505', n), name: `部门${n}`, regionCode: '410505' } });
    const query = `query($after: String) { region(code: "410505") { departments(first: 4, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } } }`;
    const first = (await api.ok(query)).region.departments;
    expect(first.edges.map((e: any) => e.node.name)).toEqual(['殷都区教育局', '部门10', '部门11', '部门12']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await api.ok(query, { after: first.pageInfo.endCursor })).region.departments;
    expect(second.edges.map((e: any) => e.node.name)).toEqual(['部门13', '部门14']);
    expect(second.pageInfo.hasNextPage).toBe(false);
    const tooMany = await api.request(`{ region(code: "410505") { departments(first: 100000) { edges { cursor } } } }`);
    expect(tooMany.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const badCursor = await api.request(`{ region(code: "410505") { departments(after: "nope") { edges { cursor } } } }`);
    expect(badCursor.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
