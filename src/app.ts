import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { MikroORM } from '@mikro-orm/postgresql';
import express from 'express';
import http from 'node:http';
import { createContext, type MuluContext } from './graphql/context';
import { formatError } from './graphql/format-error';
import { DEFAULT_OPERATION_LIMITS, documentNestingGuard, operationLimits, type OperationLimits } from './graphql/limits';
import { httpStatusPlugin } from './graphql/http-status';
import { DEFAULT_EXECUTION_BUDGET, executionBudgetPlugin, type ExecutionBudget } from './graphql/execution-budget';
import { graphqlBodyErrors, graphqlJsonBody } from './http/json-body';
import { accessPlugin } from './modules/auth/auth.guard';
import type { Authenticator } from './modules/auth/authenticator';
import { buildMuluSchema } from './graphql/schema';
import { compiledExecution } from './graphql/compiled-execution';
import { graphqlHandler } from './graphql/express-handler';
import { DEFAULT_SEND_STALL_MS } from './http/send-stall';
import { createSqlStatementCounter } from './graphql/sql-statement-count';
import { reportsRouter } from './modules/reports/reports.routes';
import { importsRouter } from './modules/imports/imports.routes';
import { directoriesRouter, mountsRouter } from './modules/sharing/sharing.routes';
import { rowPageDirect } from './modules/sharing/row-page.direct';
import type { ImportLimits } from './modules/imports/import-limits';
import { bulkLane } from './http/bulk-lane';
import { downloadLane } from './http/download-lane';
import { webRouter, type DemoTokens } from './http/web';
import { bodyRate, DEFAULT_BODY_RATE, type BodyRate } from './http/body-rate';
import { identifyCaller } from './http/caller';
import { createRateLimiter, DEFAULT_RATE_LIMITS, rateLimit, type RateLimits } from './http/rate-limit';
import { callerSlots, DEFAULT_CALLER_SLOTS, type CallerSlots } from './http/caller-slots';
import { createResponseCache, DEFAULT_RESPONSE_CACHE_BYTES, type ResponseCacheStats } from './graphql/response-cache';
import { createSnapshotSource } from './graphql/snapshot-source';
import { watchClockSql } from './db/clock-reads';
import { scheduleUsageFold, USAGE_FOLD_INTERVAL_MS } from './modules/sharing/usage-fold';
import { checkRecountInterval, FIGURES_RECOUNT_INTERVAL_MS, recountFigures, scheduleFiguresRecount } from './modules/stats/figures-recount';
import { healthRouter, readinessCheck } from './observability/health';
import { metricsRegistry, sharedWhileRunning, watchPool } from './observability/metrics';
import { observationPlugin, observedAuthenticator, observeRequests } from './observability/request-observation';
import { DEFAULT_SHUTDOWN_GRACE_MS } from './config';
import { attachGraphQLWebSocket } from './graphql/websocket';
import { StartupError } from './db/embedded-postgres';
import { createPgListener, type PgListener } from './modules/notifications/pg-listener';
import { createLiveUpdates } from './modules/notifications/live-updates';
import { DEFAULT_DISPATCHER_SETTINGS, startDispatcher, type Dispatcher, type DispatcherSettings } from './modules/notifications/webhook-dispatcher';
import { setNotificationPolicy } from './modules/notifications/notification-policy';

/** Enough for a province dashboard or 500 departments with their figures; far below a nested-pages attack. */
export const DEFAULT_MAX_QUERY_COST = DEFAULT_OPERATION_LIMITS.maxCost;

/** Largest GraphQL request: a POSTed body, or one message over graphql-ws. */
const GRAPHQL_BODY_BYTES = 20 * 1024 * 1024;

export interface AppOptions {
  /** Largest estimated cost of one operation (see src/graphql/query-cost.ts); overrides `limits.maxCost`. */
  maxQueryCost?: number;
  /** Shape limits of one operation (src/graphql/limits.ts); unset ones take their defaults. */
  limits?: Partial<OperationLimits>;
  /** The request deadline and the response cap (src/graphql/execution-budget.ts); unset ones take their defaults. The statement timeout is the ORM's (initOrm). */
  executionBudget?: Partial<ExecutionBudget>;
  /** Schema introspection and the landing page (Sandbox): default on, off when NODE_ENV=production unless MULU_INTROSPECTION=true (config.ts). */
  introspection?: boolean;
  /** Run queries and mutations compiled by graphql-jit (src/graphql/compiled-execution.ts), default true; false runs graphql-js. */
  compiledExecution?: boolean;
  /** Return each request's SQL statement count in a response header (benchmarks; see sql-statement-count.ts). */
  sqlCountHeader?: boolean;
  /**
   * How often the stored counts that change with the clock alone (stale
   * directories, lapsed subscriptions) are recounted, in milliseconds;
   * default five minutes (see src/modules/stats/figures-recount.ts).
   */
  figuresRecountIntervalMs?: number;
  /** How often new deliveries are folded into the usage figures, default one second (src/modules/sharing/usage-fold.ts). */
  usageFoldIntervalMs?: number;
  /** Memory for answers the response cache keeps (see src/graphql/response-cache.ts); 0 turns it off. Default 32 MiB. */
  responseCacheBytes?: number;
  /** The embedded demo's tokens, offered by the dashboard's sign-in (src/http/web.ts); never set outside the demo. */
  demoTokens?: DemoTokens;
  /** Where the built dashboard is; default dist/web (src/http/web.ts). */
  webDirectory?: string;
  /** Webhook delivery: concurrency, retries, private receivers (docs/notifications.md); defaults in webhook-dispatcher.ts. */
  webhooks?: Partial<DispatcherSettings>;
  /** The rate threshold of RATE_FELL_BELOW_THRESHOLD / RATE_ROSE_ABOVE_THRESHOLD events (MULU_RATE_THRESHOLD, default 0.6). */
  rateThreshold?: number;
  /** Run no webhook dispatcher in this server (another process sends); events are still written. */
  webhookDispatcher?: boolean;
  /** Run the periodic recount and usage fold (default true); of several workers one runs them (src/cluster.ts). */
  periodicJobs?: boolean;
  /** Requests a minute per caller and per anonymous address (src/http/rate-limit.ts); 0 turns one off. */
  rateLimits?: RateLimits;
  /** How many requests one caller may have running and waiting (caller-slots.ts); MULU_CALLER_CONCURRENCY, MULU_CALLER_QUEUE. */
  callerSlots?: CallerSlots;
  /** How fast a request body must arrive (src/http/body-rate.ts). */
  bodyRate?: BodyRate;
  /** How long an answer (GraphQL, a dataset download) may send nothing (its client stopped reading) before it is cut; default one minute (http/send-stall.ts). */
  sendStallMs?: number;
  /** Caps on what one import file may hold (src/modules/imports/import-limits.ts). */
  importLimits?: ImportLimits;
  /** The interface to listen on (HOST); every interface when absent. */
  host?: string;
  /** How long requests in flight may finish once `stop()` is called (MULU_SHUTDOWN_GRACE_MS); default 10 s. */
  shutdownGraceMs?: number;
  /** What /metrics serves; default this process's registry. A worker serves its whole process group's (src/cluster.ts). */
  metrics?: () => Promise<string>;
}

export interface MuluServer {
  url: string;
  httpServer: http.Server;
  /**
   * Drains: readiness turns 503, the server takes no new connections,
   * requests in flight finish (up to the grace period), then the periodic
   * recount and Apollo stop. Calling it again waits for the same stop.
   */
  stop(): Promise<void>;
  /** Whether stop() has begun. */
  draining(): boolean;
  /** What the response cache has done since start (src/graphql/response-cache.ts). */
  responseCacheStats(): ResponseCacheStats;
  /** The webhook dispatcher of this server, when it runs one. */
  dispatcher: Dispatcher | null;
}

/** Builds the Apollo server and the HTTP app around it, without listening; `authenticator` decides who each request is. */
export async function createApp(orm: MikroORM, plainAuthenticator: Authenticator, options: AppOptions = {}, listener: PgListener | null = null) {
  // Every request's log line names its caller: the authenticator notes whom it found.
  const authenticator = observedAuthenticator(plainAuthenticator);
  let draining = false;
  const schema = await buildMuluSchema();
  const httpServer = http.createServer();
  const sqlCounter = options.sqlCountHeader ? createSqlStatementCounter(orm) : undefined;
  const responseCache = createResponseCache(createSnapshotSource(orm), options.responseCacheBytes ?? DEFAULT_RESPONSE_CACHE_BYTES);
  watchClockSql(orm);
  const limitSettings: OperationLimits = {
    ...DEFAULT_OPERATION_LIMITS,
    ...options.limits,
    ...(options.maxQueryCost !== undefined ? { maxCost: options.maxQueryCost } : {}),
  };
  const limits = operationLimits(limitSettings);
  const executionBudget: ExecutionBudget = { ...DEFAULT_EXECUTION_BUDGET, ...options.executionBudget };
  const introspection = options.introspection ?? true;
  // GraphQL subscriptions (graphql-ws) on the same path, fed by PostgreSQL notifications, under the same limits.
  // What was told while the listening connection was away is read from the outbox when it is back.
  const live = createLiveUpdates(listener, (sql, params) => orm.em.getConnection().execute(sql, params));
  // One count per caller for HTTP requests and graphql-ws operations alike: the WebSocket is no way around the limit.
  const rateLimits = options.rateLimits ?? DEFAULT_RATE_LIMITS;
  const rateLimiter = createRateLimiter(rateLimits);
  const webSocket = attachGraphQLWebSocket({
    httpServer,
    schema,
    orm,
    authenticator,
    live,
    limits: limitSettings,
    maxMessageBytes: GRAPHQL_BODY_BYTES,
    stallMs: options.sendStallMs ?? DEFAULT_SEND_STALL_MS,
    rateLimiter,
  });
  // Queries and mutations run compiled (graphql-jit) on the same schema and resolvers; see compiled-execution.ts.
  const apollo = new ApolloServer<MuluContext>({
    ...(options.compiledExecution === false ? { schema } : { gateway: compiledExecution(schema).gateway }),
    formatError: (formatted, error) => formatError(formatted, error),
    includeStacktraceInErrorResponses: false,
    introspection,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    // main.ts stops the server, the pool and the embedded database on SIGINT/SIGTERM. Apollo's own
    // handler would race it: a second concurrent stop() in Apollo 5 never resolves, and the process hangs.
    stopOnTerminationSignals: false,
    // Sends an answer from the response cache as stored, and keeps the text of answers it may reuse.
    stringifyResult: responseCache.stringifyResult,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS }),
      {
        // GraphQL subscriptions end with the drain, alongside the requests in flight: their sockets would keep the HTTP server open.
        async serverWillStart() {
          return {
            async drainServer() {
              live.close();
              await webSocket.stop();
            },
          };
        },
      },
      introspection ? ApolloServerPluginLandingPageLocalDefault({ embed: true }) : ApolloServerPluginLandingPageDisabled(),
      // Mulu sets no cache hints; the default cache-control plugin would still wrap every field's resolver
      // (a tenth of a province dashboard's CPU time).
      ApolloServerPluginCacheControlDisabled(),
      observationPlugin(),
      // Before the status plugin and the response cache: an answer over its budget becomes one error first.
      executionBudgetPlugin(executionBudget),
      httpStatusPlugin(),
      accessPlugin(),
      // Shape and cost limits, after the access check (a caller who may not run the operation learns nothing of its cost).
      ...limits.plugins,
      // Before the statement counter: it waits for the cache's last statement, which the cache registers as its hook starts.
      responseCache.plugin,
      ...(sqlCounter ? [sqlCounter.plugin] : []),
    ],
  });
  await apollo.start();
  const app = express();
  app.disable('x-powered-by');
  // First: the request id, the log line and the metrics of every request.
  app.use(observeRequests(orm));
  app.use('/health', healthRouter(readinessCheck(orm, () => draining, listener && (() => listener.listening()))));
  const scrape = sharedWhileRunning(options.metrics ?? (() => metricsRegistry.metrics()));
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metricsRegistry.contentType);
    res.end(await scrape());
  });
  // A request arriving on a kept-alive connection while the server drains is turned away; those already in flight finish.
  app.use((_req, res, next) => {
    if (!draining) return next();
    res.setHeader('connection', 'close');
    res.setHeader('retry-after', '1');
    res.status(503).json({
      errors: [
        {
          message: 'The server is shutting down; send the request again (another replica, or this one once it is back).',
          extensions: { code: 'SERVICE_UNAVAILABLE' },
        },
      ],
    });
  });
  // Before anything is read or run, for every route that works for a caller: who is it, and is it over its rate?
  const identify = (req: express.Request) => identifyCaller(req, orm, authenticator);
  // Then: may it run now, or must it wait for its own earlier requests (caller-slots.ts)?
  const admit = [rateLimit(orm, authenticator, rateLimits, rateLimiter), callerSlots(identify, options.callerSlots ?? DEFAULT_CALLER_SLOTS)];
  // One lane for every large body (record batches, uploads), signed-in callers only: see bulk-lane.ts.
  // Once admitted, a body must keep arriving (body-rate.ts), or its slot is freed with a 408.
  const bulk = [bulkLane(undefined, undefined, identify), bodyRate(options.bodyRate ?? DEFAULT_BODY_RATE)];
  app.use('/reports', ...admit, reportsRouter(orm, authenticator));
  app.use('/imports', ...admit, ...bulk, importsRouter(orm, authenticator, options.importLimits));
  // Hosted datasets: rows in (streamed, through the bulk lane) and out (docs/data-sharing.md).
  app.use('/mounts', ...admit, ...bulk, mountsRouter(orm, authenticator));
  // Each download holds a pooled connection while it streams: a bounded number at once (download-lane.ts).
  app.use('/directories', ...admit, downloadLane(), directoriesRouter(orm, authenticator, options.sendStallMs));
  const countSql: express.RequestHandler[] = sqlCounter ? [sqlCounter.middleware] : [];
  app.use(
    '/graphql',
    ...admit,
    ...bulk,
    ...graphqlJsonBody(GRAPHQL_BODY_BYTES),
    documentNestingGuard(),
    ...countSql,
    responseCache.middleware,
    // A page of a hosted dataset's rows, read, authorised and logged by the same service, without Apollo (row-page.direct.ts).
    rowPageDirect({
      schema,
      orm,
      authenticator,
      identify,
      validationRules: limits.validationRules,
      parseOptions: limits.parseOptions,
      maxCost: limitSettings.maxCost,
      maxResponseBytes: executionBudget.maxResponseBytes,
      requestTimeoutMs: executionBudget.requestTimeoutMs,
      stallMs: options.sendStallMs ?? DEFAULT_SEND_STALL_MS,
      headers: sqlCounter?.headers,
    }),
    // A request whose answer is stored and still right gets it here, without Apollo (response-cache.ts).
    responseCache.direct({ identify, stallMs: options.sendStallMs ?? DEFAULT_SEND_STALL_MS, headers: sqlCounter?.headers }),
    graphqlHandler(apollo, (req) => createContext(orm, authenticator, req.headers.authorization, identify(req)), options.sendStallMs),
  );
  // A body that is not JSON, too large or not UTF-8 never reaches Apollo: answered in GraphQL's shape, without express's HTML stack page.
  app.use('/graphql', graphqlBodyErrors(GRAPHQL_BODY_BYTES));
  // The dashboard at / (docs/dashboard.md), after every API route.
  app.use(webRouter({ demoTokens: options.demoTokens, directory: options.webDirectory }));
  httpServer.on('request', app);
  return {
    app,
    apollo,
    httpServer,
    responseCache,
    startDraining: () => {
      draining = true;
    },
    isDraining: () => draining,
  };
}

/** A port that cannot be listened on is a start-up problem with a remedy (one line, no stack), not a fault of Mulu's. */
function unusablePort(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') return error;
  return new StartupError(`${(error as Error).message}: set PORT (and HOST) to an address this process may listen on and no other process holds.`);
}

/**
 * Starts serving on `port` (0 picks a free one) and returns the GraphQL URL.
 * A server keeps its stored figures in step with the clock: before it
 * listens it recounts stale directories and lapsed subscriptions (time may
 * have passed while no server ran), then again every
 * `figuresRecountIntervalMs` until `stop()`. It folds new deliveries into
 * the usage figures every `usageFoldIntervalMs`.
 */
export async function startServer(orm: MikroORM, port: number, authenticator: Authenticator, options: AppOptions = {}): Promise<MuluServer> {
  const recountInterval = checkRecountInterval(options.figuresRecountIntervalMs ?? FIGURES_RECOUNT_INTERVAL_MS);
  // Waits for a replica recounting at this moment, then recounts what is still stale (usually nothing).
  await recountFigures(orm, { wait: true });
  const usageFoldInterval = checkRecountInterval(options.usageFoldIntervalMs ?? USAGE_FOLD_INTERVAL_MS);
  const webhookSettings: DispatcherSettings = { ...DEFAULT_DISPATCHER_SETTINGS, ...options.webhooks };
  setNotificationPolicy({
    allowPrivate: webhookSettings.allowPrivate,
    ...(options.rateThreshold !== undefined ? { rateThreshold: options.rateThreshold } : {}),
  });
  const listener = createPgListener(orm.config.get('clientUrl')!);
  let app: Awaited<ReturnType<typeof createApp>>;
  try {
    app = await createApp(orm, authenticator, options, listener);
  } catch (error) {
    await listener.close();
    throw error;
  }
  const { apollo, httpServer, responseCache, startDraining, isDraining } = app;
  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(port, options.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await apollo.stop();
    await responseCache.close();
    await listener.close();
    throw unusablePort(error);
  }
  const periodicJobs = options.periodicJobs !== false;
  const recount = periodicJobs ? scheduleFiguresRecount(orm, recountInterval) : null;
  const usageFold = periodicJobs ? scheduleUsageFold(orm, usageFoldInterval) : null;
  const unwatchPool = watchPool(orm.em.getConnection().getKnex().client.pool);
  const dispatcher = options.webhookDispatcher === false ? null : startDispatcher(orm.config.get('clientUrl')!, listener, webhookSettings);
  const address = httpServer.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shownHost =
    !options.host || ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'].includes(options.host)
      ? 'localhost'
      : options.host.includes(':')
        ? `[${options.host}]`
        : options.host;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${actualPort}/graphql`,
    httpServer,
    responseCacheStats: responseCache.stats,
    dispatcher,
    draining: isDraining,
    // Apollo 5's stop() must not run twice concurrently (the second never resolves): one stop, shared.
    // Apollo's drain plugin closes the listener and idle connections, and waits for requests in flight.
    stop: () =>
      (stopping ??= (async () => {
        startDraining();
        try {
          // The dispatcher stops alongside the drain and within its grace period: attempts in flight
          // may finish until then; after it they are cut and their deliveries are due again at once.
          await Promise.all([dispatcher?.stop(options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS), recount?.stop(), usageFold?.stop(), apollo.stop()]);
        } finally {
          unwatchPool();
          await responseCache.close();
          await listener.close();
        }
      })()),
  };
}
