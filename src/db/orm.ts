import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { ormConfig } from '../mikro-orm.config';

/**
 * Connects and applies pending migrations; the schema is never synced from
 * entities in application code.
 */
export async function initOrm(databaseUrl: string, overrides: Partial<Options> = {}): Promise<MikroORM> {
  const orm = await MikroORM.init(ormConfig(databaseUrl, overrides));
  await orm.getMigrator().up();
  return orm;
}
