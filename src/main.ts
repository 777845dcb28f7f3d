import 'reflect-metadata';
import { startServer } from './app';
import { loadConfig } from './config';
import { demoStewardDepartment, loadDemoIfEmpty } from './db/demo-seed';
import { authSettingsFromConfig, createAuthenticator } from './modules/auth/authenticator';
import { createDemoIdentity, type DemoIdentity } from './modules/auth/demo-identity';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres';
import { initOrm } from './db/orm';

async function main(): Promise<void> {
  const config = loadConfig();
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    console.log(`DATABASE_URL is not set: starting embedded PostgreSQL in ${config.embeddedDataDir}`);
    embedded = await startEmbeddedPostgres(config.embeddedDataDir);
    databaseUrl = embedded.url;
  }
  const orm = await initOrm(databaseUrl, { debug: config.logSql });
  if (config.loadDemo && (await loadDemoIfEmpty(orm))) {
    console.log('Loaded the demo dataset: Henan 410000 > Anyang 410500 > Yindu 410505 and Wenfeng 410502.');
  }
  const auth = await authSettingsFromConfig(config.auth);
  // Embedded demo without a configured identity provider: stand one in, so a new user can try every role.
  let demo: DemoIdentity | undefined;
  if (embedded && !auth.jwt) {
    demo = await createDemoIdentity(demoStewardDepartment());
    auth.jwt = demo.jwt;
  }
  // The server recounts what the clock changes (stale data, lapsed subscriptions) itself: see startServer.
  const server = await startServer(orm, config.port, createAuthenticator(auth), {
    maxQueryCost: config.maxQueryCost,
    sqlCountHeader: config.sqlCountHeader,
    responseCacheBytes: config.responseCacheBytes,
    rateThreshold: config.notifications.rateThreshold,
    webhooks: { allowPrivate: config.notifications.allowPrivateReceivers, ...(config.notifications.concurrency ? { concurrency: config.notifications.concurrency } : {}) },
    rateLimits: config.rateLimits,
    bodyRate: config.bodyRate,
    importLimits: config.importLimits,
  });
  console.log(`Mulu is serving GraphQL at ${server.url}`);
  if (demo) printDemoTokens(server.url, demo);
  if (!auth.jwt && !auth.adminToken) console.warn('No sign-in is configured (MULU_JWKS_URL, MULU_JWT_PUBLIC_KEY or MULU_ADMIN_TOKEN): only API keys can be used, and nobody can create one.');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    // Each step runs even if one before it failed: a request still running when its client hung up
    // may have its query cut off by the pool closing, which must not keep the process (or PostgreSQL) up.
    let failed = false;
    for (const [what, step] of [
      ['the HTTP server', () => server.stop()],
      ['the database pool', () => orm.close(true)],
      ['the embedded PostgreSQL', async () => embedded?.stop()],
    ] as const) {
      try {
        await step();
      } catch (error) {
        failed = true;
        console.error(`Stopping ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    process.exit(failed ? 1 : 0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

function printDemoTokens(url: string, demo: DemoIdentity): void {
  const steward = demoStewardDepartment();
  console.log(`
Demo sign-in: a key pair made at start stands in for the unified identity platform. Tokens (valid 12 hours):
  admin    (ADMIN):   ${demo.tokens.admin}
  steward  (STEWARD of ${steward.name}, ${steward.creditCode}):
                      ${demo.tokens.steward}
  viewer   (VIEWER):  ${demo.tokens.viewer}
In the landing page, add the header "Authorization: Bearer <token>". With curl:
  curl -s ${url} -H 'content-type: application/json' -H 'authorization: Bearer ${demo.tokens.steward}' \\
    -d '{"query":"{ viewer { name role departmentCreditCode } department(creditCode: \\"${steward.creditCode}\\") { name subscriptionStats { made received pending } } }"}'
`);
}

main().catch((error) => {
  console.error('Mulu failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
