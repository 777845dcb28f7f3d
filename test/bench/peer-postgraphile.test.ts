import { startTestServer, type TestServer } from '../support/test-server';
import { differences, percentText } from './answers';
import { catalogueNode, peerReads, subCoverageRanking } from './peer-answers';
import { compareWithPeer, processTreeCpuMs, runPeerComparison, startPeer, stopPeer, type PeerServer } from './peer-postgraphile';
import { SCALES } from './scales';
import { seedDatabase } from './seed';

/**
 * Keeps the peer comparison of `npm run bench -- --peer postgraphile` honest:
 * on a generated district, PostGraphile's answers, mapped onto Mulu's shape,
 * must equal Mulu's field by field for each read, or the benchmark would
 * compare different work. No timing assertions.
 */
describe('PostGraphile as the benchmark peer (district scale)', () => {
  let api: TestServer;
  let peer: PeerServer;
  let muluUrl: string;
  let authorization: string;

  beforeAll(async () => {
    // A PostgreSQL of its own: other test files' commits would retire the response cache's answers at random.
    api = await startTestServer({ ownCluster: true });
    const databaseUrl = api.orm.config.get('clientUrl')!;
    await seedDatabase(databaseUrl, SCALES.district, 1, false, () => {});
    peer = await startPeer(databaseUrl, () => {});
    muluUrl = api.server.url.replace('localhost', '127.0.0.1');
    authorization = `Bearer ${await api.signToken({ role: 'VIEWER' })}`;
  });
  afterAll(async () => {
    if (peer) await stopPeer(peer);
    await api?.close();
  });

  it('answers each read scenario with the same figures and rows as Mulu', async () => {
    const agreement = await compareWithPeer({ url: muluUrl, authorization }, peer.url);
    expect(agreement.map(({ read, problems }) => ({ read, problems }))).toEqual(peerReads.map((r) => ({ read: r.scenario.name, problems: [] })));
    for (const { bytes } of agreement) expect(bytes.mulu).toBeGreaterThan(1000);
  });

  it('sees a difference when the peer is asked something else', async () => {
    const otherDistrict = { ...peerReads[1], peer: { ...peerReads[1].peer, variables: { code: '410500' } } };
    const [result] = await compareWithPeer({ url: muluUrl, authorization }, peer.url, [otherDistrict]);
    expect(result.problems.length).toBeGreaterThan(0);
  });

  it('drives both sides of each read, computed and served, without errors', async () => {
    const runs = await runPeerComparison({
      mulu: { url: muluUrl, pid: process.pid, authorization },
      peer: { url: peer.url, pid: peer.child.pid! },
      postgresPid: null,
      clients: [2],
      length: { requests: 4 },
      warmupRequests: 2,
    });
    expect(runs.map((r) => `${r.read}/${r.mode}/${r.clients}`)).toEqual(
      peerReads.flatMap((r) => [`${r.scenario.name}/computed/2`, `${r.scenario.name}/served/2`]),
    );
    for (const run of runs) {
      expect([run.mulu.errors, run.peer.errors, run.mulu.errorSamples, run.peer.errorSamples]).toEqual([0, 0, [], []]);
      expect(run.mulu.requests).toBeGreaterThanOrEqual(4);
      expect(run.peer.requests).toBeGreaterThanOrEqual(4);
      expect(run.peer.nodeCpuMsPerRequest).not.toBeNull();
      // no-cache answers are all computed; repeated served ones come from the cache
      if (run.mode === 'computed') expect(run.mulu.cacheHits).toBe(0);
      else expect(run.mulu.cacheHits).toBeGreaterThan(0);
    }
  });
});

describe('mapping the peer onto Mulu', () => {
  it('rounds percentages half-up in integers', () => {
    expect([percentText(1, 8), percentText(1, 800), percentText(2, 3), percentText(0, 5), percentText(3, 0)]).toEqual(['12.50', '0.13', '66.67', '0.00', null]);
  });

  it('ranks by exact rate, units without sub-items last, then name, then credit code, both in byte order', () => {
    const unit = (id: number, name: string, covered: number, items: number, creditCode = `C${id}`) => ({
      id,
      name,
      creditCode,
      departmentFigureByDepartmentId: { inspectionItems: items, inspectionCovered: covered },
    });
    const ranked = subCoverageRanking([unit(1, 'b', 1, 3), unit(2, 'a', 0, 0), unit(3, 'c', 2, 6), unit(4, 'a', 1, 3), unit(5, 'z', 3, 4)], 10);
    expect(ranked.map((r) => [r.rank, r.department.creditCode, r.ratePercent])).toEqual([
      [1, 'C5', '75.00'],
      [2, 'C4', '33.33'],
      [3, 'C1', '33.33'],
      [4, 'C3', '33.33'],
      [null, 'C2', null],
    ]);
    // Two departments of one name and rate (each district's 教育局): the credit code decides, not the id.
    const twins = subCoverageRanking([unit(1, '教育局', 1, 2, 'B9'), unit(2, '教育局', 1, 2, 'A1')], 10);
    expect(twins.map((r) => [r.rank, r.department.creditCode])).toEqual([
      [1, 'A1'],
      [2, 'B9'],
    ]);
  });

  it('derives mounted and stale from the stored columns and the clock', () => {
    const directory = {
      code: 'X',
      name: 'x',
      status: 'PUBLISHED',
      shareType: 'UNCONDITIONAL',
      updateCycle: 'DAILY',
      publishedAt: '2026-01-01T00:00:00.123456+00:00',
      activeMountCount: 1,
      staleAfter: '2026-06-01T00:00:00+00:00',
      dataVolume: '9007199254740993',
      lastRefreshedAt: null,
      departmentByDepartmentId: { name: 'd', creditCode: 'c', regionByRegionCode: { code: '410505', name: 'r' } },
      mountsByDirectoryId: { nodes: [] },
    };
    expect(catalogueNode(directory, new Date('2026-07-01'))).toMatchObject({
      mounted: true,
      stale: true,
      publishedAt: '2026-01-01T00:00:00.123Z',
      dataVolume: '9007199254740993',
    });
    expect(catalogueNode(directory, new Date('2026-05-01')).stale).toBe(false);
    expect(catalogueNode({ ...directory, status: 'DRAFT' }, new Date('2026-07-01'))).toMatchObject({ mounted: false, stale: false });
  });

  it('reports where two answers differ', () => {
    expect(differences({ a: [{ b: 1 }, { b: 2 }], c: 'x' }, { c: 'x', a: [{ b: 1 }, { b: 3 }] })).toEqual(['.a[1].b: 2 / 3']);
    expect(differences({ a: [1] }, { a: [1, 2] })).toEqual(['.a: 1 items / 2 items']);
    expect(differences({ a: 1 }, { a: 1 })).toEqual([]);
  });

  it('reads the CPU time of a process tree', () => {
    expect(processTreeCpuMs(process.pid)).toBeGreaterThan(0);
  });
});
