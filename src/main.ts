import 'reflect-metadata';
import cluster from 'node:cluster';
import type { MikroORM } from '@mikro-orm/postgresql';
import { startServer, type AppOptions, type MuluServer } from './app';
import { ConfigError, DEFAULT_SHUTDOWN_GRACE_MS, loadConfig, type Config } from './config';
import {
  announceReady,
  announceStartFailure,
  demoJwtSettings,
  embeddedMaxConnections,
  groupMetrics,
  joinGroup,
  labelPrimary,
  nameWorkerInResponses,
  shareDemoIdentity,
  startWorkers,
  workerId,
  type WorkerGroup,
} from './cluster';
import { demoStewardDepartment, loadDemoIfEmpty } from './db/demo-seed';
import { JobStopped } from './db/periodic-job';
import { authSettingsFromConfig, createAuthenticator } from './modules/auth/authenticator';
import { createDemoIdentity, type DemoIdentity } from './modules/auth/demo-identity';
import { StartupError, startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres';
import { initOrm } from './db/orm';
import { isDatabaseUnavailable, sqlStateOf, TOO_MANY_CONNECTIONS } from './core/errors';
import { describeError, logger } from './observability/logger';

/** What is running, for the shutdown to stop in order; filled as the start goes. */
interface Running {
  server?: MuluServer;
  /** The workers, in a primary that runs them (MULU_WORKERS above 1). */
  workers?: WorkerGroup;
  orm?: MikroORM;
  embedded?: EmbeddedDatabase;
  /** The start's step on the database that a shutdown stops (the migrations, then the demo's load); settled once it is over. */
  startStep?: Promise<unknown>;
  /** MULU_SHUTDOWN_GRACE_MS. */
  graceMs: number;
}

const running: Running = { graceMs: DEFAULT_SHUTDOWN_GRACE_MS };

/**
 * Aborted by a shutdown: the migrations and the demo's load at start (a
 * minute on a first start), or their wait for another replica doing them,
 * stop and roll back at once, so the shutdown neither waits for them nor
 * stops the database under them.
 */
const startStopped = new AbortController();

async function main(): Promise<void> {
  const config = loadConfig();
  logger.level = config.logLevel;
  running.graceMs = config.shutdownGraceMs;
  installSignalHandlers();
  if (cluster.isWorker) return startWorker(config);
  const clustered = config.workers > 1;
  if (clustered) labelPrimary();
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    logger.info({ dataDir: config.embeddedDataDir }, `DATABASE_URL is not set: starting embedded PostgreSQL in ${config.embeddedDataDir}`);
    running.embedded = await startEmbeddedPostgres(config.embeddedDataDir, {
      onGiveUp: () => void shutdown('the embedded PostgreSQL could not be restarted', 1),
      // Enough connections for every worker's pools (PostgreSQL's default of 100 is 7 workers).
      ...(clustered ? { settings: [`max_connections=${embeddedMaxConnections(config.workers)}`] } : {}),
    });
    databaseUrl = running.embedded.url;
  }
  try {
    // API requests' statements are cut off at MULU_STATEMENT_TIMEOUT_MS; the server's own long jobs lift it (statement-timeout.ts).
    running.orm = await (running.startStep = initOrm(
      databaseUrl,
      { debug: config.logSql },
      { statementTimeoutMs: config.statementTimeoutMs },
      startStopped.signal,
    ));
  } catch (error) {
    // Up, but every connection slot taken (its max_connections, or the role's limit, reached by other clients).
    if (sqlStateOf(error) === TOO_MANY_CONNECTIONS) {
      throw new StartupError(
        `PostgreSQL at ${redact(databaseUrl)} refuses new connections (${describeError(error)}): other clients hold every connection it allows. Free some, or raise its max_connections (or the role's connection limit), then start Mulu again; it needs up to 13 per worker.`,
      );
    }
    if (isDatabaseUnavailable(error)) {
      throw new StartupError(
        `PostgreSQL at ${redact(databaseUrl)} cannot be reached (${describeError(error)}). Check that it runs and that DATABASE_URL names its host, port and database; Mulu connects and applies its migrations at start.`,
      );
    }
    throw error;
  }
  const orm = running.orm;
  // A shutdown that came as the migrations ended: the demo's load is not begun on a pool about to close.
  if (startStopped.signal.aborted) throw new JobStopped('the start was stopped after the migrations');
  if (config.loadDemo && (await (running.startStep = loadDemoIfEmpty(orm, startStopped.signal)))) {
    logger.info('Loaded the demo dataset: Henan 410000 > Anyang 410500 > Yindu 410505 and Wenfeng 410502.');
  }
  const auth = await authSettingsFromConfig(config.auth);
  // Embedded demo without a configured identity provider: stand one in, so a new user can try every role.
  let demo: DemoIdentity | undefined;
  if (running.embedded && !auth.jwt) {
    demo = await createDemoIdentity(demoStewardDepartment());
    auth.jwt = demo.jwt;
  }
  let url: string;
  if (clustered) {
    // Migrated and seeded once, here; every worker opens its own pool and finds nothing left to apply.
    running.orm = undefined;
    await orm.close(true);
    running.workers = startWorkers(config.workers, { databaseUrl, demo: demo && (await shareDemoIdentity(demo)) }, (reason) => void shutdown(reason, 1));
    url = await running.workers.ready;
  } else {
    // The server recounts what the clock changes (stale data, lapsed subscriptions) itself: see startServer.
    running.server = await startServer(orm, config.port, createAuthenticator(auth), serverOptions(config, demo?.tokens));
    url = running.server.url;
  }
  logger.info(
    { url, host: config.host, port: config.port, workers: config.workers },
    `Mulu is serving GraphQL at ${url}${clustered ? ` with ${config.workers} workers` : ''} (health: /health/live, /health/ready; metrics: /metrics)`,
  );
  if (demo) printDemoTokens(url, demo);
  if (!auth.jwt && !auth.adminToken)
    logger.warn('No sign-in is configured (MULU_JWKS_URL, MULU_JWT_PUBLIC_KEY or MULU_ADMIN_TOKEN): only API keys can be used, and nobody can create one.');
}

/** The server's settings from the configuration: the same in the single process and in every worker. */
function serverOptions(config: Config, demoTokens: DemoIdentity['tokens'] | undefined): AppOptions {
  return {
    host: config.host,
    maxQueryCost: config.maxQueryCost,
    limits: config.limits,
    executionBudget: config.executionBudget,
    introspection: config.introspection,
    compiledExecution: config.compiledExecution,
    sqlCountHeader: config.sqlCountHeader,
    responseCacheBytes: config.responseCacheBytes,
    rateThreshold: config.notifications.rateThreshold,
    webhooks: {
      allowPrivate: config.notifications.allowPrivateReceivers,
      ...(config.notifications.concurrency ? { concurrency: config.notifications.concurrency } : {}),
    },
    demoTokens,
    rateLimits: config.rateLimits,
    callerSlots: config.callerSlots,
    bodyRate: config.bodyRate,
    importLimits: config.importLimits,
    shutdownGraceMs: config.shutdownGraceMs,
    sendStallMs: config.sendStallMs,
  };
}

/**
 * A worker (src/cluster.ts): a whole server on the database the primary
 * prepared, with its own pool, response cache and periodic jobs; it neither
 * migrates (the primary did; initOrm finds nothing pending) nor seeds.
 */
async function startWorker(config: Config): Promise<void> {
  const setup = joinGroup();
  running.orm = await initOrm(setup.databaseUrl, { debug: config.logSql }, { statementTimeoutMs: config.statementTimeoutMs });
  const auth = await authSettingsFromConfig(config.auth);
  if (setup.demo) auth.jwt = await demoJwtSettings(setup.demo);
  running.server = await startServer(running.orm, config.port, createAuthenticator(auth), {
    ...serverOptions(config, setup.demo?.tokens),
    // One worker runs the periodic jobs: each usage fold commits, which retires every worker's stored answers (cluster.ts).
    periodicJobs: setup.periodicJobs !== false,
    webhookDispatcher: setup.periodicJobs !== false,
    metrics: groupMetrics,
  });
  nameWorkerInResponses(running.server.httpServer, workerId()!);
  logger.debug({ url: running.server.url }, 'worker serving');
  await announceReady(running.server.url);
}

/** A connection URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

let stopping: Promise<void> | undefined;

/** The longest the pool or the embedded database may take to stop (the HTTP server has its own grace period). */
const STEP_TIMEOUT_MS = 15_000;

/**
 * SIGTERM/SIGINT: readiness turns 503 and the server takes no new
 * connections; requests in flight finish (up to MULU_SHUTDOWN_GRACE_MS);
 * then the pool closes and the embedded database stops. Each step runs even
 * if one before it failed. Exit code 0 when every step succeeded.
 */
function shutdown(reason: string, exitCode = 0): Promise<void> {
  return (stopping ??= (async () => {
    logger.info({ reason }, `${reason}: stopping`);
    let failed = exitCode !== 0;
    // The migrations and the demo's load use the pool and the database the steps below close: they are stopped, and end, first.
    startStopped.abort();
    // Each step in turn: one may begin while the one awaited ends (main checks the signal between them, but only once it resumes).
    for (let awaited: Promise<unknown> | undefined; running.startStep && running.startStep !== awaited;) {
      awaited = running.startStep;
      await Promise.race([awaited.catch(() => undefined), new Promise((done) => setTimeout(done, STEP_TIMEOUT_MS).unref())]);
    }
    for (const [what, step, limitMs] of [
      ['the workers (finishing requests in flight)', () => stopWorkers(running.graceMs + STEP_TIMEOUT_MS), running.graceMs + STEP_TIMEOUT_MS * 2],
      ['the HTTP server (finishing requests in flight)', () => running.server?.stop(), running.graceMs + STEP_TIMEOUT_MS],
      ['the database pool', () => running.orm?.close(true), STEP_TIMEOUT_MS],
      ['the embedded PostgreSQL', () => running.embedded?.stop(), STEP_TIMEOUT_MS * 3],
    ] as const) {
      try {
        // Bounded: a step that hangs (a query cut off mid-way) must not keep the process, or the database, up.
        await Promise.race([step(), new Promise((_, fail) => setTimeout(() => fail(new Error(`it did not finish within ${limitMs} ms`)), limitMs).unref())]);
      } catch (error) {
        failed = true;
        logger.error({ err: error }, `Stopping ${what} failed: ${describeError(error)}`);
      }
    }
    logger.info(failed ? 'stopped, with errors' : 'stopped');
    process.exit(failed ? Math.max(exitCode, 1) : 0);
  })());
}

/** Drains every worker (each stops as a single server does); fails when one did not exit cleanly. */
async function stopWorkers(limitMs: number): Promise<void> {
  if (running.workers && !(await running.workers.stop(limitMs))) throw new Error('a worker exited with an error while stopping (its log lines above say why)');
}

function installSignalHandlers(): void {
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/**
 * The demo's sign-in, printed for the person who ran `npm start` (this is
 * the demo's output, not a log line). The key pair is made at every start,
 * so the tokens change at every start: copy them again after a restart.
 */
function printDemoTokens(url: string, demo: DemoIdentity): void {
  const steward = demoStewardDepartment();
  process.stdout.write(`
Demo sign-in: a key pair made at start stands in for the unified identity platform; the tokens change at every start. Tokens (valid 12 hours):
  admin    (ADMIN):   ${demo.tokens.admin}
  steward  (STEWARD of ${steward.name}, ${steward.creditCode}):
                      ${demo.tokens.steward}
  viewer   (VIEWER):  ${demo.tokens.viewer}
In the landing page, add the header "Authorization: Bearer <token>". With curl:
  curl -s ${url} -H 'content-type: application/json' -H 'authorization: Bearer ${demo.tokens.steward}' \\
    -d '{"query":"{ viewer { name role departmentCreditCode } department(creditCode: \\"${steward.creditCode}\\") { name subscriptionStats { made received pending } } }"}'

`);
}

/**
 * The start waiting on nothing (every timer and socket gone, the start not
 * finished) would let Node exit silently with code 0: say so, and exit 1.
 */
function startStalled(): void {
  logger.fatal(
    'Mulu failed to start: the start stopped half-way with nothing left to wait for (a bug in Mulu); the log lines above show the last step reached.',
  );
  process.exit(1);
}
process.once('beforeExit', startStalled);

main()
  .then(() => process.off('beforeExit', startStalled))
  .catch(async (error: unknown) => {
    process.off('beforeExit', startStalled);
    // Stopped half-way by a shutdown (which goes on to stop what had started): not a failure to start.
    if (error instanceof JobStopped && startStopped.signal.aborted) {
      logger.info(`The start was stopped: ${error.message}.`);
      return;
    }
    // The cause, and for settings and start-up problems what to do; never "undefined".
    const known = error instanceof ConfigError || error instanceof StartupError;
    logger.fatal({ err: known ? undefined : error }, `Mulu failed to start: ${describeError(error)}`);
    // A worker's primary says it too, and stops the others: a start that cannot succeed is not retried in a loop.
    if (cluster.isWorker) await announceStartFailure(describeError(error));
    // Whatever had started (the embedded database above all) is stopped, not left holding the data folder.
    try {
      await running.workers?.stop(running.graceMs + STEP_TIMEOUT_MS).catch(() => undefined);
      await running.server?.stop();
      await running.orm?.close(true);
      await running.embedded?.stop();
    } finally {
      process.exit(1);
    }
  });
