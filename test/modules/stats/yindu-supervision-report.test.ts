import { creditCode, readReportTable } from '../../support/builders';
import { reportPercent } from '../../support/report-percent';
import { SUPERVISION_STATS_FIELDS } from '../../support/supervision-builders';
import { buildYinduSupervision, SUPERVISION_CATEGORY_COLUMNS } from '../../support/yindu';
import { startTestServer, type TestServer } from '../../support/test-server';

const CATEGORIES = SUPERVISION_CATEGORY_COLUMNS;

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
 * Acceptance: appendix 5 of the Yindu June 2023 report, rebuilt through the
 * API (main items, sub-items per category, records), must come back with
 * every count and both rates of every row, and the district's totals.
 */
describe('supervision statistics reproduce the Yindu report (appendix 5)', () => {
  let api: TestServer;
  const rows = readReportTable('supervision.csv');

  beforeAll(async () => {
    api = await startTestServer();
    await buildYinduSupervision(api, rows, (actual, expected) => expect(actual).toMatchObject(expected));
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
      byCategory: byCategory.map((c) => ({ ...c, coverageRatePercent: reportPercent(c.coveredSubItems, c.subItems) })),
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
    const totals: Record<string, string> = Object.fromEntries(
      Object.keys(rows[0])
        .filter((c) => c !== 'department' && !c.endsWith('_pct'))
        .map((c) => [c, sum(c)]),
    );
    const expected = expectedOf({ ...totals, main_rate_pct: '', sub_rate_pct: '' });
    for (const code of ['410505', '410500', '410000']) {
      const data = await api.ok<{ region: { supervisionStats: Stats } }>(
        `query($code: String!) { region(code: $code) { supervisionStats { ${SUPERVISION_STATS_FIELDS} } } }`,
        { code },
      );
      expect(data.region.supervisionStats).toEqual({
        ...expected,
        mainCoverageRatePercent: reportPercent(expected.coveredMainItems, expected.mainItems),
        subCoverageRatePercent: reportPercent(expected.coveredSubItems, expected.subItems),
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
    const data = await api.ok<{
      region: {
        ranking: { rank: number; department: { name: string }; numerator: number; denominator: number; ratePercent: string }[];
        low: { department: { name: string } }[];
      };
    }>(
      `query { region(code: "410505") {
         ranking: departmentRanking(metric: SUB_COVERAGE_RATE, first: 50) { rank department { name } numerator denominator ratePercent }
         low: departmentRanking(metric: MAIN_COVERAGE_RATE, order: LOWEST_FIRST, below: 0.2, first: 50) { department { name } }
       } }`,
    );
    expect(data.region.ranking).toEqual(
      expectedOrder.map((e, i) => ({ rank: i + 1, department: { name: e.name }, numerator: e.covered, denominator: e.items, ratePercent: e.pct })),
    );
    const low = rows
      .filter((row) => Number(row.main_covered) / Number(row.main_items) < 0.2)
      .sort((a, b) => Number(a.main_covered) / Number(a.main_items) - Number(b.main_covered) / Number(b.main_items) || (a.department < b.department ? -1 : 1))
      .map((row) => ({ department: { name: row.department } }));
    expect(low.length).toBeGreaterThan(3);
    expect(data.region.low).toEqual(low);
  });
});
