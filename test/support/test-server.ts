import type { MikroORM } from '@mikro-orm/postgresql';
import { startServer, type AppOptions, type MuluServer } from '../../src/app';
import { countStatements, createTestDatabase, migratedOrm } from './database';

export interface GraphQLResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; [key: string]: unknown }; path?: (string | number)[] }[];
}

/**
 * The real server on a real, freshly migrated database, reached over HTTP
 * with real GraphQL documents.
 */
export interface TestServer {
  orm: MikroORM;
  server: MuluServer;
  sql: ReturnType<typeof countStatements>;
  request<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** Like request, but fails the test on any GraphQL error. */
  ok<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

export async function startTestServer(options: AppOptions = {}): Promise<TestServer> {
  const database = await createTestDatabase();
  const orm = await migratedOrm(database.url);
  const server = await startServer(orm, 0, options);
  const sql = countStatements(orm);
  const request = async <T>(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse<T>;
  };
  return {
    orm,
    server,
    sql,
    request,
    async ok<T>(query: string, variables?: Record<string, unknown>) {
      const response = await request<T>(query, variables);
      if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
      return response.data as T;
    },
    async close() {
      await server.stop();
      await orm.close(true);
      await database.drop();
    },
  };
}
