import { createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU, hostedDataset, WELFARE_ITEMS } from '../../support/builders';
import { RESPONSE_CACHE_HEADER } from '../../../src/graphql/response-cache';
import { SQL_STATEMENTS_HEADER } from '../../../src/graphql/sql-statement-count';
import { startTestServer, type TestServer } from '../../support/test-server';
import { encodeRowCursor } from '../../../src/modules/sharing/delivery.service';

/** The benchmark's document (test/bench/sharing.ts). */
const BENCH = `query($code: String!, $after: String) { directory(code: $code) { rows(first: 100, after: $after) { edges { node { rowNumber values } } } } }`;
/** Every field a page has, in an order of its own. */
const EVERYTHING = `query Page($code: String!, $first: Int, $after: String) { directory(code: $code) { rows(first: $first, after: $after) { pageInfo { endCursor hasPreviousPage startCursor hasNextPage } version edges { node { values rowNumber } cursor } } } }`;
/** An Accept header the direct paths leave to Apollo's negotiation: the same request through Apollo's pipeline. */
const THROUGH_APOLLO = { accept: 'application/json;q=0.9, text/plain;q=0.1' };

/** A district with one department, its steward's token, and a hosted dataset `code` of the first item holding `rows`. */
async function stewardWithDataset(api: TestServer, code: string, rows: Record<string, unknown>[]): Promise<string> {
  const P = creditCode('410505', 1);
  await createRegions(api, HENAN_ANYANG_YINDU);
  await createDepartment(api, { creditCode: P, name: '殷都区民政局', regionCode: '410505' });
  await hostedDataset(api, P, code, [WELFARE_ITEMS[0]], rows);
  return api.signToken({ role: 'STEWARD', department: P, sub: 'steward-P', name: 'Steward P' });
}

/**
 * The row page's direct path (src/modules/sharing/row-page.direct.ts): a
 * page of rows answered without Apollo is the same answer, byte for byte and
 * header for header, as Apollo's, with one statement instead of two; it is
 * logged once; whatever it does not take (another shape, a refusal, a limit)
 * Apollo answers as before.
 */
describe('a page of rows without Apollo', () => {
  let api: TestServer;
  const P = creditCode('410505', 1);
  const FULL = creditCode('410505', 2);
  const PART = creditCode('410505', 3);
  const OTHER = creditCode('410505', 4);
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    api = await startTestServer({ sqlCountHeader: true });
    await createRegions(api, HENAN_ANYANG_YINDU);
    for (const [key, code, name] of [
      ['P', P, '殷都区民政局'],
      ['FULL', FULL, '殷都区人社局'],
      ['PART', PART, '殷都区教育局'],
      ['OTHER', OTHER, '殷都区文旅局'],
    ]) {
      await createDepartment(api, { creditCode: code, name, regionCode: '410505' });
      tokens[key] = await api.signToken({ role: 'STEWARD', department: code, sub: `steward-${key}`, name: `Steward ${key}` });
    }
    // Values JSON writes in more than one way: decimals as text, integers, booleans, Chinese text, a quote and a backslash.
    const rows = Array.from({ length: 30 }, (_, i) => ({ 姓名: `张"${i}\\`, 年龄: 20 + i, 补助金额: `${i}.50`, 发放日期: '2024-01-02', 在册: i % 2 === 0 }));
    await hostedDataset(api, P, 'D-PAGE', WELFARE_ITEMS, rows, { shareType: 'CONDITIONAL', shareConditions: '仅用于低保资格核验' });
    const request = async (key: string) =>
      (
        await api
          .withToken(tokens[key])
          .ok<{ requestSubscription: { id: string } }>(`mutation { requestSubscription(input: { directory: { code: "D-PAGE" }, purpose: "核验" }) { id } }`)
      ).requestSubscription.id;
    const approve = (id: string, items?: string[]) =>
      api
        .withToken(tokens.P)
        .ok(`mutation($id: ID!, $items: [String!]) { approveSubscriptionRequest(input: { id: $id, grantedItems: $items }) { status } }`, { id, items });
    await approve(await request('FULL'));
    await approve(await request('PART'), ['姓名', '补助金额']);
  });
  afterAll(() => api.close());

  const send = async (token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    api.sql.reset();
    const response = await fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, headers: Object.fromEntries(response.headers), text: await response.text(), statements: api.sql.count };
  };
  /** The headers that differ between any two answers (the request's id, the date, the server's times) and the statement count, compared apart. */
  const comparable = (headers: Record<string, string>) => {
    const { 'x-request-id': _id, date: _date, 'server-timing': _timing, [SQL_STATEMENTS_HEADER]: _count, ...rest } = headers;
    return rest;
  };
  const logged = async () =>
    Number((await api.orm.em.fork().getConnection().execute(`select count(*)::int as n from dataset_access where route = 'GRAPHQL'`))[0].n);

  it.each([
    ['the benchmark document, a consumer', 'FULL', BENCH, { code: 'D-PAGE', after: encodeRowCursor(1, 7) }],
    ['every field, named, the provider', 'P', EVERYTHING, { code: 'D-PAGE', first: 4, after: encodeRowCursor(1, 3) }],
    ['every field, a consumer granted two items', 'PART', EVERYTHING, { code: 'D-PAGE', first: 3 }],
    ['the last page, a code written in lower case', 'FULL', EVERYTHING, { code: 'd-page', first: 5, after: encodeRowCursor(1, 27) }],
    ['no row after the last', 'FULL', EVERYTHING, { code: 'D-PAGE', after: encodeRowCursor(1, 30) }],
    [
      'literal arguments, the default page size',
      'FULL',
      `{ directory(code: "D-PAGE") { rows(after: "${encodeRowCursor(1, 2)}") { version edges { cursor } } } }`,
      {},
    ],
  ])("%s: the same bytes and headers as Apollo's, in one statement, logged once each", async (_what, who, query, variables) => {
    const before = await logged();
    const direct = await send(tokens[who], { query, variables });
    const apollo = await send(tokens[who], { query, variables }, THROUGH_APOLLO);
    expect([direct.status, apollo.status]).toEqual([200, 200]);
    expect(JSON.parse(direct.text).errors).toBeUndefined();
    expect(direct.text).toBe(apollo.text);
    expect(comparable(direct.headers)).toEqual(comparable(apollo.headers));
    expect([direct.headers[RESPONSE_CACHE_HEADER], direct.headers[SQL_STATEMENTS_HEADER], apollo.headers[SQL_STATEMENTS_HEADER]]).toEqual(['MISS', '1', '2']);
    expect([direct.statements, apollo.statements]).toEqual([1, 2]);
    expect(await logged()).toBe(before + 2);
  });

  it('writes the restricted consumer only the items granted', async () => {
    const answer = JSON.parse((await send(tokens.PART, { query: EVERYTHING, variables: { code: 'D-PAGE', first: 1 } })).text);
    expect(answer.data.directory.rows.edges[0].node).toEqual({ values: { 姓名: '张"0\\', 补助金额: '0.50' }, rowNumber: 1 });
  });

  it.each([
    ['a department without a grant', 'OTHER', { code: 'D-PAGE' }, 'FORBIDDEN'],
    ['an unknown directory', 'FULL', { code: 'D-NONE' }, null],
    ['a cursor of another version', 'FULL', { code: 'D-PAGE', after: encodeRowCursor(9, 3) }, 'CONFLICT'],
    ['a page too large', 'FULL', { code: 'D-PAGE', first: 5000 }, 'BAD_USER_INPUT'],
    ['a cursor that is not one', 'FULL', { code: 'D-PAGE', after: 'nonsense' }, 'BAD_USER_INPUT'],
    ['a variable of the wrong type', 'FULL', { code: 'D-PAGE', first: 'ten' }, 'BAD_USER_INPUT'],
  ])('leaves %s to Apollo: the same answer, nothing logged', async (_what, who, variables, code) => {
    const before = await logged();
    const direct = await send(tokens[who], { query: EVERYTHING, variables });
    const apollo = await send(tokens[who], { query: EVERYTHING, variables }, THROUGH_APOLLO);
    expect(direct.text).toBe(apollo.text);
    expect(direct.status).toBe(apollo.status);
    const answer = JSON.parse(direct.text);
    if (code) expect(answer.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual([code]);
    else expect(answer).toEqual({ data: { directory: null } });
    expect(await logged()).toBe(before);
  });

  it("leaves every other document to Apollo (the directory's statement, then the page's): an alias, __typename, a filter, a second field, a fragment, an operation not named", async () => {
    const documents: [string, number][] = [
      [`query($code: String!) { directory(code: $code) { page: rows(first: 2) { version } } }`, 2],
      [`query($code: String!) { directory(code: $code) { rows(first: 2) { __typename version } } }`, 2],
      // A filter is checked against the items granted: the access row once more before the page.
      [`query($code: String!) { directory(code: $code) { rows(first: 2, filter: [{ item: "年龄", gte: "21" }]) { version } } }`, 3],
      [`query($code: String!) { directory(code: $code) { code rows(first: 2) { version } } }`, 2],
      [`query($code: String!) { directory(code: $code) { rows(first: 2) { ...page } } } fragment page on DatasetRowConnection { version }`, 2],
    ];
    for (const [query, statements] of documents) {
      const answer = await send(tokens.FULL, { query, variables: { code: 'D-PAGE' } });
      expect([answer.status, JSON.parse(answer.text).errors, answer.statements]).toEqual([200, undefined, statements]);
    }
    // A document longer than the direct path reads (its kept plans are bounded in memory): the same page, through Apollo.
    const long = await send(tokens.FULL, { query: `${BENCH}${' '.repeat(5000)}`, variables: { code: 'D-PAGE' } });
    expect([long.status, JSON.parse(long.text).data.directory.rows.edges.length, long.statements]).toEqual([200, 30, 2]);
    const misnamed = await send(tokens.FULL, { query: EVERYTHING, variables: { code: 'D-PAGE' }, operationName: 'Other' });
    expect([misnamed.status, JSON.parse(misnamed.text).errors[0].extensions.code]).toEqual([400, 'BAD_REQUEST']);
  });

  it('answers an operation name of "" as Apollo does (no such operation, nothing logged), after the same document was sent without one', async () => {
    const query = `query Page2($code: String!) { directory(code: $code) { rows(first: 1) { version } } }`;
    // The document without an operation name: a page, delivered directly (its plan kept).
    const plain = await send(tokens.FULL, { query, variables: { code: 'D-PAGE' } });
    expect([plain.status, plain.statements]).toEqual([200, 1]);
    const before = await logged();
    const empty = await send(tokens.FULL, { query, variables: { code: 'D-PAGE' }, operationName: '' });
    const apollo = await send(tokens.FULL, { query, variables: { code: 'D-PAGE' }, operationName: '' }, THROUGH_APOLLO);
    expect([empty.status, empty.text]).toEqual([apollo.status, apollo.text]);
    expect(apollo.status).toBe(400);
    expect(await logged()).toBe(before);
  });

  it('never takes a request for another whose operation name and document, run together, read the same', async () => {
    const query = `query A($code: String!) {\n directory(code: $code) { rows(first: 1) { version } } }`;
    expect((await send(tokens.FULL, { query, operationName: 'A', variables: { code: 'D-PAGE' } })).statements).toBe(1);
    const before = await logged();
    // "A\nquery A(...) {" as the name, the rest as the document: not a document at all.
    const [head, tail] = [query.slice(0, query.indexOf('\n')), query.slice(query.indexOf('\n') + 1)];
    const forged = await send(tokens.FULL, { query: tail, operationName: `A\n${head}`, variables: { code: 'D-PAGE' } });
    expect(forged.status).toBe(400);
    expect(JSON.parse(forged.text).data).toBeUndefined();
    expect(await logged()).toBe(before);
  });

  it("names the operation in the metrics as Apollo does: the document's name when the request gives none", async () => {
    const count = async () => {
      const text = await (await fetch(new URL('/metrics', api.server.url))).text();
      const line = text.split('\n').find((l) => l.startsWith('mulu_requests_total{') && l.includes('operation="Page"') && l.includes('status="200"'));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const before = await count();
    const direct = await send(tokens.FULL, { query: EVERYTHING, variables: { code: 'D-PAGE', first: 1 } });
    expect(direct.statements).toBe(1);
    const apollo = await send(tokens.FULL, { query: EVERYTHING, variables: { code: 'D-PAGE', first: 1 } }, THROUGH_APOLLO);
    expect(apollo.statements).toBe(2);
    expect(await count()).toBe(before + 2);
  });

  it('keeps the shape limits and the cost limit, and refuses an anonymous caller as Apollo does', async () => {
    const anonymous = await fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: BENCH, variables: { code: 'D-PAGE' } }),
    });
    const refused = (await anonymous.json()) as { errors: { extensions: { code: string } }[] };
    expect([anonymous.status, refused.errors[0].extensions.code]).toEqual([401, 'UNAUTHENTICATED']);
    const limited = await startTestServer({ maxQueryCost: 50, limits: { maxDepth: 4 } });
    try {
      // Another database: only the limits matter here, and they refuse before anything is read.
      const costly = await limited.request(`{ directory(code: "D-PAGE") { rows(first: 100) { version edges { cursor } } } }`);
      expect(costly.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(costly.errors?.[0].message).toContain('cost');
      const deep = await limited.request(`{ directory(code: "D-PAGE") { rows(first: 1) { edges { node { rowNumber } } } } }`);
      expect(deep.errors?.[0].message).toMatch(/depth/i);
    } finally {
      await limited.close();
    }
  });
});

describe('the cost limit on the direct path', () => {
  it("estimates a page with the request's variables as Apollo does (a variable's default is not one the request sent)", async () => {
    const api = await startTestServer({ maxQueryCost: 50 });
    try {
      const token = await stewardWithDataset(api, 'D-COST', [{ 姓名: '甲' }, { 姓名: '乙' }]);
      // Apollo estimates `first` from the variables sent (none: a connection's default page of 20), so 2 + 3 x 20 is over 50.
      const query = `query($code: String!, $first: Int = 1) { directory(code: $code) { rows(first: $first) { edges { node { rowNumber } } } } }`;
      const ask = (headers: Record<string, string>) =>
        fetch(api.server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
          body: JSON.stringify({ query, variables: { code: 'D-COST' } }),
        }).then(async (response) => [response.status, await response.text()]);
      const direct = await ask({});
      const apollo = await ask(THROUGH_APOLLO);
      expect(apollo[0]).toBe(400);
      expect(direct).toEqual(apollo);
    } finally {
      await api.close();
    }
  });
});

describe('a page whose statement times out', () => {
  it('is answered as Apollo answers it (TIME_BUDGET_EXCEEDED, 503), without running it again through Apollo', async () => {
    const api = await startTestServer({ statementTimeoutMs: 300, sqlCountHeader: true });
    try {
      const token = await stewardWithDataset(api, 'D-SLOW', [{ 姓名: '甲' }]);
      const ask = (headers: Record<string, string>) =>
        fetch(api.server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
          body: JSON.stringify({ query: BENCH, variables: { code: 'D-SLOW' } }),
        }).then(async (response) => ({
          status: response.status,
          text: await response.text(),
          statements: response.headers.get(SQL_STATEMENTS_HEADER),
          retryAfter: response.headers.get('retry-after'),
        }));
      // The access log locked by another transaction: the page's statement waits for it until its timeout.
      const [direct, apollo] = await api.orm.em.fork().transactional(async (em) => {
        await em.execute('lock table dataset_access in exclusive mode');
        return [await ask({}), await ask(THROUGH_APOLLO)];
      });
      expect(apollo.status).toBe(503);
      expect(JSON.parse(apollo.text).errors[0].extensions.code).toBe('TIME_BUDGET_EXCEEDED');
      expect([direct.status, direct.text, direct.retryAfter]).toEqual([apollo.status, apollo.text, apollo.retryAfter]);
      // One statement, not the page's (timed out) and then Apollo's two (the directory's, the page's timed out again).
      expect([direct.statements, apollo.statements]).toEqual(['1', '2']);
      expect(Number((await api.orm.em.fork().getConnection().execute(`select count(*)::int as n from dataset_access`))[0].n)).toBe(0);
    } finally {
      await api.close();
    }
  });
});

describe('a page over the response cap', () => {
  it('is answered as Apollo answers it (RESPONSE_TOO_LARGE), delivered and logged once', async () => {
    const api = await startTestServer({ executionBudget: { maxResponseBytes: 2000 }, sqlCountHeader: true });
    try {
      const token = await stewardWithDataset(
        api,
        'D-BIG',
        Array.from({ length: 40 }, (_, i) => ({ 姓名: `张三丰${i}号` })),
      );
      const ask = (headers: Record<string, string>) =>
        fetch(api.server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
          body: JSON.stringify({ query: BENCH, variables: { code: 'D-BIG' } }),
        }).then(async (response) => ({ status: response.status, text: await response.text(), statements: response.headers.get(SQL_STATEMENTS_HEADER) }));
      const direct = await ask({});
      const apollo = await ask(THROUGH_APOLLO);
      expect(JSON.parse(apollo.text).errors[0].extensions.code).toBe('RESPONSE_TOO_LARGE');
      expect([direct.status, direct.text]).toEqual([apollo.status, apollo.text]);
      expect([direct.statements, apollo.statements]).toEqual(['1', '2']);
      expect(Number((await api.orm.em.fork().getConnection().execute(`select count(*)::int as n from dataset_access`))[0].n)).toBe(2);
    } finally {
      await api.close();
    }
  });
});
