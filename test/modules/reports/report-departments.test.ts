import { compareNames, sortInReportOrder } from '../../../src/modules/reports/report-figures';
import { rankedList, reportDepartmentsService, type DepartmentList, type DepartmentsSource } from '../../../src/modules/reports/report-departments.service';
import { FiguresSource, lowestFirst, rankPeers, type ReportUnit } from '../../../src/modules/reports/report.service';
import { snapshotService } from '../../../src/modules/reports/snapshot.service';
import { unitFiguresService } from '../../../src/modules/reports/unit-figures.service';
import { METRICS } from '../../../src/modules/reports/report-figures';
import { currentPeriod } from '../../../src/modules/reports/period';
import { createRegions, HENAN_ANYANG_TWO_DISTRICTS } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';

/**
 * A report's department lists are ordered, ranked and paged by PostgreSQL
 * (report-departments.service.ts); the exports and the child regions still
 * sort in Node (sortInReportOrder, rankPeers, lowestFirst). On generated
 * departments full of ties (equal rates written differently, 2/4 and 1/2;
 * no rate; equal names; names whose UTF-16 and code-point orders differ),
 * both give the same lists, ranks and counts, live and from a snapshot.
 */
describe("a report's department lists in SQL", () => {
  let api: TestServer;
  const TREES = ['410000', '410500', '410505', '410502'];
  // Full-width brackets (U+FF08) sort after a character beyond U+FFFF in UTF-16, before it by code point.
  const NAMES = ['教育局', '民政局', '（筹）局', '𠀀局', '教育局（分）', '财政局'];

  beforeAll(async () => {
    api = await startTestServer({ responseCacheBytes: 0 });
    await createRegions(api, HENAN_ANYANG_TWO_DISTRICTS);
    const conn = api.orm.em.getConnection();
    // 240 departments; small counts, so that rates and counts tie often, and names across the two districts (unique within one).
    await conn.execute(
      `insert into department (credit_code, name, region_code)
       select 'X' || lpad(n::text, 17, '0'), (array[${NAMES.map(() => '?').join(', ')}])[1 + n / 2 % ${NAMES.length}] || (n / 12),
              (array['410505', '410502'])[1 + n % 2]
         from generate_series(1, 240) n`,
      NAMES,
    );
    await conn.execute(
      `insert into department_figures (department_id, published_directories, mounted_directories, data_volume, main_items, covered_main_items,
                                       inspection_items, inspection_covered, penalty_items, penalty_covered, other_items, other_covered)
       select d.id, p, m, (d.id % 3) * 100, mi, mi - d.id % 2 * least(mi, 1), (d.id % 5) * 2, d.id % 5, d.id % 3, least(d.id % 2, d.id % 3), d.id % 4, 0
         from department d,
              lateral (select d.id % 5 * 2 as p) pp,
              lateral (select least(pp.p, d.id % 7) as m) mm,
              lateral (select d.id % 4 as mi) mii`,
    );
    await api.ok(`mutation { captureSnapshot(input: { period: "2023-06" }) { period } }`);
  });

  afterAll(() => api.close());

  /** The lists as Node computes them from every department's figures. */
  async function inNode(source: FiguresSource, threshold: number): Promise<Map<string, { units: ReportUnit[]; lists: Record<DepartmentList, string[]> }>> {
    const em = api.orm.em.fork();
    const trees =
      source === FiguresSource.LIVE ? await unitFiguresService.ofRegionTrees(em, TREES) : await snapshotService.unitsOfRegionTrees(em, '2023-06', TREES);
    const out = new Map<string, { units: ReportUnit[]; lists: Record<DepartmentList, string[]> }>();
    for (const code of TREES) {
      const units: ReportUnit[] = trees
        .get(code)!
        .filter((u) => u.kind === 'DEPARTMENT')
        .map((u) => ({ kind: u.kind, key: u.key, name: u.name, figures: u.figures, previous: null, change: null, ranks: [] }));
      rankPeers(units, threshold);
      const keys = (list: ReportUnit[]) => list.map((u) => u.key);
      // By rank for one rate; units without it (no rank) after them, by name.
      const byRank = (metric: (typeof METRICS)[number]) => {
        const rank = (u: ReportUnit) => u.ranks.find((r) => r.metric === metric)!.rank ?? Infinity;
        return [...units].sort((a, b) => rank(a) - rank(b) || compareNames(a.name, b.name) || compareNames(a.key, b.key));
      };
      out.set(code, {
        units,
        lists: {
          BY_NAME: keys([...units].sort((a, b) => compareNames(a.name, b.name) || compareNames(a.key, b.key))),
          RESOURCES: keys(sortInReportOrder('resources', units)),
          SUPERVISION: keys(sortInReportOrder('supervision', units)),
          ...(Object.fromEntries(METRICS.map((metric) => [metric, keys(lowestFirst(units, metric))])) as Record<(typeof METRICS)[number], string[]>),
          ...(Object.fromEntries(METRICS.map((metric) => [rankedList(metric), keys(byRank(metric))])) as Record<ReturnType<typeof rankedList>, string[]>),
        },
      });
    }
    return out;
  }

  const LISTS: DepartmentList[] = ['BY_NAME', 'RESOURCES', 'SUPERVISION', ...METRICS, ...METRICS.map(rankedList)];

  it.each([
    [FiguresSource.LIVE, 0.6],
    [FiguresSource.SNAPSHOT, 0.6],
    [FiguresSource.LIVE, 0.5],
    [FiguresSource.SNAPSHOT, 1e-7],
  ])('orders, ranks and counts like Node (%s figures, threshold %s)', async (source, threshold) => {
    const from: DepartmentsSource = { source, period: source === FiguresSource.LIVE ? currentPeriod() : '2023-06', comparedTo: null, threshold };
    const expected = await inNode(source, threshold);
    expect(expected.get('410000')!.units).toHaveLength(240);
    const requests = TREES.flatMap((regionCode) => LISTS.map((list) => ({ regionCode, from, list, first: null })));
    api.sql.reset();
    const pages = await reportDepartmentsService.pages(api.orm.em.fork(), from, requests);
    expect(api.sql.count).toBe(1);
    requests.forEach((request, i) => {
      const node = expected.get(request.regionCode)!;
      const page = pages[i];
      expect({ tree: request.regionCode, list: request.list, keys: page.units.map((u) => u.key) }).toEqual({
        tree: request.regionCode,
        list: request.list,
        keys: node.lists[request.list],
      });
      expect(page.totalCount).toBe(node.lists[request.list].length);
      const ranks = new Map(node.units.map((u) => [u.key, u.ranks]));
      for (const unit of page.units) expect({ key: unit.key, ranks: unit.ranks }).toEqual({ key: unit.key, ranks: ranks.get(unit.key) });
    });
    // The lists are not all alike: the ties and the orders differ.
    const province = expected.get('410000')!.lists;
    expect(province.RESOURCES).not.toEqual(province.SUPERVISION);
    expect(province.MOUNT_RATE.length).toBeGreaterThan(0);
  });

  it('pages each list: the first rows of the whole order, with the count of all', async () => {
    const from: DepartmentsSource = { source: FiguresSource.LIVE, period: currentPeriod(), comparedTo: '2023-06', threshold: 0.6 };
    const expected = (await inNode(FiguresSource.LIVE, 0.6)).get('410500')!;
    const requests = [
      { regionCode: '410500', from, list: 'RESOURCES' as const, first: 7 },
      { regionCode: '410500', from, list: 'SUPERVISION' as const, first: 100_000 },
      { regionCode: '410500', from, list: METRICS[0], first: 3 },
      { regionCode: '410500', from, list: METRICS[1], first: 0 },
    ];
    const [resources, supervision, below, count] = await reportDepartmentsService.pages(api.orm.em.fork(), from, requests);
    expect(resources.units.map((u) => u.key)).toEqual(expected.lists.RESOURCES.slice(0, 7));
    expect(resources.totalCount).toBe(240);
    expect(supervision.units.map((u) => u.key)).toEqual(expected.lists.SUPERVISION);
    expect(below.units.map((u) => u.key)).toEqual(expected.lists[METRICS[0]].slice(0, 3));
    expect(count).toEqual({ units: [], totalCount: expected.lists[METRICS[1]].length });
    // A ranking's first rows are the departments ranked first among all of them (1, 2, 3...), which the first rows
    // of appendix 5, ordered by main-item coverage first, are not for the sub-item coverage.
    const SUB = METRICS[2];
    const [ranked] = await reportDepartmentsService.pages(api.orm.em.fork(), from, [{ regionCode: '410500', from, list: rankedList(SUB), first: 20 }]);
    expect(ranked.units.map((u) => u.key)).toEqual(expected.lists[rankedList(SUB)].slice(0, 20));
    expect(ranked.units.map((u) => u.ranks.find((r) => r.metric === SUB)!.rank)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(ranked.totalCount).toBe(240);
    const subRanksOfAppendix5 = expected.lists.SUPERVISION.slice(0, 20).map(
      (key) => expected.units.find((u) => u.key === key)!.ranks.find((r) => r.metric === SUB)!.rank,
    );
    expect(subRanksOfAppendix5).not.toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // Compared with the snapshot: nothing changed since, so every change is zero.
    expect(resources.units.every((u) => u.previous !== null && u.change!.mountedDirectories === 0 && u.change!.mountRatePoints !== undefined)).toBe(true);
  });
});
