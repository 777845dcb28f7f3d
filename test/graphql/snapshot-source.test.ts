import { createSnapshotSource, SNAPSHOT_CONNECTION_NAME, type SnapshotSource } from '../../src/graphql/snapshot-source';
import { createRegions } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * The response cache's snapshot statement (src/graphql/snapshot-source.ts):
 * requests asking while one is on its connection share the next, and
 * never one sent before they asked.
 */
describe('snapshot source', () => {
  let api: TestServer;
  let source: SnapshotSource;

  beforeAll(async () => {
    // A server of its own: other test files' commits would change the snapshot between two calls.
    api = await startTestServer({ ownCluster: true });
    await createRegions(api, [{ code: '410000', name: '河南省' }]);
    source = createSnapshotSource(api.orm);
  });
  afterAll(async () => {
    await source.close();
    await api.close();
  });

  const execute = <T>(sql: string, params: unknown[] = []) => api.orm.em.fork().getConnection().execute<T[]>(sql, params);
  /** Commits a rename and returns its transaction id. */
  const rename = async (name: string) =>
    (
      await execute<{ xid: string }>(
        `with renamed as (update region set name = ? where code = '410000' returning 1) select pg_current_xact_id()::text as xid from renamed`,
        [name],
      )
    )[0].xid;
  /** Whether a snapshot (as the source names it: the server's start time, "/", the snapshot) sees transaction `xid`'s commit. */
  const sees = async (snapshot: string, xid: string) =>
    (
      await execute<{ seen: boolean }>(`select pg_visible_in_snapshot(?::xid8, ?::pg_snapshot) as seen`, [xid, snapshot.slice(snapshot.lastIndexOf('/') + 1)])
    )[0].seen;

  it('sends one statement for the first caller and one for all who asked while it was out', async () => {
    await source.moment();
    const before = source.sent();
    const moments = await Promise.all(Array.from({ length: 10 }, () => source.moment()));
    expect(source.sent() - before).toBe(2);
    // Nothing committed between them: one snapshot for all.
    expect(new Set(moments.map((m) => m.snapshot)).size).toBe(1);
  });

  it('gives a caller asking after a commit a snapshot that sees it, with an earlier statement just sent', async () => {
    for (let round = 0; round < 5; round++) {
      const earlier = source.moment();
      const xid = await rename(`河南省${round}`);
      // Asked after the commit: it must see it, whether or not the earlier statement was answered by now (the
      // earlier one may see it too, if PostgreSQL ran it after the commit).
      const later = await source.moment();
      expect(await sees(later.snapshot, xid)).toBe(true);
      await earlier;
    }
    const last = await rename('河南省');
    expect(await sees((await source.moment()).snapshot, last)).toBe(true);
    // And the check can fail: a snapshot taken before a commit does not see it.
    const before = await source.moment();
    expect(await sees(before.snapshot, await rename('河南省'))).toBe(false);
  });

  it('closes its connection once idle, and opens one again when asked', async () => {
    const idle = createSnapshotSource(api.orm, 200);
    const open = async () =>
      (await execute<{ n: number }>(`select count(*)::int as n from pg_stat_activity where application_name = ?`, [SNAPSHOT_CONNECTION_NAME]))[0].n;
    const before = await open();
    try {
      await idle.moment();
      expect(await open()).toBe(before + 1);
      // Closed after 200 ms without a statement (polled: the backend leaves pg_stat_activity as it exits).
      let now = await open();
      for (const deadline = Date.now() + 5_000; now !== before && Date.now() < deadline; now = await open())
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(now).toBe(before);
      const sent = idle.sent();
      await idle.moment();
      expect([idle.sent() - sent, await open()]).toEqual([1, before + 1]);
    } finally {
      await idle.close();
    }
  });

  it('sends those waiting behind a statement that failed on its connection to the pool, without a statement of their own', async () => {
    const pids = async () =>
      (await execute<{ pid: number }>(`select pid from pg_stat_activity where application_name = ?`, [SNAPSHOT_CONNECTION_NAME])).map((r) => r.pid);
    const others = new Set(await pids());
    const failing = createSnapshotSource(api.orm);
    let stopped: number | undefined;
    try {
      await failing.moment();
      [stopped] = (await pids()).filter((pid) => !others.has(pid));
      expect(stopped).toBeDefined();
      // Its backend stops answering: the statement on the connection fails at its timeout (1 s).
      process.kill(stopped!, 'SIGSTOP');
      const sent = failing.sent();
      const moments = await Promise.all(Array.from({ length: 5 }, () => failing.moment()));
      // One statement went out on the connection; the four who asked meanwhile were not sent another (which would
      // have opened a connection and waited on it) but took the pool.
      expect(failing.sent() - sent).toBe(1);
      // Each got a real moment from the pool: the snapshot of a commit made now is not in it, and one taken after sees it.
      const xid = await rename('河南省');
      for (const moment of moments) expect(await sees(moment.snapshot, xid)).toBe(false);
      expect(await sees((await failing.moment()).snapshot, xid)).toBe(true);
    } finally {
      if (stopped) process.kill(stopped, 'SIGCONT');
      await failing.close();
    }
  });

  it('answers through the pool once closed', async () => {
    const closed = createSnapshotSource(api.orm);
    await closed.moment();
    await closed.close();
    const sent = closed.sent();
    const [a, b] = [await closed.moment(), await closed.moment()];
    expect([closed.sent(), a.snapshot]).toEqual([sent, b.snapshot]);
  });
});
