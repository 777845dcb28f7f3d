import { startTestServer, type TestServer } from '../../support/test-server';

const CREATE = `mutation($input: CreateRegionInput!) { createRegion(input: $input) { code name level parent { code } } }`;

describe('regions', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer();
  });
  afterAll(() => api.close());

  it('builds the tree from the codes, with levels and parents', async () => {
    expect((await api.ok(CREATE, { input: { code: '410000', name: '河南省' } })).createRegion).toEqual({
      code: '410000',
      name: '河南省',
      level: 'PROVINCE',
      parent: null,
    });
    expect((await api.ok(CREATE, { input: { code: '410500', name: '安阳市' } })).createRegion).toEqual({
      code: '410500',
      name: '安阳市',
      level: 'CITY',
      parent: { code: '410000' },
    });
    expect((await api.ok(CREATE, { input: { code: '410505', name: '殷都区', parentCode: '410500' } })).createRegion.parent).toEqual({ code: '410500' });
    // A province-administered county-level city sits directly under the province.
    expect((await api.ok(CREATE, { input: { code: '419001', name: '济源市' } })).createRegion).toMatchObject({ level: 'DISTRICT', parent: { code: '410000' } });
    const tree = await api.ok(`{ region(code: "410000") { children { code children { code } } } }`);
    expect(tree.region.children).toEqual([
      { code: '410500', children: [{ code: '410505' }] },
      { code: '419001', children: [] },
    ]);
  });

  it.each([
    [{ code: '41050', name: 'x' }, 'BAD_USER_INPUT', '6 digits'],
    [{ code: '990000', name: 'x' }, 'BAD_USER_INPUT', 'no province'],
    [{ code: '410001', name: 'x' }, 'BAD_USER_INPUT', 'city part'],
    [{ code: '410505', name: '殷都区' }, 'CONFLICT', 'already exists'],
    [{ code: '420100', name: '武汉市' }, 'NOT_FOUND', '420000'],
    [{ code: '410506', name: 'x', parentCode: '410000' }, 'BAD_USER_INPUT', 'belongs under 410500'],
    [{ code: '410600', name: '鹤壁市', parentCode: '410500' }, 'BAD_USER_INPUT', 'belongs under 410000'],
  ])('refuses %j with %s', async (input, code, message) => {
    const response = await api.request(CREATE, { input });
    expect(response.errors?.[0].extensions?.code).toBe(code);
    expect(response.errors?.[0].message).toContain(message);
  });

  it('answers null for an unknown region, and resolves global IDs', async () => {
    expect((await api.ok(`{ region(code: "110000") { code } }`)).region).toBeNull();
    const { region } = await api.ok(`{ region(code: "410505") { id } }`);
    expect((await api.ok(`query($id: ID!) { node(id: $id) { ... on Region { code } } }`, { id: region.id })).node).toEqual({ code: '410505' });
    const bad = await api.request(`{ node(id: "garbage") { id } }`);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
