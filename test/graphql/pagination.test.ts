import { addDirectory, createDepartment, createRegions, creditCode, errorCodes } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';

/** A cursor as the server encodes one, for a row id of our choosing. */
const cursorOf = (id: string) => Buffer.from(`cursor:${id}`, 'utf8').toString('base64url');

describe('cursor pagination', () => {
  let api: TestServer;
  const dept = creditCode('410505', 1);

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: dept, name: '殷都区教育局', regionCode: '410505' });
    for (const code of ['P-1', 'P-2', 'P-3']) await addDirectory(api, dept, code);
  });
  afterAll(() => api.close());

  const CATALOGUE = `query($after: String) { directories(first: 2, after: $after) { edges { node { code } } pageInfo { hasNextPage endCursor } } }`;
  const OF_DEPARTMENT = `query($c: String!, $after: String) { department(creditCode: $c) { directories(first: 2, after: $after) { edges { node { code } } } } }`;
  const OF_REGION = `query($after: String) { region(code: "410505") { departments(first: 2, after: $after) { edges { node { name } } } } }`;

  it('tells where each page starts: startCursor is its first edge, hasPreviousPage is true once paged with after', async () => {
    const PAGE_INFO = `pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`;
    const catalogue = async (after?: string) =>
      (await api.ok(`query($after: String) { directories(first: 2, after: $after) { edges { cursor node { code } } ${PAGE_INFO} } }`, { after })).directories;
    const ofDepartment = async (after?: string) =>
      (
        await api.ok(
          `query($c: String!, $after: String) { department(creditCode: $c) { directories(first: 2, after: $after) { edges { cursor node { code } } ${PAGE_INFO} } } }`,
          { c: dept, after },
        )
      ).department.directories;
    // The whole catalogue (one statement per page) and one department's list (the batched children loader) page alike.
    for (const list of [catalogue, ofDepartment]) {
      const first = await list();
      expect(first.edges.map((e: any) => e.node.code)).toEqual(['P-1', 'P-2']);
      expect(first.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: first.edges[0].cursor, endCursor: first.edges[1].cursor });
      const second = await list(first.pageInfo.endCursor);
      expect(second.edges.map((e: any) => e.node.code)).toEqual(['P-3']);
      expect(second.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: second.edges[0].cursor, endCursor: second.edges[0].cursor });
      const beyond = await list(second.pageInfo.endCursor);
      expect(beyond).toEqual({ edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null } });
    }
  });

  it.each([
    ['one above the largest integer id', '2147483648'],
    ['far beyond any integer', '99999999999999999999'],
    ['of 400 digits (Infinity in JavaScript, once an internal error in SQL)', '9'.repeat(400)],
  ])('refuses a cursor naming a row id %s with BAD_USER_INPUT before it reaches PostgreSQL', async (_, id) => {
    const after = cursorOf(id);
    for (const [query, variables] of [
      [CATALOGUE, { after }],
      [OF_DEPARTMENT, { c: dept, after }],
      [OF_REGION, { after }],
    ] as const) {
      const response = await api.request(query, variables);
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors?.[0].message).toContain('is not a valid cursor; pass the endCursor of a previous page');
    }
  });

  it('quotes at most the start of a long garbage cursor: the message does not grow with what was sent', async () => {
    const after = 'x'.repeat(100_000);
    const response = await api.request(CATALOGUE, { after });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    const message = response.errors![0].message;
    expect(message).toContain('(100000 characters)');
    expect(message).toContain('is not a valid cursor; pass the endCursor of a previous page');
    expect(message.length).toBeLessThan(300);
  });

  it('accepts the largest integer id as a cursor: an empty page, no error', async () => {
    const response = await api.request(CATALOGUE, { after: cursorOf('2147483647') });
    expect(response.errors).toBeUndefined();
    expect(response.data?.directories).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });
});
