import { addDirectory, createDepartment, createRegions, creditCode, errorCodes, mount } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';

/** A global ID as the server encodes one, for a key of our choosing. */
const globalId = (type: string, key: string) => Buffer.from(`${type}:${key}`, 'utf8').toString('base64url');

describe('global IDs', () => {
  let api: TestServer;
  let mountId: string;
  const dept = creditCode('410505', 1);

  beforeAll(async () => {
    // The cache off: this counts the statements of answering, and the cache would add its snapshot check (response-cache.test.ts).
    api = await startTestServer({ responseCacheBytes: 0 });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: dept, name: '殷都区教育局', regionCode: '410505' });
    await addDirectory(api, dept, 'G-1');
    mountId = await mount(api, 'G-1', 10);
  });
  afterAll(() => api.close());

  const NODE = `query($id: ID!) { node(id: $id) { id } }`;
  const REFRESH = `mutation($id: ID!) { refreshMount(input: { mountId: $id, recordCount: 1 }) { recordCount } }`;

  it('answers node() with null for an id number no row can have, without asking PostgreSQL', async () => {
    for (const type of ['Department', 'ResourceDirectory', 'Mount', 'SubscriptionRequest']) {
      for (const key of ['2147483648', '99999999999999999999', '9'.repeat(400)]) {
        api.sql.reset();
        const response = await api.request(NODE, { id: globalId(type, key) });
        expect({ type, key, errors: response.errors, node: response.data?.node, statements: api.sql.count }).toEqual({
          type,
          key,
          errors: undefined,
          node: null,
          statements: 0,
        });
      }
      // The largest integer id is a possible one: looked up, and not there.
      const largest = await api.request(NODE, { id: globalId(type, '2147483647') });
      expect({ type, errors: largest.errors, node: largest.data?.node }).toEqual({ type, errors: undefined, node: null });
    }
    // A real one still resolves.
    expect((await api.ok(NODE, { id: mountId })).node).toEqual({ id: mountId });
  });

  it('refuses an out-of-range id in a mutation input with BAD_USER_INPUT, and a missing in-range one with NOT_FOUND', async () => {
    for (const key of ['2147483648', '99999999999999999999', '9'.repeat(400)]) {
      const response = await api.request(REFRESH, { id: globalId('Mount', key) });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors?.[0].message).toContain('is not the ID of a Mount');
    }
    expect(errorCodes(await api.request(REFRESH, { id: globalId('Mount', '2147483647') }))).toEqual(['NOT_FOUND']);
    const directory = await api.request(`mutation($id: ID!) { publishDirectory(input: { directory: { id: $id } }) { code } }`, {
      id: globalId('ResourceDirectory', '2147483648'),
    });
    expect(errorCodes(directory)).toEqual(['BAD_USER_INPUT']);
  });
});
