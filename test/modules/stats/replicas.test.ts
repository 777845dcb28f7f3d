import type { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { startServer, type MuluServer } from '../../../src/app';
import { createAuthenticator } from '../../../src/modules/auth/authenticator';
import { recountFigures, RECOUNT_LOCK_KEYS } from '../../../src/modules/stats/figures-recount';
import { creditCode } from '../../support/builders';
import { driftedFigures, figureColumns } from '../../support/figures-recount';
import { createTestDatabase, migratedOrm } from '../../support/database';

/**
 * Several replicas on one database: each has its own pool and its own
 * periodic recount; the recount takes a PostgreSQL advisory lock so that
 * they do not recount at once, and every figure stays exact under writes
 * arriving through both.
 */
describe('two API servers on one database', () => {
  const adminToken = 'replicas-admin-token-0123456789';
  let database: { url: string; drop(): Promise<void> };
  const orms: MikroORM[] = [];
  const servers: MuluServer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    for (let i = 0; i < 2; i++) {
      const orm = await migratedOrm(database.url);
      orms.push(orm);
      // Recounting every 50 ms: the two periodic recounts run into each other all the time.
      servers.push(await startServer(orm, 0, createAuthenticator({ adminToken, anonymousStats: false }), { figuresRecountIntervalMs: 50 }));
    }
  });
  afterAll(async () => {
    for (const server of servers) await server.stop();
    for (const orm of orms) await orm.close(true);
    await database.drop();
  });

  const call = async (replica: number, query: string, variables?: Record<string, unknown>) => {
    const response = await fetch(servers[replica].url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(`replica ${replica}: ${JSON.stringify(body.errors)}`);
    return body.data;
  };

  it('a recount that finds the advisory lock taken is skipped; one that waits for it runs', async () => {
    const holder = new Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock($1, $2)', [...RECOUNT_LOCK_KEYS]);
      expect(await recountFigures(orms[0], { wait: false })).toBeNull();
      await holder.query('select pg_advisory_unlock($1, $2)', [...RECOUNT_LOCK_KEYS]);
      // Both replicas recount every 50 ms, so the lock may be held by one of them at this moment: wait for it.
      expect(await recountFigures(orms[0], { wait: true })).toEqual(expect.any(Number));
    } finally {
      await holder.end();
    }
  });

  it('keeps every stored figure exact under concurrent writes through both', async () => {
    await call(
      0,
      `mutation { a: createRegion(input: { code: "410000", name: "河南省" }) { code } b: createRegion(input: { code: "410500", name: "安阳市" }) { code } c: createRegion(input: { code: "410505", name: "殷都区" }) { code } }`,
    );
    const departments = [1, 2, 3, 4].map((n) => creditCode('410505', n));
    for (const [n, code] of departments.entries())
      await call(n % 2, `mutation($input: CreateDepartmentInput!) { createDepartment(input: $input) { id } }`, {
        input: { creditCode: code, name: `部门 ${n}`, regionCode: '410505' },
      });

    // Each writer works through one replica on one department: directories registered, published, mounted
    // (some with data refreshed long ago, so they are stale and the recounts have work), refreshed, unmounted, withdrawn.
    const writer = async (w: number) => {
      const replica = w % 2;
      const department = departments[w % departments.length];
      for (let i = 0; i < 4; i++) {
        const code = `W${w}-${i}`;
        await call(replica, `mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { id } }`, {
          input: {
            code,
            name: `资源 ${code}`,
            departmentCreditCode: department,
            resourceFormat: 'DATABASE',
            shareType: 'UNCONDITIONAL',
            updateCycle: i % 2 ? 'DAILY' : 'MONTHLY',
            informationItems: [{ name: '名称', dataType: '字符型' }],
          },
        });
        await call(1 - replica, `mutation($code: String!) { publishDirectory(input: { directory: { code: $code } }) { status } }`, { code });
        const refreshedAt = i % 3 === 0 ? new Date(Date.now() - 90 * 86400_000).toISOString() : undefined;
        const mounted = await call(replica, `mutation($input: MountDatasetInput!) { mountDataset(input: $input) { id } }`, {
          input: { directory: { code }, kind: 'TABLE', locator: `ods.${code}`, recordCount: 10 + i, refreshedAt },
        });
        if (i % 3 === 1)
          await call(1 - replica, `mutation($id: ID!) { refreshMount(input: { mountId: $id, recordCount: 99 }) { id } }`, { id: mounted.mountDataset.id });
        if (i % 4 === 2) await call(replica, `mutation($id: ID!) { unmountDataset(input: { mountId: $id }) { id } }`, { id: mounted.mountDataset.id });
        if (i === 3) await call(1 - replica, `mutation($code: String!) { withdrawDirectory(input: { directory: { code: $code } }) { id } }`, { code });
      }
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map(writer));
    // Let a few more periodic recounts of both run after the last write.
    await new Promise((r) => setTimeout(r, 200));

    const em = orms[0].em.fork();
    const kept = await em.execute<{ stale_directories: number; published_directories: number }[]>(`select * from department_figures order by department_id`);
    expect(await driftedFigures(orms[0], await figureColumns(orms[0]))).toEqual([]);
    const stale = kept.reduce((sum: number, row: { stale_directories: number }) => sum + Number(row.stale_directories), 0);
    const published = kept.reduce((sum: number, row: { published_directories: number }) => sum + Number(row.published_directories), 0);
    console.log(`two replicas, 6 writers: ${published} published directories, ${stale} stale, figures exact`);
    expect(published).toBe(6 * 3);
    expect(stale).toBeGreaterThan(0);
  });
});
