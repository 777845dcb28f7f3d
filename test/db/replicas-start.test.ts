import type { MikroORM } from '@mikro-orm/postgresql';
import { loadDemoIfEmpty } from '../../src/db/demo-seed';
import { createTestDatabase, migratedOrm } from '../support/database';

/**
 * Two replicas (or two `npm start`s) started at once on one empty database:
 * both migrate (one waits for the other's lock and finds nothing left) and
 * the demo is loaded once. Before the locks, the second failed its start on
 * the first migration's duplicate type, and then on the demo's region codes.
 */
describe('two servers starting at once on one empty database', () => {
  it('both migrate, neither fails, and the demo is loaded once', async () => {
    const database = await createTestDatabase();
    const orms: MikroORM[] = [];
    try {
      const started = await Promise.allSettled([migratedOrm(database.url), migratedOrm(database.url)]);
      for (const result of started) if (result.status === 'fulfilled') orms.push(result.value);
      expect(started.map((result) => (result.status === 'fulfilled' ? 'started' : String(result.reason)))).toEqual(['started', 'started']);
      const [applied] = await orms[0].em.getConnection().execute(`select count(*)::int as count, count(distinct name)::int as names from mikro_orm_migrations`);
      expect(applied.count).toBe(applied.names);
      expect(await orms[0].getMigrator().getPendingMigrations()).toEqual([]);

      const seeded = await Promise.allSettled(orms.map((orm) => loadDemoIfEmpty(orm)));
      expect(seeded.map((result) => (result.status === 'fulfilled' ? result.value : String(result.reason))).sort()).toEqual([false, true]);
      const [regions] = await orms[1].em.getConnection().execute(`select count(*)::int as count from region where code = '410505'`);
      expect(regions.count).toBe(1);
    } finally {
      for (const orm of orms) await orm.close(true);
      await database.drop();
    }
  });
});
