import { createSqlPool } from '../../../src/modules/notifications/sql-pool';
import { createTestDatabase } from '../../support/database';

/**
 * The notifications' own pool (src/modules/notifications/sql-pool.ts): a
 * connection the server ends while it is lent to a transaction, between two
 * of its statements (PostgreSQL restarting, a failover), fails that
 * transaction and nothing else: the process keeps running and the pool
 * answers on a new connection.
 */
describe('the notifications pool', () => {
  let database: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it('fails a transaction whose connection the server ended between two statements, and goes on', async () => {
    const logged: string[] = [];
    const pool = createSqlPool(database.url, 2, (message) => logged.push(message));
    const other = createSqlPool(database.url, 1, () => undefined);
    try {
      const outcome = pool.transaction(async (sql) => {
        const [{ pid }] = (await sql('select pg_backend_pid() as pid')) as { pid: number }[];
        await other.execute('select pg_terminate_backend(?)', [pid]);
        // Wait until the server's message has reached the lent connection while it runs no statement.
        for (let i = 0; i < 100 && !logged.some((line) => /in use failed/.test(line)); i++) await new Promise((resolve) => setTimeout(resolve, 20));
        return sql('select 1 as one');
      });
      await expect(outcome).rejects.toThrow();
      expect(logged.some((line) => /a database connection in use failed: terminating connection due to administrator command/.test(line))).toBe(true);
      expect(await pool.execute('select 1 as one')).toEqual([{ one: 1 }]);
    } finally {
      await pool.close();
      await other.close();
    }
  });
});
