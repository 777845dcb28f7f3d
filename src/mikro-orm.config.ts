import { defineConfig, type Options } from '@mikro-orm/postgresql';
import type { EventSubscriber } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { entities } from './db/entities';
import { ChangeCollector } from './core/unit-of-work';
import { FiguresSubscriber } from './modules/stats/figures.subscriber';
import { AuditSubscriber } from './modules/audit/audit.subscriber';
import { NotificationsSubscriber } from './modules/notifications/notifications.subscriber';
import { migrationsList } from '../migrations';
import { logger } from './observability/logger';
import { READ_ONLY_TRANSACTION, WRITES_REFUSED_STATES } from './core/errors';
import { writeRefusals } from './core/write-refusals';
import { MuluPostgreSqlDriver } from './db/loss-aware-connection';

/** How long a query waits for a pooled connection before failing (as SERVICE_UNAVAILABLE), and how long opening one may take. */
export const POOL_ACQUIRE_TIMEOUT_MS = 10_000;
export const CONNECT_TIMEOUT_MS = 3_000;

/** Settings of the connections themselves. */
export interface ConnectionSettings {
  /**
   * Milliseconds after which PostgreSQL cancels a statement, for every
   * connection of the pool (MULU_STATEMENT_TIMEOUT_MS; src/db/statement-timeout.ts);
   * absent or 0: none (the CLI's jobs).
   */
  statementTimeoutMs?: number;
}

/** The ORM configuration for a given database; the app, the tests and the CLI share it. */
export function ormConfig(clientUrl: string, overrides: Partial<Options> = {}, settings: ConnectionSettings = {}): Options {
  return defineConfig({
    clientUrl,
    // A connection lost under a transaction reports the loss (503), not knex's "Transaction query already complete".
    driver: MuluPostgreSqlDriver,
    entities,
    // What every mutation's transaction derives from its changes, in this order (src/core/unit-of-work.ts):
    // collect the changes, recount the figures they move, write the audit entries, queue the webhook events.
    subscribers: [new ChangeCollector(), new FiguresSubscriber(), new AuditSubscriber(), new NotificationsSubscriber()] as EventSubscriber[],
    extensions: [Migrator],
    forceUtcTimezone: true,
    // MULU_LOG_SQL and MikroORM's own messages go to the JSON log like everything else.
    logger: (message: string) => logger.info({ component: 'orm' }, message),
    // A database that does not answer fails a request within seconds instead of hanging it.
    driverOptions: {
      // statement_timeout is sent with the connection's start-up parameters: no statement of its own. So is
      // plan_cache_mode: only the named statements of src/db/prepared.ts use the plan cache, and their generic
      // plan (partitions pruned at run time) is what they are prepared for; left to choose, PostgreSQL planned
      // a page of rows afresh each time, which cost more than running it.
      connection: {
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        // A connection whose peer vanished without a word (a NAT's idle timeout, a lost route) is found dead by
        // TCP's keep-alive probes (after this idle time, then the system's interval and count: minutes) instead of
        // holding a request and its pool slot for good; the statement timeout does not cover a reply that never comes.
        keepAlive: true,
        keepAliveInitialDelayMillis: 30_000,
        options: '-c plan_cache_mode=force_generic_plan',
        ...(settings.statementTimeoutMs ? { statement_timeout: settings.statementTimeoutMs } : {}),
      },
      // knex's own messages (a connection that ended, a deprecation) too, instead of console.
      log: {
        warn: (message: unknown) => logger.warn({ component: 'knex' }, String(message)),
        error: (message: unknown) => logger.warn({ component: 'knex' }, String(message)),
        deprecate: (message: unknown) => logger.warn({ component: 'knex' }, String(message)),
        debug: (message: unknown) => logger.debug({ component: 'knex' }, String(message)),
      },
    },
    // A database that does not exist is refused at start (src/db/orm.ts), never created by MikroORM.
    ensureDatabase: false,
    // Application code never syncs the schema; migrations do (see migrations/).
    schemaGenerator: { disableForeignKeys: false },
    migrations: {
      path: 'migrations',
      pathTs: 'migrations',
      emit: 'ts',
      snapshot: false,
      silent: true,
      transactional: true,
      allOrNothing: true,
      migrationsList,
    },
    pool: {
      min: 0,
      max: 10,
      acquireTimeoutMillis: POOL_ACQUIRE_TIMEOUT_MS,
      // An idle pooled connection dropped by the server (restart, failover)
      // must not crash the process: log it and let the pool replace it.
      afterCreate: (connection: PooledClient, done: (error: Error | null, connection: unknown) => void) => {
        replaceWhenReadOnly(connection);
        let closedByServer = false;
        connection.on('error', (error: Error & { code?: string }) => {
          // 57P01: the server is shutting down (a restart, a failover, or Ctrl-C reaching the embedded
          // PostgreSQL too). The socket closing right after it ("Connection terminated unexpectedly") is the same event.
          if (error.code === '57P01') {
            closedByServer = true;
            logger.warn('PostgreSQL closed a pooled connection while shutting down; the pool opens a new one when needed.');
          } else if (!closedByServer) {
            logger.warn({ err: error }, 'a pooled database connection failed; the pool replaces it');
          }
        });
        done(null, connection);
      },
    },
    ...overrides,
  });
}

/** The pool's pg client, as far as the pool's hooks use it. */
interface PooledClient {
  on(event: 'error', listener: (error: Error) => void): void;
  query(...args: unknown[]): unknown;
  /** knex's mark of a connection to discard rather than hand out again. */
  __knex__disposed?: unknown;
}

/**
 * A query pg takes as an object that handles its own answers (a COPY of
 * pg-copy-streams): pg tells it its error and its completion, not a callback.
 */
interface Submittable {
  submit(connection: unknown): void;
  handleError(error: Error, ...rest: unknown[]): unknown;
  handleCommandComplete?(message: { text?: string }, ...rest: unknown[]): unknown;
}

const isSubmittable = (value: unknown): value is Submittable =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Submittable).submit === 'function' &&
  typeof (value as Submittable).handleError === 'function';

/** Statements that write: one answered without an error means the database takes writes again. */
const WRITE_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'COPY']);

/**
 * A connection that answered "read-only transaction" (25006) is discarded
 * when it is handed back: its session is read-only for good (begun while the
 * database's default_transaction_read_only was on, or on a standby after a
 * failover), and kept, it refused every write it carried after the database
 * was writable again, until the pool let it go idle (never, under traffic).
 * A new connection takes the database as it is now. Logged, and reported by
 * readiness (core/write-refusals.ts), since the caller's 503 alone says
 * nothing to an operator. Every answer counts, a statement's (its callback)
 * and a COPY's (a submittable: a load of rows, refused before it begins).
 */
function replaceWhenReadOnly(connection: PooledClient): void {
  const failed = (error: (Error & { code?: string }) | null | undefined) => {
    if (!error || !WRITES_REFUSED_STATES.has(error.code ?? '')) return;
    logger.warn({ err: error }, `PostgreSQL refused a write (${error.message}): the database takes no writes now; reads go on`);
    writeRefusals.refused(error.message);
    if (error.code === READ_ONLY_TRANSACTION) connection.__knex__disposed ??= error;
  };
  const completed = (command: unknown) => {
    if (typeof command === 'string' && WRITE_COMMANDS.has(command)) writeRefusals.taken();
  };
  const query = connection.query.bind(connection);
  connection.query = (...args: unknown[]) => {
    const last = args.length - 1;
    const callback = args[last];
    const [first] = args;
    if (typeof callback === 'function') {
      args[last] = (error: (Error & { code?: string }) | null, result: { command?: unknown } | undefined, ...rest: unknown[]) => {
        if (error) failed(error);
        else completed(result?.command);
        return (callback as (...all: unknown[]) => unknown)(error, result, ...rest);
      };
    } else if (isSubmittable(first)) {
      const handleError = first.handleError.bind(first);
      first.handleError = (error, ...rest) => {
        failed(error);
        return handleError(error, ...rest);
      };
      const handleCommandComplete = first.handleCommandComplete?.bind(first);
      if (handleCommandComplete)
        first.handleCommandComplete = (message, ...rest) => {
          completed(message?.text?.split(' ')[0]);
          return handleCommandComplete(message, ...rest);
        };
    }
    return query(...args);
  };
}

// The MikroORM CLI (npm run migration:create) reads this default export.
export default ormConfig(process.env.DATABASE_URL ?? 'postgres://postgres:mulu@127.0.0.1:5432/mulu');
