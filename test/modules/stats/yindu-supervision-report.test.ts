import { percent } from '../../../src/graphql/rates';
import { createDepartment, createRegions, creditCode, readReportTable, split } from '../../support/builders';
import { createMainItems, createSubItems, ingest, SUPERVISION_STATS_FIELDS, type RecordInput } from '../../support/supervision-builders';
import { startTestServer, type TestServer } from '../../support/test-server';

const CATEGORIES = [
  { category: 'INSPECTION', column: 'inspection' },
  { category: 'PENALTY', column: 'penalty' },
  { category: 'COERCION', column: 'coercion' },
  { category: 'OTHER', column: 'other' },
] as const;

interface CategoryStats {
  category: string;
  subItems: number;
  coveredSubItems: number;
  records: number;
  coverageRate: number | null;
  coverageRatePercent: string | null;
}

interface Stats {
  mainItems: number;
  coveredMainItems: number;
  mainCoverageRate: number | null;
  mainCoverageRatePercent: string | null;
  subItems: number;
  coveredSubItems: number;
  subCoverageRate: number | null;
  subCoverageRatePercent: string | null;
  records: number;
  byCategory: CategoryStats[];
}

const rate = (n: number, d: number) => (d === 0 ? null : n / d);

/**
 * Lays out one report row as items and records consistent with it: the first
 * `main_covered` main items each get a covered sub-item, the others an
 * uncovered one where there are enough; the remaining sub-items go round the
 * main items; each category's records are spread over its covered sub-items.
 */
function layout(row: Record<string, string>, d: number) {
  const mains = Number(row.main_items);
  const coveredMains = Number(row.main_covered);
  const covered: { category: string; records: number }[] = [];
  const uncovered: { category: string }[] = [];
  for (const { category, column } of CATEGORIES) {
    const items = Number(row[`${column}_items`]);
    const coveredItems = Number(row[`${column}_covered`]);
    const records = coveredItems ? split(Number(row[`${column}_records`]), coveredItems) : [];
    records.forEach((n) => covered.push({ category, records: n }));
    for (let i = coveredItems; i < items; i++) uncovered.push({ category });
  }
  if (coveredMains > covered.length || (covered.length > 0 && coveredMains === 0)) throw new Error(`row ${row.department} cannot be laid out`);
  const mainCode = (m: number) => `ZX${d}-${String(m).padStart(3, '0')}`;
  const subItems: { code: string; mainItemCode: string; category: string; records: number }[] = [];
  covered.forEach((item, i) => subItems.push({ ...item, code: `ZX${d}-C${i}`, mainItemCode: mainCode(i % coveredMains) }));
  const uncoveredMains = mains - coveredMains;
  uncovered.forEach((item, i) =>
    subItems.push({ ...item, records: 0, code: `ZX${d}-U${i}`, mainItemCode: mainCode(i < uncoveredMains ? coveredMains + i : i % mains) }),
  );
  return { mainItems: Array.from({ length: mains }, (_, m) => ({ code: mainCode(m) })), subItems };
}

/**
 * Acceptance: appendix 5 of the Yindu June 2023 report, rebuilt through the
 * API (main items, sub-items per category, records), must come back with
 * every count and both rates of every row, and the district's totals.
 */
describe('supervision statistics reproduce the Yindu report (appendix 5)', () => {
  let api: TestServer;
  const rows = readReportTable('supervision.csv');

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    for (const [d, row] of rows.entries()) {
      const code = creditCode('410505', d + 1);
      await createDepartment(api, { creditCode: code, name: row.department, regionCode: '410505' });
      const { mainItems, subItems } = layout(row, d);
      await createMainItems(api, code, mainItems);
      await createSubItems(api, code, subItems.map(({ code: c, mainItemCode, category }) => ({ code: c, mainItemCode, category })));
      const batch: RecordInput[] = subItems.flatMap((item) =>
        Array.from({ length: item.records }, (_, r) => ({ subItemCode: item.code, source: `yindu-${d}`, externalId: `${item.code}-${r}`, occurredAt: '2023-06-10T02:00:00Z', payload: { month: '2023-06' } })),
      );
      // One record is first sent wrong, then corrected: the superseded one must not count.
      const wrong = batch.findIndex((record) => record.externalId.endsWith('-0'));
      const intended = wrong >= 0 ? batch[wrong] : null;
      if (intended) batch[wrong] = { ...intended, externalId: `${intended.externalId}-draft`, payload: { month: '2023-05' } };
      expect(await ingest(api, code, batch)).toMatchObject({ accepted: batch.length, rejected: [], stored: true });
      if (intended) {
        const correction = await ingest(api, code, [{ ...intended, supersedes: { source: intended.source, externalId: `${intended.externalId}-draft` } }]);
        expect(correction).toMatchObject({ accepted: 1, rejected: [] });
      }
      // An upstream retry of the whole batch changes nothing.
      expect(await ingest(api, code, batch)).toMatchObject({ accepted: 0, duplicates: batch.length });
    }
  });

  afterAll(() => api.close());

  const expectedOf = (row: Record<string, string>): Stats => {
    const n = (column: string) => Number(row[column]);
    const byCategory = CATEGORIES.map(({ category, column }) => ({
      category,
      subItems: n(`${column}_items`),
      coveredSubItems: n(`${column}_covered`),
      records: n(`${column}_records`),
      coverageRate: rate(n(`${column}_covered`), n(`${column}_items`)),
      coverageRatePercent: null as string | null,
    }));
    const subItems = byCategory.reduce((sum, c) => sum + c.subItems, 0);
    const coveredSubItems = byCategory.reduce((sum, c) => sum + c.coveredSubItems, 0);
    return {
      mainItems: n('main_items'),
      coveredMainItems: n('main_covered'),
      mainCoverageRate: rate(n('main_covered'), n('main_items')),
      mainCoverageRatePercent: row.main_rate_pct,
      subItems,
      coveredSubItems,
      subCoverageRate: rate(coveredSubItems, subItems),
      subCoverageRatePercent: row.sub_rate_pct,
      records: byCategory.reduce((sum, c) => sum + c.records, 0),
      byCategory: byCategory.map((c) => ({ ...c, coverageRatePercent: percent(c.coveredSubItems, c.subItems) })),
    };
  };

  it('gives every department the counts and both rates of its row, percentages as the report prints them', async () => {
    for (const [d, row] of rows.entries()) {
      const data = await api.ok<{ department: { name: string; supervisionStats: Stats } }>(
        `query($c: String!) { department(creditCode: $c) { name supervisionStats { ${SUPERVISION_STATS_FIELDS} } } }`,
        { c: creditCode('410505', d + 1) },
      );
      expect({ name: data.department.name, ...data.department.supervisionStats }).toEqual({ name: row.department, ...expectedOf(row) });
    }
  });

  it('gives the district, city and province the sums of the rows, with the rates recomputed from the sums', async () => {
    const sum = (column: string) => String(rows.reduce((total, row) => total + Number(row[column]), 0));
    const totals: Record<string, string> = Object.fromEntries(Object.keys(rows[0]).filter((c) => c !== 'department' && !c.endsWith('_pct')).map((c) => [c, sum(c)]));
    const expected = expectedOf({ ...totals, main_rate_pct: '', sub_rate_pct: '' });
    for (const code of ['410505', '410500', '410000']) {
      const data = await api.ok<{ region: { supervisionStats: Stats } }>(`query($code: String!) { region(code: $code) { supervisionStats { ${SUPERVISION_STATS_FIELDS} } } }`, { code });
      expect(data.region.supervisionStats).toEqual({
        ...expected,
        mainCoverageRatePercent: percent(expected.coveredMainItems, expected.mainItems),
        subCoverageRatePercent: percent(expected.coveredSubItems, expected.subItems),
      });
    }
  });

  it('ranks the departments by sub-item coverage, ties by name, and lists those below a threshold', async () => {
    const expectedOrder = rows
      .map((row) => {
        const items = CATEGORIES.reduce((sum, { column }) => sum + Number(row[`${column}_items`]), 0);
        const covered = CATEGORIES.reduce((sum, { column }) => sum + Number(row[`${column}_covered`]), 0);
        return { name: row.department, covered, items, pct: row.sub_rate_pct };
      })
      .sort((a, b) => b.covered / b.items - a.covered / a.items || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const data = await api.ok<{ region: { ranking: { rank: number; department: { name: string }; numerator: number; denominator: number; ratePercent: string }[]; low: { department: { name: string } }[] } }>(
      `query { region(code: "410505") {
         ranking: departmentRanking(metric: SUB_COVERAGE_RATE, first: 50) { rank department { name } numerator denominator ratePercent }
         low: departmentRanking(metric: MAIN_COVERAGE_RATE, order: LOWEST_FIRST, below: 0.2, first: 50) { department { name } }
       } }`,
    );
    expect(data.region.ranking).toEqual(expectedOrder.map((e, i) => ({ rank: i + 1, department: { name: e.name }, numerator: e.covered, denominator: e.items, ratePercent: e.pct })));
    const low = rows
      .filter((row) => Number(row.main_covered) / Number(row.main_items) < 0.2)
      .sort((a, b) => Number(a.main_covered) / Number(a.main_items) - Number(b.main_covered) / Number(b.main_items) || (a.department < b.department ? -1 : 1))
      .map((row) => ({ department: { name: row.department } }));
    expect(low.length).toBeGreaterThan(3);
    expect(data.region.low).toEqual(low);
  });
});
