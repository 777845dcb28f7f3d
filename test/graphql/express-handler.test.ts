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

    it('answers every malformed or refused request in GraphQL shape with a 4xx and a code, never a stack, and keeps serving', async () => {
      const auth = { authorization: `Bearer ${api.adminToken}` };
      const json = { ...auth, 'content-type': 'application/json' };
      const preflight = { ...auth, 'apollo-require-preflight': 'true' };
      const get = (search: string, headers: Record<string, string> = preflight) => fetch(`${api.server.url}${search}`, { headers });
      const post = (body: string, headers: Record<string, string> = json) => fetch(api.server.url, { method: 'POST', headers, body });
      const cases: [string, Promise<Response>, number, string][] = [
        ['not JSON', post('{"query":'), 400, 'BAD_REQUEST'],
        ['a JSON string', post('"{ __typename }"'), 400, 'BAD_REQUEST'],
        ['text/plain (CSRF)', post('{"query":"{ __typename }"}', { ...auth, 'content-type': 'text/plain' }), 400, 'BAD_REQUEST'],
        ['form (CSRF)', post('query=x', { ...auth, 'content-type': 'application/x-www-form-urlencoded' }), 400, 'BAD_REQUEST'],
        ['GET without a preflight header (CSRF)', get('?query=%7B__typename%7D', auth), 400, 'BAD_REQUEST'],
        ['GET with a mutation', get(`?query=${encodeURIComponent('mutation { __typename }')}`), 400, 'BAD_REQUEST'],
        ['GET with variables that are not JSON', get('?query=%7B__typename%7D&variables=%7Bnot'), 400, 'BAD_REQUEST'],
        ['GET with two queries', get('?query=%7B__typename%7D&query=%7Bx%7D'), 400, 'BAD_REQUEST'],
        ['GET with a malformed escape', get('?query=%E0%A4%A&x=%zz'), 400, 'GRAPHQL_PARSE_FAILED'],
        ['a batch', post('[{"query":"{ __typename }"}]'), 400, 'BAD_REQUEST'],
        ['query not a string', post('{"query":5}'), 400, 'BAD_REQUEST'],
        ['variables an array', post('{"query":"{ __typename }","variables":[1]}'), 400, 'BAD_REQUEST'],
        ['PUT', fetch(api.server.url, { method: 'PUT', headers: json, body: '{"query":"{ __typename }"}' }), 405, 'BAD_REQUEST'],
        ['OPTIONS', fetch(api.server.url, { method: 'OPTIONS', headers: auth }), 400, 'BAD_REQUEST'],
        ['an accept it cannot serve', post('{"query":"{ __typename }"}', { ...json, accept: 'image/png' }), 406, 'BAD_REQUEST'],
        ['a bad token', post('{"query":"{ __typename }"}', { 'content-type': 'application/json', authorization: 'Bearer nope' }), 401, 'UNAUTHENTICATED'],
      ];
      for (const [what, answer, status, code] of cases) {
        const response = await answer;
        const text = await response.text();
        expect({ what, status: response.status, type: response.headers.get('content-type') }).toEqual({
          what,
          status,
          type: 'application/json; charset=utf-8',
        });
        expect({ what, codes: (JSON.parse(text) as { errors: { extensions: { code: string } }[] }).errors.map((e) => e.extensions.code) }).toEqual({
          what,
          codes: [code],
        });
        expect(text).not.toMatch(/\bat .*\.[jt]s:\d+|stacktrace/);
      }
      const head = await fetch(api.server.url, { method: 'HEAD', headers: preflight });
      expect(head.status).toBe(405);
      expect(await head.text()).toBe('');
      expect(await (await post('{"query":"{ __typename }"}')).json()).toEqual({ data: { __typename: 'Query' } });
    });
  });
});
