import { defineConfig, type Options } from '@mikro-orm/postgresql';
import type { EventSubscriber } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { entities } from './db/entities';
import { ChangeCollector } from './core/unit-of-work';
import { FiguresSubscriber } from './modules/stats/figures.subscriber';
import { AuditSubscriber } from './modules/audit/audit.subscriber';
import { migrationsList } from '../migrations';

/** The ORM configuration for a given database; the app, the tests and the CLI share it. */
export function ormConfig(clientUrl: string, overrides: Partial<Options> = {}): Options {
  return defineConfig({
    clientUrl,
    entities,
    // What every mutation's transaction derives from its changes, in this order (src/core/unit-of-work.ts):
    // collect the changes, recount the figures they move, write the audit entries.
    subscribers: [new ChangeCollector(), new FiguresSubscriber(), new AuditSubscriber()] as EventSubscriber[],
    extensions: [Migrator],
    forceUtcTimezone: true,
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
      // An idle pooled connection dropped by the server (restart, failover)
      // must not crash the process: log it and let the pool replace it.
      afterCreate: (connection: { on(event: 'error', listener: (error: Error) => void): void }, done: (error: Error | null, connection: unknown) => void) => {
        let closedByServer = false;
        connection.on('error', (error: Error & { code?: string }) => {
          // 57P01: the server is shutting down (a restart, a failover, or Ctrl-C reaching the embedded
          // PostgreSQL too). The socket closing right after it ("Connection terminated unexpectedly") is the same event.
          if (error.code === '57P01') {
            closedByServer = true;
            console.warn('[db] PostgreSQL closed a pooled connection while shutting down; the pool opens a new one when needed.');
          } else if (!closedByServer) {
            console.error('[db] connection error:', error.message);
          }
        });
        done(null, connection);
      },
    },
    ...overrides,
  });
}

// The MikroORM CLI (npm run migration:create) reads this default export.
export default ormConfig(process.env.DATABASE_URL ?? 'postgres://postgres:mulu@127.0.0.1:5432/mulu');
