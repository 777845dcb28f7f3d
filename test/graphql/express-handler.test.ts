import { searchOf } from '../../src/graphql/express-handler';
import { startTestServer, type TestServer } from '../support/test-server';

/** The GraphQL handler writes Apollo's answer itself (src/graphql/express-handler.ts). */
describe('GraphQL handler', () => {
  it('takes the query string as url.parse did: with its "?", without a fragment, "" when there is none', () => {
    expect(searchOf('/graphql')).toBe('');
    expect(searchOf('/graphql?')).toBe('?');
    expect(searchOf('/graphql?query=%7B__typename%7D&x=1')).toBe('?query=%7B__typename%7D&x=1');
    expect(searchOf('/graphql?a=1#frag')).toBe('?a=1');
  });

  describe('on a server', () => {
    let api: TestServer;
    beforeAll(async () => {
      api = await startTestServer();
    });
    afterAll(() => api.close());

    it('answers with its exact length, UTF-8 JSON and no ETag; a GET query still runs', async () => {
      const response = await fetch(api.server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}` },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(response.status).toBe(200);
      expect(response.headers.get('etag')).toBeNull();
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
      expect(JSON.parse(bytes.toString('utf8'))).toEqual({ data: { __typename: 'Query' } });
      const get = await fetch(`${api.server.url}?query=${encodeURIComponent('{ __typename }')}`, {
        headers: { authorization: `Bearer ${api.adminToken}`, 'apollo-require-preflight': 'true' },
      });
      expect(get.status).toBe(200);
      expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
    });
  });
});
