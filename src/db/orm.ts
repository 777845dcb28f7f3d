import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { ormConfig, type ConnectionSettings } from '../mikro-orm.config';
import { logger } from '../observability/logger';
import { withoutStatementTimeout } from './statement-timeout';

/**
 * Connects and applies pending migrations; the schema is never synced from
 * entities in application code. Migrations run in one transaction without
 * the statement timeout (a migration of a province's tables may take minutes).
 */
export async function initOrm(databaseUrl: string, overrides: Partial<Options> = {}, settings: ConnectionSettings = {}): Promise<MikroORM> {
  const orm = await MikroORM.init(ormConfig(databaseUrl, overrides, settings));
  const migrator = orm.getMigrator();
  const pending = await migrator.getPendingMigrations();
  if (pending.length === 0) return orm;
  // A first start applies them all, then loads the demo: a minute or two with nothing said, as if it hung.
  logger.info({ migrations: pending.length }, `applying ${pending.length} database migrations`);
  await withoutStatementTimeout(orm.em.fork(), async (em) => {
    await migrator.up({ transaction: em.getTransactionContext() });
  });
  return orm;
}
