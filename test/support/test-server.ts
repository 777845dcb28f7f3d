import type { MikroORM } from '@mikro-orm/postgresql';
import { exportSPKI, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { Agent, fetch } from 'undici';
import { startServer, type AppOptions, type MuluServer } from '../../src/app';
import { authSettingsFromConfig, createAuthenticator, type Authenticator } from '../../src/modules/auth/authenticator';
import { countStatements, createTestDatabase, migratedOrm } from './database';
import { createDemoIdentity, type DemoIdentity } from '../../src/modules/auth/demo-identity';
import { demoStewardDepartment } from '../../src/db/demo-seed';
import { startOwnCluster } from './own-cluster';
import { settleUsage } from '../../src/modules/sharing/usage-fold';

export interface GraphQLResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; [key: string]: unknown }; path?: (string | number)[] }[];
}

/** Sends GraphQL documents as one caller. */
export interface ApiClient {
  /** `headers` override the caller's; `{ authorization: '' }` sends no token at all. */
  request<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** Like request, but fails the test on any GraphQL error. */
  ok<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

export type TestRole = 'ADMIN' | 'STEWARD' | 'VIEWER';

/** The issuer and audience the test server requires, as an identity platform would set them. */
export const TEST_ISSUER = 'https://sso.test.mulu.local';
export const TEST_AUDIENCE = 'mulu-api';

/**
 * The real server on a real, freshly migrated database, reached over HTTP
 * with real GraphQL documents. `ok`/`request` act as the bootstrap admin
 * (MULU_ADMIN_TOKEN); `asRole` signs real JWTs with a key pair made for this
 * test file, which the server verifies like any identity-platform token.
 */
export interface TestServer extends ApiClient {
  orm: MikroORM;
  /** Decides who each request is, as the server was started with (to start another server on the same database). */
  authenticator: Authenticator;
  server: MuluServer;
  sql: ReturnType<typeof countStatements>;
  adminToken: string;
  /** With `demo`: the tokens `npm start` prints (admin, steward of 殷都区民政局, viewer); JWTs of this file's key are then refused. */
  demoTokens?: DemoIdentity['tokens'];
  /** The key the server trusts; sign with it to make valid tokens. */
  privateKey: KeyLike;
  /** Its public half, as the SPKI PEM text the server was configured with (MULU_JWT_PUBLIC_KEY). */
  publicKeyPem: string;
  /** Signs a token; `claims` override the defaults (a viewer named "Test user", valid 5 minutes). */
  signToken(claims?: Record<string, unknown>, options?: { issuer?: string; audience?: string; expiresIn?: string | number; key?: KeyLike }): Promise<string>;
  /** A client signed in with a fresh JWT of this role (a steward needs a department credit code). */
  asRole(role: TestRole, departmentCreditCode?: string): Promise<ApiClient>;
  /** A client sending this bearer token. */
  withToken(token: string): ApiClient;
  /** A client sending no Authorization header. */
  anonymous: ApiClient;
  /** Folds every delivery made so far into the usage figures, as the server's periodic fold would within a second (src/modules/sharing/usage-fold.ts). */
  settleUsage(): Promise<void>;
  close(): Promise<void>;
}

const ALGORITHM = 'RS256';

export async function startTestServer(
  options: { anonymousStats?: boolean; ownCluster?: boolean; demo?: boolean; statementTimeoutMs?: number } & AppOptions = {},
): Promise<TestServer> {
  // ownCluster: a PostgreSQL server no other test file writes to (own-cluster-process.mjs); demo: a copy of the demo dataset.
  const database = options.ownCluster ? await startOwnCluster() : await createTestDatabase({ demo: options.demo });
  // statementTimeoutMs: as MULU_STATEMENT_TIMEOUT_MS (none unless a test sets it).
  const orm = await migratedOrm(database.url, { statementTimeoutMs: options.statementTimeoutMs });
  const adminToken = 'test-admin-token-0123456789abcdef';
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM);
  // Through the same configuration path as MULU_JWT_PUBLIC_KEY in production.
  const publicKeyPem = await exportSPKI(publicKey);
  const settings = await authSettingsFromConfig({
    jwt: { publicKeyPem, algorithms: [ALGORITHM], issuer: TEST_ISSUER, audience: TEST_AUDIENCE },
    adminToken,
    anonymousStats: options.anonymousStats ?? false,
  });
  // The demo signs in as `npm start` on the embedded demo does: its stand-in identity platform and printed tokens.
  const demo = options.demo ? await createDemoIdentity(demoStewardDepartment()) : undefined;
  if (demo) settings.jwt = demo.jwt;
  const authenticator = createAuthenticator(settings);
  const server = await startServer(orm, 0, authenticator, {
    demoTokens: demo?.tokens,
    webDirectory: options.webDirectory,
    sqlCountHeader: options.sqlCountHeader,
    maxQueryCost: options.maxQueryCost,
    limits: options.limits,
    executionBudget: options.executionBudget,
    introspection: options.introspection,
    figuresRecountIntervalMs: options.figuresRecountIntervalMs,
    // A fold between two statements of a query-budget test would be counted: tests settle usage when they read it (settleUsage).
    usageFoldIntervalMs: options.usageFoldIntervalMs ?? 24 * 60 * 60 * 1000,
    responseCacheBytes: options.responseCacheBytes,
    webhooks: options.webhooks,
    webhookDispatcher: options.webhookDispatcher,
    rateThreshold: options.rateThreshold,
    // Tests send hundreds of requests a minute as one caller; a test of the limits sets its own.
    rateLimits: options.rateLimits ?? { perMinute: 0, anonymousPerMinute: 0 },
    // Tests race requests of one caller on purpose (conflicts, queues); a test of the per-caller slots sets its own.
    callerSlots: options.callerSlots ?? { perCaller: 0, queuedPerCaller: 0, maxWaitMs: 0 },
    bodyRate: options.bodyRate,
    importLimits: options.importLimits,
    sendStallMs: options.sendStallMs,
    metrics: options.metrics,
  });
  const sql = countStatements(orm);

  // Kept-alive connections are let go after 1 s idle, well before the server's 5 s (Node's keepAliveTimeout): with the
  // client's default of 4 s, a test whose process was busy for a while (500 subscribers set up) sent a request on a
  // connection the server was closing at that moment ("other side closed").
  const dispatcher = new Agent({ keepAliveTimeout: 1000, keepAliveMaxTimeout: 1000 });
  const client = (defaultHeaders: Record<string, string>): ApiClient => {
    const request = async <T>(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) => {
      const merged: Record<string, string> = { 'content-type': 'application/json', ...defaultHeaders, ...headers };
      if (merged.authorization === '') delete merged.authorization;
      const response = await fetch(server.url, { method: 'POST', headers: merged, body: JSON.stringify({ query, variables }), dispatcher });
      return (await response.json()) as GraphQLResponse<T>;
    };
    return {
      request,
      async ok<T>(query: string, variables?: Record<string, unknown>) {
        const response = await request<T>(query, variables);
        if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
        return response.data as T;
      },
    };
  };
  const withToken = (token: string) => client({ authorization: `Bearer ${token}` });

  const signToken: TestServer['signToken'] = (claims = {}, opts = {}) =>
    new SignJWT({ role: 'VIEWER', name: 'Test user', ...claims })
      .setProtectedHeader({ alg: ALGORITHM })
      .setSubject(typeof claims.sub === 'string' ? claims.sub : 'test-user')
      .setIssuer(opts.issuer ?? TEST_ISSUER)
      .setAudience(opts.audience ?? TEST_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(opts.expiresIn ?? '5m')
      .sign(opts.key ?? privateKey);

  return {
    orm,
    authenticator,
    server,
    sql,
    adminToken,
    demoTokens: demo?.tokens,
    privateKey,
    publicKeyPem,
    ...withToken(adminToken),
    signToken,
    async asRole(role, departmentCreditCode) {
      if (role === 'STEWARD' && !departmentCreditCode) throw new Error('a steward token needs a department');
      const claims =
        role === 'STEWARD'
          ? { role, department: departmentCreditCode, sub: `steward-${departmentCreditCode}`, name: `Steward of ${departmentCreditCode}` }
          : { role, sub: `${role.toLowerCase()}-user`, name: `Test ${role.toLowerCase()}` };
      return withToken(await signToken(claims));
    },
    withToken,
    anonymous: client({}),
    settleUsage: () => settleUsage(orm.em),
    async close() {
      await server.stop();
      await dispatcher.close();
      await orm.close(true);
      await database.drop();
    },
  };
}
