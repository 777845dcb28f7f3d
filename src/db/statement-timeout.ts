import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The longest one SQL statement of an API request may run (MULU_STATEMENT_TIMEOUT_MS):
 * PostgreSQL cancels it (SQLSTATE 57014) and the request answers TIME_BUDGET_EXCEEDED.
 * Far above any statement of a province dashboard (milliseconds to a few hundred), far
 * below what a runaway statement would hold a pooled connection for.
 */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;

/**
 * Lets the rest of the current transaction run without the API's statement
 * timeout. The server's pool gives every connection the timeout (a
 * connection setting, since API reads run outside transactions, where `SET
 * LOCAL` cannot reach); the long jobs that share the pool lift it inside
 * their own transactions: migrations, the periodic recount, snapshot
 * capture, imports, record batches, dataset loads and deliveries, the demo
 * seed. At province scale each may run for minutes, or wait that long for a
 * lock another job holds, and none can be cut off half way. `SET LOCAL` ends
 * with the transaction, so the connection goes back to the pool with the
 * timeout in force; it takes no snapshot, so it may precede a repeatable-read
 * transaction's first lock.
 */
export async function liftStatementTimeout(em: EntityManager): Promise<void> {
  await em.execute('set local statement_timeout = 0');
}

/** Runs `work` in a transaction of its own without the statement timeout (see liftStatementTimeout). */
export async function withoutStatementTimeout<T>(em: EntityManager, work: (em: EntityManager) => Promise<T>): Promise<T> {
  return em.transactional(async (tx) => {
    await liftStatementTimeout(tx);
    return work(tx);
  });
}
