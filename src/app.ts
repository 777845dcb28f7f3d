import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import type { MikroORM } from '@mikro-orm/postgresql';
import express from 'express';
import http from 'node:http';
import { createContext, type MuluContext } from './graphql/context';
import { formatError } from './graphql/errors';
import { queryCostLimit } from './graphql/query-cost';
import { accessPlugin } from './modules/auth/auth.guard';
import type { Authenticator } from './modules/auth/authenticator';
import { buildMuluSchema } from './graphql/schema';
import { createSqlStatementCounter } from './graphql/sql-statement-count';
import { reportsRouter } from './modules/reports/reports.routes';
import { importsRouter } from './modules/imports/imports.routes';
import type { ImportLimits } from './modules/imports/import-limits';
import { bulkLane } from './http/bulk-lane';
import { bodyRate, DEFAULT_BODY_RATE, type BodyRate } from './http/body-rate';
import { identifyCaller } from './http/caller';
import { DEFAULT_RATE_LIMITS, rateLimit, type RateLimits } from './http/rate-limit';
import { createResponseCache, DEFAULT_RESPONSE_CACHE_BYTES, type ResponseCacheStats } from './graphql/response-cache';
import { watchClockSql } from './db/clock-reads';
import { departmentFiguresService } from './modules/stats/department-figures.service';
import { checkRecountInterval, FIGURES_RECOUNT_INTERVAL_MS, scheduleFiguresRecount } from './modules/stats/figures-recount';
import { attachGraphQLWebSocket } from './graphql/websocket';
import { createPgListener, type PgListener } from './modules/notifications/pg-listener';
import { createLiveUpdates } from './modules/notifications/live-updates';
import { DEFAULT_DISPATCHER_SETTINGS, startDispatcher, type Dispatcher, type DispatcherSettings } from './modules/notifications/webhook-dispatcher';
import { setNotificationPolicy } from './modules/notifications/notification-policy';

/** Enough for a province dashboard or 500 departments with their figures; far below a nested-pages attack. */
export const DEFAULT_MAX_QUERY_COST = 1_000_000;

export interface AppOptions {
  /** Largest estimated cost of one operation (see src/graphql/query-cost.ts). */
  maxQueryCost?: number;
  /** Return each request's SQL statement count in a response header (benchmarks; see sql-statement-count.ts). */
  sqlCountHeader?: boolean;
  /**
   * How often the stored counts that change with the clock alone (stale
   * directories, lapsed subscriptions) are recounted, in milliseconds;
   * default five minutes (see src/modules/stats/figures-recount.ts).
   */
  figuresRecountIntervalMs?: number;
  /** Memory for answers the response cache keeps (see src/graphql/response-cache.ts); 0 turns it off. Default 32 MiB. */
  responseCacheBytes?: number;
  /** Webhook delivery: concurrency, retries, private receivers (docs/notifications.md); defaults in webhook-dispatcher.ts. */
  webhooks?: Partial<DispatcherSettings>;
  /** The rate threshold of RATE_FELL_BELOW_THRESHOLD / RATE_ROSE_ABOVE_THRESHOLD events (MULU_RATE_THRESHOLD, default 0.6). */
  rateThreshold?: number;
  /** Run no webhook dispatcher in this server (another process sends); events are still written. */
  webhookDispatcher?: boolean;
  /** Requests a minute per caller and per anonymous address (src/http/rate-limit.ts); 0 turns one off. */
  rateLimits?: RateLimits;
  /** How fast a request body must arrive (src/http/body-rate.ts). */
  bodyRate?: BodyRate;
  /** Caps on what one import file may hold (src/modules/imports/import-limits.ts). */
  importLimits?: ImportLimits;
}

export interface MuluServer {
  url: string;
  httpServer: http.Server;
  /** Stops the periodic recount, then Apollo and the HTTP server; calling it again waits for the same stop. */
  stop(): Promise<void>;
  /** What the response cache has done since start (src/graphql/response-cache.ts). */
  responseCacheStats(): ResponseCacheStats;
  /** The webhook dispatcher of this server, when it runs one. */
  dispatcher: Dispatcher | null;
}

/** Builds the Apollo server and the HTTP app around it, without listening; `authenticator` decides who each request is. */
export async function createApp(orm: MikroORM, authenticator: Authenticator, options: AppOptions = {}, listener: PgListener | null = null) {
  const schema = await buildMuluSchema();
  const httpServer = http.createServer();
  // GraphQL subscriptions (graphql-ws) on the same path, fed by PostgreSQL notifications.
  const live = createLiveUpdates(listener);
  const webSocket = attachGraphQLWebSocket({ httpServer, schema, orm, authenticator, live, maxQueryCost: options.maxQueryCost ?? DEFAULT_MAX_QUERY_COST });
  const sqlCounter = options.sqlCountHeader ? createSqlStatementCounter(orm) : undefined;
  const responseCache = createResponseCache(options.responseCacheBytes ?? DEFAULT_RESPONSE_CACHE_BYTES);
  watchClockSql(orm);
  const apollo = new ApolloServer<MuluContext>({
    schema,
    formatError: (formatted, error) => formatError(formatted, error),
    includeStacktraceInErrorResponses: false,
    introspection: true,
    // main.ts stops the server, the pool and the embedded database on SIGINT/SIGTERM. Apollo's own
    // handler would race it: a second concurrent stop() in Apollo 5 never resolves, and the process hangs.
    stopOnTerminationSignals: false,
    // Sends an answer from the response cache as stored, and keeps the text of answers it may reuse.
    stringifyResult: responseCache.stringifyResult,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              live.close();
              await webSocket.stop();
            },
          };
        },
      },
      ApolloServerPluginLandingPageLocalDefault({ embed: true }),
      // Mulu sets no cache hints; the default cache-control plugin would still wrap every field's resolver
      // (a tenth of a province dashboard's CPU time).
      ApolloServerPluginCacheControlDisabled(),
      accessPlugin(),
      queryCostLimit(options.maxQueryCost ?? DEFAULT_MAX_QUERY_COST),
      // Before the statement counter: it waits for the cache's last statement, which the cache registers as its hook starts.
      responseCache.plugin,
      ...(sqlCounter ? [sqlCounter.plugin] : []),
    ],
  });
  await apollo.start();
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Before anything is read or run, for every route that works for a caller: who is it, and is it over its rate?
  const identify = (req: express.Request) => identifyCaller(req, orm, authenticator);
  const limit = rateLimit(orm, authenticator, options.rateLimits ?? DEFAULT_RATE_LIMITS);
  // One lane for every large body (record batches, uploads), signed-in callers only: see bulk-lane.ts.
  // Once admitted, a body must keep arriving (body-rate.ts), or its slot is freed with a 408.
  const bulk = [bulkLane(undefined, undefined, identify), bodyRate(options.bodyRate ?? DEFAULT_BODY_RATE)];
  app.use('/reports', limit, reportsRouter(orm, authenticator));
  app.use('/imports', limit, ...bulk, importsRouter(orm, authenticator, options.importLimits));
  const countSql: express.RequestHandler[] = sqlCounter ? [sqlCounter.middleware] : [];
  app.use(
    '/graphql',
    limit,
    ...bulk,
    express.json({ limit: '20mb' }),
    ...countSql,
    responseCache.middleware,
    expressMiddleware(apollo, { context: async ({ req }) => createContext(orm, authenticator, req.headers.authorization, identify(req)) }),
  );
  // A body that is not JSON, or too large, never reaches Apollo: answer in GraphQL's shape, without express's HTML stack page.
  app.use('/graphql', (error: { status?: number; type?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    // Already answered (a slow body cut off with 408): the parser's late "aborted" has no one to tell.
    if (res.headersSent) return;
    const tooLarge = error.type === 'entity.too.large';
    res.status(tooLarge ? 413 : (error.status ?? 400)).json({
      errors: [{ message: tooLarge ? 'The request body is too large (20 MB at most).' : 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }],
    });
  });
  httpServer.on('request', app);
  return { app, apollo, httpServer, responseCache };
}

/**
 * Starts serving on `port` (0 picks a free one) and returns the GraphQL URL.
 * A server keeps its stored figures in step with the clock: before it
 * listens it recounts stale directories and lapsed subscriptions (time may
 * have passed while no server ran), then again every
 * `figuresRecountIntervalMs` until `stop()`.
 */
export async function startServer(orm: MikroORM, port: number, authenticator: Authenticator, options: AppOptions = {}): Promise<MuluServer> {
  const recountInterval = checkRecountInterval(options.figuresRecountIntervalMs ?? FIGURES_RECOUNT_INTERVAL_MS);
  await departmentFiguresService.refreshStaleness(orm.em.fork());
  const webhookSettings: DispatcherSettings = { ...DEFAULT_DISPATCHER_SETTINGS, ...options.webhooks };
  setNotificationPolicy({ allowPrivate: webhookSettings.allowPrivate, ...(options.rateThreshold !== undefined ? { rateThreshold: options.rateThreshold } : {}) });
  const listener = createPgListener(orm.config.get('clientUrl')!);
  let app: Awaited<ReturnType<typeof createApp>>;
  try {
    app = await createApp(orm, authenticator, options, listener);
  } catch (error) {
    await listener.close();
    throw error;
  }
  const { apollo, httpServer, responseCache } = app;
  await new Promise<void>((resolve) => httpServer.listen(port, resolve));
  const recount = scheduleFiguresRecount(orm, recountInterval);
  const dispatcher = options.webhookDispatcher === false ? null : startDispatcher(orm.config.get('clientUrl')!, listener, webhookSettings);
  const address = httpServer.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://localhost:${actualPort}/graphql`,
    httpServer,
    responseCacheStats: responseCache.stats,
    dispatcher,
    // Apollo 5's stop() must not run twice concurrently (the second never resolves): one stop, shared.
    stop: () =>
      (stopping ??= (async () => {
        await recount.stop();
        await dispatcher?.stop();
        await apollo.stop();
        await listener.close();
      })()),
  };
}
