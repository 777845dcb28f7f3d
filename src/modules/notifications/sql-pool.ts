import { Pool, type PoolClient } from 'pg';
import { runPrepared } from '../../db/prepared';
import { logger } from '../../observability/logger';
import type { SqlExecutor } from './notification-event';

/** `?` placeholders (as the ORM's execute takes them) to PostgreSQL's `$1, $2, ...`; Mulu's statements here use no other `?`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export interface SqlPool {
  execute: SqlExecutor;
  /**
   * Runs a statement prepared once per connection (PostgreSQL plans it once
   * and reuses the plan; named by its text as src/db/prepared.ts names the
   * ORM pool's): for the statements a background job repeats many times a
   * second.
   */
  prepared(sql: string, params?: unknown[]): Promise<any[]>;
  /** Runs `work` in one transaction on one connection. */
  transaction<T>(work: (execute: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The name its connections give PostgreSQL (pg_stat_activity's application_name), for operators and the tests that stop them. */
export const SQL_POOL_APPLICATION_NAME = 'mulu-notifications';

/**
 * How long a statement of this pool may go unanswered: then it fails and its
 * connection is dropped. Far above what the dispatcher's statements take (a
 * claim, a batch of results, the clock's scan); a connection cut without a
 * word (a NAT's idle timeout, a lost route) would otherwise hold a claim,
 * and with it every delivery, until the server was restarted.
 */
export const SQL_POOL_QUERY_TIMEOUT_MS = 60_000;

/**
 * A small pool of its own for the dispatcher and the clock's events: their
 * background statements (a claim every second) stay out of the ORM's pool,
 * its connections and its statement counters (sql-statement-count.ts).
 */
export function createSqlPool(
  connectionString: string,
  max = 2,
  log: (message: string) => void = (m) => logger.warn({ component: 'notifications' }, m),
  queryTimeoutMs = SQL_POOL_QUERY_TIMEOUT_MS,
): SqlPool {
  // pg-pool drops a connection handed back with an error (pool.query does so), so the next statement gets a new one.
  const pool = new Pool({ connectionString, max, idleTimeoutMillis: 30_000, query_timeout: queryTimeoutMs, application_name: SQL_POOL_APPLICATION_NAME });
  // A connection dropped by the server (restart, failover) must not crash the process.
  pool.on('error', (error) => log(`[notifications] an idle database connection failed: ${error.message}`));
  // The pool listens for the errors of idle connections only: while one is lent (a transaction between two of its
  // statements), PostgreSQL ending the session (a restart: "terminating connection due to unexpected postmaster
  // exit") would be an 'error' event nobody listens to, which ends the process. Every connection keeps a listener
  // of its own; the statement then sent on it fails, and so does its transaction.
  pool.on('connect', (client) => client.on('error', (error) => log(`[notifications] a database connection in use failed: ${error.message}`)));
  const on =
    (client: Pool | PoolClient): SqlExecutor =>
    async (sql, params = []) =>
      (await client.query(numbered(sql), params)).rows;
  return {
    execute: on(pool),
    prepared: (sql, params = []) => runPrepared(sql, async (name) => (await pool.query({ name, text: numbered(sql), values: params })).rows),
    async transaction(work) {
      const client = await pool.connect();
      let failure: Error | undefined;
      try {
        await client.query('begin');
        const result = await work(on(client));
        await client.query('commit');
        return result;
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
        await client.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        // Handed back with its failure, the connection is dropped: it may be the one that stopped answering.
        client.release(failure);
      }
    },
    close: () => pool.end(),
  };
}
