import { createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU, hostedDataset, WELFARE_ITEMS } from '../../support/builders';
import { http } from '../../support/http';
import { startTestServer, type TestServer } from '../../support/test-server';

const ROWS = `query($code: String!, $first: Int, $after: String, $filter: [DatasetRowFilter!]) { directory(code: $code) { rows(first: $first, after: $after, filter: $filter) { version edges { cursor node { rowNumber values } } pageInfo { hasNextPage endCursor } } } }`;

const cursor = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/**
 * Hostile arguments of ResourceDirectory.rows (first, after and filter are
 * separate arguments since session 6, no longer one class-validated object)
 * and of the export routes: every one is a BAD_USER_INPUT (or CONFLICT for a
 * stale cursor) with a clear message, never an internal error, and none costs
 * the database more than an ordinary page.
 */
describe('ResourceDirectory.rows and the export routes under hostile arguments', () => {
  let api: TestServer;
  const P = creditCode('410505', 1);
  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: P, name: '殷都区民政局', regionCode: '410505' });
    const rows = Array.from({ length: 10 }, (_, i) => ({ 姓名: `张${i}`, 年龄: 20 + i, 补助金额: '1.5', 发放日期: '2024-01-02', 在册: i % 2 === 0 }));
    await hostedDataset(api, P, 'D-ROWS', WELFARE_ITEMS, rows);
  });
  afterAll(() => api.close());

  const page = (variables: Record<string, unknown>) => api.request(ROWS, { code: 'D-ROWS', first: 2, ...variables });

  /** The one error of a refused page: its code and message; nothing internal in the answer. */
  async function refused(variables: Record<string, unknown>): Promise<{ code: string | undefined; message: string }> {
    const answer = await page(variables);
    const text = JSON.stringify(answer);
    expect(text).not.toMatch(/INTERNAL_SERVER_ERROR|stacktrace|select |dataset_row|\bat .*\.ts:/i);
    expect(answer.errors).toHaveLength(1);
    return { code: answer.errors![0].extensions?.code, message: answer.errors![0].message };
  }

  it('bounds first: 0, negative, past 1000, a float or a string are BAD_USER_INPUT; past Int the cost limit refuses it', async () => {
    for (const first of [0, -1, 1001]) {
      expect(await refused({ first })).toEqual({ code: 'BAD_USER_INPUT', message: `"first" must be between 1 and 1000, got ${first}.` });
    }
    for (const first of [2147483647, 2147483648, 1.5, '5']) expect((await refused({ first })).code).toBe('BAD_USER_INPUT');
  });

  it('refuses garbage cursors as BAD_USER_INPUT and a cursor of another version as CONFLICT; one past the end is an empty page', async () => {
    for (const after of ['', 'garbage!!', cursor('row:x:1'), cursor('row:1:-1'), cursor('row:1:1234567890123456')]) {
      const { code, message } = await refused({ after });
      expect(code).toBe('BAD_USER_INPUT');
      expect(message).toContain('is not a valid cursor');
    }
    expect((await refused({ after: 5 })).code).toBe('BAD_USER_INPUT');
    expect((await refused({ after: cursor('row:2:1') })).code).toBe('CONFLICT');
    expect((await refused({ after: cursor('row:9999999999:1') })).code).toBe('CONFLICT');
    const past = await page({ after: cursor('row:1:999999999999999') });
    expect(past).toEqual({ data: { directory: { rows: { version: 1, edges: [], pageInfo: { hasNextPage: false, endCursor: null } } } } });
  });

  it("checks each filter's value against its item's type, its name and its length; quotes are values, not SQL", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ item: '年龄', eq: 'abc' }, 'is not a whole number'],
      [{ item: '年龄', gt: '99999999999999999999999' }, 'is not a whole number'],
      [{ item: '发放日期', gt: '2024-13-45' }, 'is not a date'],
      [{ item: '补助金额', gt: 'NaN' }, 'is not a decimal number'],
      [{ item: '补助金额', gt: '1e400' }, 'is not a decimal number'],
      [{ item: '在册', eq: 'maybe' }, 'is not a yes/no value'],
      [{ item: 'nope', eq: '1' }, 'has no information item "nope"'],
      [{ item: '', eq: '1' }, 'item must be longer than or equal to 1 characters'],
      [{ item: '年龄' }, 'needs a value'],
      [{ item: '年龄', eq: null }, 'needs a value'],
      [{ item: '姓名', eq: 'x'.repeat(1001) }, 'eq must be shorter than or equal to 1000 characters'],
      [{ item: '姓名', eq: 'a\u0000b' }, 'control character U+0000'],
      [{ item: '年龄', eq: 20 }, 'String cannot represent a non string value'],
      [{ item: '姓名', eq: 'a', zz: 1 }, 'Field "zz" is not defined'],
    ];
    for (const [filter, message] of cases) {
      const answer = await refused({ filter: [filter] });
      expect(answer.code).toBe('BAD_USER_INPUT');
      expect(answer.message).toContain(message);
    }
    const quoted = await page({ filter: [{ item: '姓名', eq: "张0'; drop table dataset_row; --" }] });
    expect(quoted).toEqual({ data: { directory: { rows: { version: 1, edges: [], pageInfo: { hasNextPage: false, endCursor: null } } } } });
    const matched = await page({
      filter: [
        { item: '年龄', gte: '25', lt: '27' },
        { item: '在册', eq: '是' },
      ],
    });
    expect(matched.data!.directory.rows.edges.map((e: { node: { rowNumber: number } }) => e.node.rowNumber)).toEqual([7]);
  });

  it('refuses a list of more filters than MAX_ROW_FILTERS before any SQL: thousands of conditions cost PostgreSQL minutes to plan', async () => {
    const many = Array.from({ length: 200 }, () => ({ item: '年龄', gt: '1' }));
    api.sql.reset();
    const { code, message } = await refused({ filter: many });
    expect(code).toBe('BAD_USER_INPUT');
    expect(message).toMatch(/at most \d+ filters/);
    // No access row and no page were read.
    expect(api.sql.statements.filter((sql) => sql.includes('dataset_row') || sql.includes('subscription_request'))).toEqual([]);
    const allowed = Array.from({ length: 20 }, () => ({ item: '年龄', gt: '1', gte: '1', lt: '100', lte: '100' }));
    expect((await page({ filter: allowed })).errors).toBeUndefined();
  });

  it('answers the export routes for odd codes and formats in JSON with a code, never a 500', async () => {
    const cases: [string, number, string | null][] = [
      ['/directories/D-ROWS/rows.xml', 400, 'BAD_USER_INPUT'],
      ['/directories/%ZZ/rows.csv', 400, 'BAD_USER_INPUT'],
      ['/directories/%00/rows.csv', 400, 'BAD_USER_INPUT'],
      [`/directories/${'A'.repeat(5000)}/rows.csv`, 404, 'NOT_FOUND'],
      ['/directories/NO-SUCH/rows.ndjson', 404, 'NOT_FOUND'],
      ['/directories/..%2F..%2Fetc/rows.csv', 404, 'NOT_FOUND'],
    ];
    for (const [path, status, code] of cases) {
      const answer = await http(api, path);
      expect({ path: path.slice(0, 40), status: answer.status }).toEqual({ path: path.slice(0, 40), status });
      const text = answer.body.toString('utf8');
      expect(text).not.toMatch(/INTERNAL_SERVER_ERROR|stack|select |<html/i);
      if (code) expect(answer.json().error.code).toBe(code);
    }
    const csv = await http(api, '/directories/d-rows/rows.csv?first=-1&after=zz&filter=1');
    expect(csv.status).toBe(200);
    expect(csv.body.toString('utf8').split('\n').filter(Boolean)).toHaveLength(11);
    expect((await http(api, '/directories/D-ROWS/rows.csv', { token: null })).status).toBe(401);
    expect((await http(api, '/directories/D-ROWS/rows.csv', { token: 'garbage' })).json().error.code).toBe('UNAUTHENTICATED');
  });
});
