import { createSnapshotSource, type SnapshotSource } from '../../src/graphql/snapshot-source';
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

  const rename = (name: string) => api.orm.em.fork().getConnection().execute(`update region set name = ? where code = '410000'`, [name]);

  it('sends one statement for the first caller and one for all who asked while it was out', async () => {
    await source.moment();
    const before = source.sent();
    const moments = await Promise.all(Array.from({ length: 10 }, () => source.moment()));
    expect(source.sent() - before).toBe(2);
    // Nothing committed between them: one snapshot for all.
    expect(new Set(moments.map((m) => m.snapshot)).size).toBe(1);
  });

  it('gives a caller asking after a commit a snapshot that includes it, with an earlier statement just sent', async () => {
    for (let round = 0; round < 5; round++) {
      const earlier = source.moment();
      await rename(`河南省${round}`);
      // Asked after the commit: it must see it, whether or not the earlier statement was answered by now.
      const later = await source.moment();
      expect(later.snapshot).not.toBe((await earlier).snapshot);
    }
    await rename('河南省');
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
