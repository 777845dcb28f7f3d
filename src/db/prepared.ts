import { createHash } from 'node:crypto';
import type { EntityManager, Knex } from '@mikro-orm/postgresql';

/** Statement names by text: a name is the text's hash, so two texts never share one. */
const names = new Map<string, string>();

export function preparedStatementName(sql: string): string {
  let name = names.get(sql);
  if (!name) names.set(sql, (name = `mulu_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`));
  return name;
}

/**
 * Runs `sql` (`?` placeholders, values bound by PostgreSQL, not written into
 * the text) as a named prepared statement: each pooled connection parses it
 * once and plans it once (the connections ask for generic plans,
 * mikro-orm.config.ts: a generic plan prunes partitions at run time). For the few statements of a hot path whose
 * text is one of a handful: planning a page of rows over the partitions of
 * dataset_row cost more than running it. Through knex, so the statement
 * counter and the clock watcher see it like any other; not logged by
 * MikroORM's query log.
 */
export async function executePrepared<T>(em: EntityManager, sql: string, params: readonly unknown[]): Promise<T[]> {
  const query = em
    .getConnection()
    .getKnex()
    .raw(sql, params as Knex.RawBinding[])
    .options({ name: preparedStatementName(sql) });
  const transaction = em.getTransactionContext<Knex.Transaction>();
  if (transaction) query.transacting(transaction);
  const result = (await query) as { rows: T[] };
  return result.rows;
}
