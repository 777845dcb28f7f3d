import { SQL_STATEMENTS_HEADER } from '../../src/graphql/sql-statement-count';
import { createDepartment, createRegions, creditCode } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';

async function post(api: TestServer, query: string): Promise<Response> {
  return fetch(api.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}` },
    body: JSON.stringify({ query }),
  });
}

describe('SQL statement count header (MULU_SQL_COUNT_HEADER)', () => {
  describe('enabled', () => {
    let api: TestServer;
    beforeAll(async () => {
      // The cache off: repeated identical queries would be answered from it (response-cache.test.ts counts those).
      api = await startTestServer({ sqlCountHeader: true, responseCacheBytes: 0 });
      await createRegions(api, [
        { code: '410000', name: '河南省' },
        { code: '410500', name: '安阳市' },
        { code: '410505', name: '殷都区' },
      ]);
      for (let n = 1; n <= 3; n++) await createDepartment(api, { creditCode: creditCode('410505', n), name: `部门${n}`, regionCode: '410505' });
    });
    afterAll(() => api.close());

    it('equals the statements the request sent', async () => {
      const query = `{ region(code: "410505") { name mountStats { mountRate } departments(first: 10) { edges { node { name mountStats { publishedDirectories } } } } } }`;
      api.sql.reset();
      const response = await post(api, query);
      const body = (await response.json()) as { errors?: unknown; data: { region: { departments: { edges: unknown[] } } } };
      expect(body.errors).toBeUndefined();
      expect(body.data.region.departments.edges).toHaveLength(3);
      const header = Number(response.headers.get(SQL_STATEMENTS_HEADER));
      expect(header).toBeGreaterThan(0);
      expect(header).toBe(api.sql.count);
    });

    it("gives the request's time in the server and its longest statement's in Server-Timing", async () => {
      const response = await post(api, `{ region(code: "410505") { name mountStats { mountRate } } }`);
      const timing = response.headers.get('server-timing') ?? '';
      const match = /^app;dur=(\d+\.\d), sql;dur=(\d+\.\d)$/.exec(timing);
      expect(match).not.toBeNull();
      const [app, sql] = [Number(match![1]), Number(match![2])];
      expect(sql).toBeGreaterThan(0);
      expect(app).toBeGreaterThanOrEqual(sql);
    });

    it('counts each of concurrent requests on its own', async () => {
      const simple = `{ region(code: "410505") { name } }`;
      const alone = await post(api, simple);
      const expected = Number(alone.headers.get(SQL_STATEMENTS_HEADER));
      const responses = await Promise.all(Array.from({ length: 8 }, () => post(api, simple)));
      expect(responses.map((r) => Number(r.headers.get(SQL_STATEMENTS_HEADER)))).toEqual(Array(8).fill(expected));
    });

    it('counts a mutation, its transaction included', async () => {
      api.sql.reset();
      const response = await post(api, `mutation { createRegion(input: { code: "410502", name: "文峰区" }) { code } }`);
      expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
      expect(Number(response.headers.get(SQL_STATEMENTS_HEADER))).toBe(api.sql.count);
    });
  });

  describe('disabled (the default)', () => {
    let api: TestServer;
    beforeAll(async () => {
      api = await startTestServer();
    });
    afterAll(() => api.close());

    it('sends no header', async () => {
      const response = await post(api, `{ region(code: "410000") { name } }`);
      expect(response.headers.get(SQL_STATEMENTS_HEADER)).toBeNull();
      expect(response.headers.get('server-timing')).toBeNull();
    });
  });
});
