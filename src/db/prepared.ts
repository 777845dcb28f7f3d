import { createHash } from 'node:crypto';
import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { serviceUnavailable, sqlStateOf } from '../core/errors';

/** Statement names by text: a name is the text's hash, so two texts never share one. */
const names = new Map<string, string>();

/** Part of every name; a new one when PostgreSQL refused a statement prepared before a table it reads changed (runPrepared). */
let generation = 0;

export function preparedStatementName(sql: string): string {
  let name = names.get(sql);
  if (!name) names.set(sql, (name = `mulu_${createHash('sha256').update(`${generation}\n${sql}`).digest('hex').slice(0, 24)}`));
  return name;
}

/**
 * Whether PostgreSQL refused a prepared statement because the columns it
 * returns changed since the connection prepared it: a migration (another
 * replica's, during a rolling release) added, dropped or retyped a column of
 * a table it reads. The statement then fails on that connection every time.
 */
function isStalePlan(error: unknown): boolean {
  return sqlStateOf(error) === '0A000' && /cached plan must not change result type/i.test(String((error as { message?: unknown } | null)?.message));
}

/**
 * Runs a statement prepared under `name` (what `run` sends). A stale plan
 * (isStalePlan) gives every text a new name, so that every connection
 * prepares its statements afresh on first use, and runs the statement again
 * once under its new name. Inside a transaction the failure has aborted it:
 * the request is answered SERVICE_UNAVAILABLE (try again), and the next runs
 * under the new name.
 */
export async function runPrepared<T>(sql: string, run: (name: string) => Promise<T>, inTransaction = false): Promise<T> {
  const name = preparedStatementName(sql);
  try {
    return await run(name);
  } catch (error) {
    if (!isStalePlan(error)) throw error;
    // Once per stale name: requests that failed beside this one find the new names made already.
    if (names.get(sql) === name) {
      generation++;
      names.clear();
    }
    if (inTransaction) throw serviceUnavailable('A table changed under this request (a new release of Mulu is being rolled out); please try again.', 1);
    return run(preparedStatementName(sql));
  }
}

/**
 * Runs `sql` (`?` placeholders, values bound by PostgreSQL, not written into
 * the text) as a named prepared statement: each pooled connection parses it
 * once and plans it once (the connections ask for generic plans,
 * mikro-orm.config.ts: a generic plan prunes partitions at run time). For the few statements of a hot path whose
 * text is one of a handful: planning a page of rows over the partitions of
 * dataset_row cost more than running it. Through knex, so the statement
 * counter and the clock watcher see it like any other; not logged by
 * MikroORM's query log. A table altered under it heals (runPrepared).
 */
export async function executePrepared<T>(em: EntityManager, sql: string, params: readonly unknown[]): Promise<T[]> {
  const transaction = em.getTransactionContext<Knex.Transaction>();
  return runPrepared(
    sql,
    async (name) => {
      const query = em
        .getConnection()
        .getKnex()
        .raw(sql, params as Knex.RawBinding[])
        .options({ name });
      if (transaction) query.transacting(transaction);
      const result = (await query) as { rows: T[] };
      return result.rows;
    },
    transaction !== undefined,
  );
}

/**
 * Runs the statement `sql(condition)` for the rows whose key is one of
 * `keys`, the condition comparing the key column (the statement's first
 * `?`; `rest` are the values of the others). One key (a dashboard asks for
 * one region, its children, its ranking) is compared as a value in a
 * prepared statement: each connection plans it once, with a generic plan,
 * where an unnamed statement is planned afresh every time (0.4 ms for a
 * province's cities and districts, a third of running it). Several keys go
 * as one list in an unnamed statement, planned for its values: the generic
 * plan of a list of unknown length counts on many keys, and for a short
 * list it can be far worse (a district's ranking as an array: all 10,000
 * departments hashed, 1.5 ms, against 0.4 ms by the indexes).
 */
export async function executeForKeys<T>(
  em: EntityManager,
  keys: readonly unknown[],
  sql: (condition: string) => string,
  rest: readonly unknown[] = [],
): Promise<T[]> {
  if (keys.length === 1) return executePrepared<T>(em, sql('= ?'), [keys[0], ...rest]);
  return em.execute<T[]>(sql('in (?)'), [[...keys], ...rest]);
}
