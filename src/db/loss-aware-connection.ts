import { AbstractSqlDriver, PostgreSqlConnection, PostgreSqlPlatform, type Configuration, type Knex } from '@mikro-orm/postgresql';

/** How long to wait for a finished transaction to say why it finished (it has, by then: this only bounds a surprise). */
const REASON_WAIT_MS = 1_000;

/** Knex's message for a statement sent on a transaction that has already ended. */
const TRANSACTION_ENDED = /Transaction query already complete/;

/**
 * Why a finished knex transaction ended, when its own BEGIN, SAVEPOINT,
 * COMMIT or ROLLBACK failed (knex keeps that error in the transaction's
 * execution promise); undefined when it ended normally.
 */
async function failureThatEnded(transaction: Knex.Transaction): Promise<Error | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    transaction.executionPromise.then(
      () => ({ failed: false as const }),
      (reason: unknown) => ({ failed: true as const, reason }),
    ),
    new Promise<{ failed: false }>((done) => (timer = setTimeout(() => done({ failed: false }), REASON_WAIT_MS))),
  ]);
  clearTimeout(timer);
  if (!outcome.failed) return undefined;
  return outcome.reason instanceof Error
    ? outcome.reason
    : new Error(outcome.reason === undefined ? 'the transaction ended with no reason given' : String(outcome.reason));
}

/**
 * MikroORM's PostgreSQL connection, reporting a connection lost under a
 * transaction as what it is.
 *
 * Knex 3 hands out a transaction whose BEGIN failed (the pooled connection
 * was lost just before: a database restart, a failover): it swallows the
 * error, marks the transaction finished and returns its connection to the
 * pool. The first statement of the transaction then failed with "Transaction
 * query already complete", which reads as a bug (INTERNAL_SERVER_ERROR) while
 * the cause was the database going away (SERVICE_UNAVAILABLE, and nothing
 * written). Here `begin` throws the failure of BEGIN itself, and a
 * transaction that fails with "already complete" reports why it ended.
 *
 * The rollback after a failure is still sent when the connection is lost:
 * on a broken connection it fails at once (knex then drops the error), and
 * it is what finishes the knex transaction and hands the connection back to
 * the pool, which discards it; skipping it would leak a pool slot. PostgreSQL
 * itself rolls back a transaction whose connection ended, so a request that
 * fails this way has written nothing.
 */
export class LossAwareConnection extends PostgreSqlConnection {
  override async begin(options: Parameters<PostgreSqlConnection['begin']>[0] = {}): Promise<Knex.Transaction> {
    const transaction = await super.begin(options);
    if (transaction.isCompleted()) {
      // Finished before its first statement: BEGIN (or SAVEPOINT) failed; knex has already released the connection.
      throw (await failureThatEnded(transaction)) ?? new Error('The transaction ended as it began (knex reported no cause).');
    }
    return transaction;
  }

  override async transactional<T>(cb: (trx: Knex.Transaction) => Promise<T>, options: Parameters<PostgreSqlConnection['transactional']>[1] = {}): Promise<T> {
    let transaction: Knex.Transaction | undefined;
    try {
      return await super.transactional((trx) => {
        transaction = trx;
        return cb(trx);
      }, options);
    } catch (error) {
      if (transaction && error instanceof Error && TRANSACTION_ENDED.test(error.message)) {
        const reason = await failureThatEnded(transaction);
        if (reason) throw reason;
      }
      throw error;
    }
  }
}

/** MikroORM's PostgreSQL driver (the same construction as `PostgreSqlDriver`) on a {@link LossAwareConnection}. */
export class MuluPostgreSqlDriver extends AbstractSqlDriver<LossAwareConnection> {
  constructor(config: Configuration) {
    super(config, new PostgreSqlPlatform(), LossAwareConnection, ['knex', 'pg']);
  }
}
