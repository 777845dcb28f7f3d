import { sortInReportOrder } from '../../../src/modules/reports/report-figures';
import { emptyUnitFigures, type UnitFigures } from '../../../src/modules/stats/figures.service';
import { SUPERVISION_CATEGORIES } from '../../../src/modules/supervision/supervision.entity';
import { readReportTable } from '../../support/builders';

/**
 * The report's order (shared/domain.md, "The report's order") on the rows of
 * the Yindu report itself (test/fixtures/yindu-2023-06): sorted from any
 * starting order, the rows come out as the report prints them.
 */
const resourcesUnit = (row: Record<string, string>, i: number) => {
  const figures: UnitFigures = emptyUnitFigures();
  figures.mount = {
    ...figures.mount,
    publishedDirectories: Number(row.published_directories),
    mountedDirectories: Number(row.mounted_directories),
    dataVolume: Number(row.data_volume),
  };
  return { key: String(i), name: row.department, figures };
};

const CATEGORY_COLUMNS = ['inspection', 'penalty', 'coercion', 'other'];
const supervisionUnit = (row: Record<string, string>, i: number) => {
  const figures: UnitFigures = emptyUnitFigures();
  figures.supervision = {
    ...figures.supervision,
    mainItems: Number(row.main_items),
    coveredMainItems: Number(row.main_covered),
    byCategory: SUPERVISION_CATEGORIES.map((category, c) => ({
      category,
      subItems: Number(row[`${CATEGORY_COLUMNS[c]}_items`]),
      coveredSubItems: Number(row[`${CATEGORY_COLUMNS[c]}_covered`]),
      records: Number(row[`${CATEGORY_COLUMNS[c]}_records`]),
    })),
  };
  return { key: String(i), name: row.department, figures };
};

/** Deterministic shuffles: reversed, by name, and a fixed permutation. */
function startingOrders<T extends { name: string }>(units: T[]): T[][] {
  const permuted = units
    .map((u, i) => ({ u, k: (i * 7919) % 101 }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.u);
  return [[...units].reverse(), [...units].sort((a, b) => (a.name < b.name ? 1 : -1)), permuted];
}

describe("the report's order", () => {
  it('orders appendix 4 by mount rate, then published directories, then data volume, then name', () => {
    const rows = readReportTable('resources.csv');
    const units = rows.map(resourcesUnit);
    expect(units.length).toBeGreaterThanOrEqual(8);
    for (const start of startingOrders(units)) expect(sortInReportOrder('resources', start).map((u) => u.name)).toEqual(rows.map((r) => r.department));
  });

  it('orders appendix 5 by main-item coverage, then sub-item coverage, then main items, then name', () => {
    const rows = readReportTable('supervision.csv');
    const units = rows.map(supervisionUnit);
    expect(units.length).toBeGreaterThanOrEqual(8);
    for (const start of startingOrders(units)) expect(sortInReportOrder('supervision', start).map((u) => u.name)).toEqual(rows.map((r) => r.department));
  });

  it('breaks ties by published directories before data volume, then by name', () => {
    const unit = (name: string, published: number, mounted: number, volume: number) =>
      resourcesUnit({ department: name, published_directories: String(published), mounted_directories: String(mounted), data_volume: String(volume) }, 0);
    // Same rate (50%): more published first even with less data; same rate and published: more data first; then name.
    const sorted = sortInReportOrder('resources', [
      unit('甲', 2, 1, 999),
      unit('乙', 4, 2, 1),
      unit('丙', 2, 1, 1000),
      unit('丁', 0, 0, 0),
      unit('戊', 2, 1, 999),
    ]);
    // 戊 (U+620A) before 甲 (U+7532) in code-point order; 丁 has no rate, so it comes last.
    expect(sorted.map((u) => u.name)).toEqual(['乙', '丙', '戊', '甲', '丁']);
  });
});
