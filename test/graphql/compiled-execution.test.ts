import { SQL_STATEMENTS_HEADER } from '../../src/graphql/sql-statement-count';
import { addDirectory, createDepartment, createRegions, creditCode, mount } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * A document runs on graphql-js the first time it is seen and compiled by
 * graphql-jit from the second (src/graphql/compiled-execution.ts). Each
 * document here is sent three times: the compiled answers must be those of
 * graphql-js byte for byte, with the same status and the same number of SQL
 * statements, errors included.
 */
describe('compiled execution', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);

  const post = async (query: string, variables: Record<string, unknown> = {}, authorization = `Bearer ${api.adminToken}`) => {
    const response = await fetch(api.server.url, {
      method: 'POST',
      // Computed every time: the response cache would answer the repeats.
      headers: { 'content-type': 'application/json', authorization, 'cache-control': 'no-cache' },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, statements: response.headers.get(SQL_STATEMENTS_HEADER), text: await response.text() };
  };

  beforeAll(async () => {
    api = await startTestServer({ sqlCountHeader: true });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await addDirectory(api, A, 'A-1');
    await mount(api, 'A-1', 100);
  });
  afterAll(() => api.close());

  const cases: [string, string, Record<string, unknown>][] = [
    [
      'a dashboard',
      `query D($code: String!) { region(code: $code) { code name mountStats { publishedDirectories mountedDirectories dataVolume mountRate mountRatePercent }
        children { code name children { code name mountStats { dataVolume } } } } }`,
      { code: '410000' },
    ],
    [
      'a ranking',
      `query R($code: String!) { region(code: $code) { departmentRanking(metric: MOUNT_RATE, first: 10) { rank rate ratePercent department { name creditCode } } } }`,
      { code: '410505' },
    ],
    [
      'a catalogue page',
      `query C($filter: DirectoryFilter!) { directories(first: 5, filter: $filter) { edges { cursor node { code name mounted stale dataVolume
        department { name region { code } } mounts { kind recordCount } } } pageInfo { hasNextPage endCursor } } }`,
      { filter: { regionCode: '410500' } },
    ],
    ['a resolver refusing its arguments (BAD_USER_INPUT)', `query { directories(first: -1) { edges { node { code } } } }`, {}],
    ['a missing variable', `query V($code: String!) { region(code: $code) { code } }`, {}],
    ['a variable of the wrong type', `query V($code: String!) { region(code: $code) { code } }`, { code: 12 }],
    ['a text argument with a NUL character', `query V($code: String!) { region(code: $code) { code } }`, { code: 'a\u0000b' }],
    ['an interface (run on graphql-js)', `query { node(id: "TW91bnQ6OTk5OTk5OTk5OTk=") { id } }`, {}],
    ['__typename alone', `{ __typename }`, {}],
    // Names a caller chooses that graphql-jit keeps as keys of plain objects (run on graphql-js).
    ['a leaf aliased __proto__', `{ region(code: "410000") { __proto__: name constructor: code } }`, {}],
    ['__typename aliased __proto__ at the root', `{ __proto__: __typename toString: __typename }`, {}],
    ['a variable named $__proto__', `query V($__proto__: String!) { region(code: $__proto__) { name } }`, JSON.parse('{"__proto__": "410000"}')],
    ['a fragment and an operation named __proto__', `query __proto__ { ...__proto__ } fragment __proto__ on Query { region(code: "410000") { name } }`, {}],
  ];

  it.each(cases)('answers %s as graphql-js does', async (_name, query, variables) => {
    const interpreted = await post(query, variables);
    const compiled = [await post(query, variables), await post(query, variables)];
    expect(compiled).toEqual([interpreted, interpreted]);
  });

  it('answers names that are JavaScript object keys (__proto__, constructor, toString) with every field, compiled or not', async () => {
    // Sequential: the first run is graphql-js's, the next two graphql-jit's (or graphql-js's, for a document it leaves there).
    const answers = async (query: string, variables: Record<string, unknown> = {}) => {
      const got: [number, string][] = [];
      for (let i = 0; i < 3; i++) {
        const { status, text } = await post(query, variables);
        got.push([status, text.trimEnd()]);
      }
      return got;
    };
    const expectThrice = (answer: [number, string]) => [answer, answer, answer];
    expect(await answers(`{ region(code: "410000") { __proto__: name constructor: code } }`)).toEqual(
      expectThrice([200, '{"data":{"region":{"__proto__":"河南省","constructor":"410000"}}}']),
    );
    expect(await answers(`{ __proto__: __typename toString: __typename }`)).toEqual(expectThrice([200, '{"data":{"__proto__":"Query","toString":"Query"}}']));
    expect(await answers(`query V($__proto__: String!) { region(code: $__proto__) { name } }`, JSON.parse('{"__proto__": "410000"}'))).toEqual(
      expectThrice([200, '{"data":{"region":{"name":"河南省"}}}']),
    );
  });

  it('answers a caller who may not run the operation as graphql-js does', async () => {
    const query = `mutation { refreshMount(input: { mountId: "TW91bnQ6MQ==", recordCount: 1 }) { recordCount } }`;
    const viewer = `Bearer ${await api.signToken({ role: 'VIEWER' })}`;
    const answers = [await post(query, {}, viewer), await post(query, {}, viewer), await post(query, {}, viewer)];
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    expect(JSON.parse(answers[0].text).errors[0].extensions.code).toBe('FORBIDDEN');
  });
});
