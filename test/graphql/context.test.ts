import { GraphQLError } from 'graphql';
import { createContext } from '../../src/graphql/context';
import { startTestServer, type TestServer } from '../support/test-server';

/** Apollo's copy of the context it hands the resolvers (ApolloServer.ts cloneObject). */
const apolloCopy = <T extends object>(context: T): T => Object.assign(Object.create(Object.getPrototypeOf(context) as object) as T, context);

/**
 * The context of a request (src/graphql/context.ts): its loaders are made
 * only when a resolver asks, once per copy Apollo hands out; a token that
 * proves nothing fails the context with a 401 GraphQL error, nothing else.
 */
describe('request context', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer();
  });
  afterAll(() => api.close());

  it('makes no loaders for a request that never asks, one set for the resolvers of one copy, a set of its own for another copy', async () => {
    const context = await createContext(api.orm, api.authenticator, `Bearer ${api.adminToken}`);
    const copy = apolloCopy(context);
    expect(Object.getOwnPropertySymbols(context)).toEqual([]);
    expect(Object.getOwnPropertySymbols(copy)).toEqual([]);
    const loaders = copy.loaders;
    expect(copy.loaders).toBe(loaders);
    expect(Object.getOwnPropertySymbols(context)).toEqual([]);
    expect(apolloCopy(context).loaders).not.toBe(loaders);
    // A copy made after the loaders (a mutation's clearing reaches the same ones).
    expect(apolloCopy(copy).loaders).toBe(loaders);
  });

  it('fails on a token that proves nothing with UNAUTHENTICATED and HTTP 401, and with no token leaves the caller unknown', async () => {
    for (const authorization of ['Bearer not-a-token', 'Bearer ', 'Basic abc', `Bearer ${'x'.repeat(10_000)}`, 'Bearer a.b.c']) {
      const failure = await createContext(api.orm, api.authenticator, authorization).then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(GraphQLError);
      expect((failure as GraphQLError).extensions).toMatchObject({ code: 'UNAUTHENTICATED', http: { status: 401 } });
    }
    expect((await createContext(api.orm, api.authenticator, undefined)).viewer).toBeNull();
  });
});
