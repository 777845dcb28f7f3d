import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { ormConfig, type ConnectionSettings } from '../mikro-orm.config';
import { logger } from '../observability/logger';
import { StartupError } from './embedded-postgres';
import { JobStopped, withJobLock } from './periodic-job';

/**
 * The advisory lock (two keys: "mulu" in ASCII, 2) that applying migrations
 * holds: replicas (or a primary and a late worker) starting at once on one
 * database migrate one after the other, and the second finds nothing left.
 */
export const MIGRATION_LOCK_KEYS = [0x6d756c75, 2] as const;

/**
 * Connects and applies pending migrations; the schema is never synced from
 * entities in application code. Migrations run in one transaction without
 * the statement timeout (a migration of a province's tables may take
 * minutes), under MIGRATION_LOCK_KEYS: without it two servers starting on
 * an empty database both created the first migration's tables, and one
 * failed its start on a duplicate type. The migrator reads what was applied
 * (and creates its own table) only once the lock is held. `stop` (a
 * shutdown during the start) ends the migrations, or the wait for another
 * replica's, and rolls them back: JobStopped.
 */
export async function initOrm(databaseUrl: string, overrides: Partial<Options> = {}, settings: ConnectionSettings = {}, stop?: AbortSignal): Promise<MikroORM> {
  const orm = await MikroORM.init(ormConfig(databaseUrl, overrides, settings));
  const migrator = orm.getMigrator();
  try {
    await refuseMissingDatabase(orm);
    const started = Date.now();
    const applied = await withJobLock(orm.em, MIGRATION_LOCK_KEYS, true, (em) => migrator.up({ transaction: em.getTransactionContext() }), stop).catch(
      (error: unknown) => {
        if (error instanceof JobStopped)
          throw new JobStopped(
            'the database migrations were being applied, or waited for another server applying them: stopped and rolled back, and the next start applies them',
          );
        throw error;
      },
    );
    // What a first start did before the demo's load (docs/operations.md); nothing when there was nothing to apply.
    if (applied?.length) logger.info({ migrations: applied.length, ms: Date.now() - started }, `applied ${applied.length} database migrations`);
  } catch (error) {
    await orm.close(true);
    throw error;
  }
  return orm;
}

/** PostgreSQL's SQLSTATE for a connection to a database that does not exist. */
const INVALID_CATALOG_NAME = '3D000';

/**
 * A database that does not exist is refused, not made: MikroORM's migrator
 * creates it (through the server's `postgres` database) before reading what
 * was applied, so a misspelt name in DATABASE_URL started an empty second
 * database beside the real one, and the server answered from it. Asked
 * first, before the migrator, with `ensureDatabase` off (mikro-orm.config.ts).
 */
async function refuseMissingDatabase(orm: MikroORM): Promise<void> {
  try {
    await orm.em.getConnection().execute('select 1');
  } catch (error) {
    const code = (error as { code?: unknown; previous?: { code?: unknown } }).code ?? (error as { previous?: { code?: unknown } }).previous?.code;
    if (code !== INVALID_CATALOG_NAME) throw error;
    const name = orm.config.get('dbName');
    throw new StartupError(
      `PostgreSQL has no database named ${name} (DATABASE_URL names it): create it (createdb ${name}), or name one that exists. Mulu creates its tables at start, not the database.`,
    );
  }
}
