import type { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { createTestDatabase, migratedOrm } from '../support/database';
import { logger } from '../../src/observability/logger';

/**
 * A pooled connection that PostgreSQL closes (a restart, a failover, Ctrl-C
 * reaching the embedded server) must neither crash the process nor read as
 * a failure; the pool replaces it on the next query.
 */
describe('pooled connections closed by the server', () => {
  let database: { url: string; drop(): Promise<void> };
  let orm: MikroORM;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await migratedOrm(database.url);
  });
  afterAll(async () => {
    await orm.close(true);
    await database.drop();
  });

  it('says calmly that the server closed the connection, and the next query runs on a new one', async () => {
    const warn = jest.spyOn(logger, 'warn');
    const error = jest.spyOn(logger, 'error');
    try {
      const [{ pid }] = await orm.em.fork().execute<{ pid: number }[]>('select pg_backend_pid() as pid');
      const admin = new Client({ connectionString: database.url });
      await admin.connect();
      await admin.query('select pg_terminate_backend($1)', [pid]);
      await admin.end();
      for (let i = 0; i < 50 && warn.mock.calls.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      // The socket's own close follows the server's notice; give it time to be (wrongly) reported.
      await new Promise((r) => setTimeout(r, 200));
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('PostgreSQL closed a pooled connection'));
      // One calm line: the socket closing after the notice is the same event, not a second one.
      expect(warn).toHaveBeenCalledTimes(1);
      expect(error).not.toHaveBeenCalled();
      const [{ ok }] = await orm.em.fork().execute<{ ok: number }[]>('select 1 as ok');
      expect(ok).toBe(1);
    } finally {
      warn.mockRestore();
      error.mockRestore();
    }
  });
});
