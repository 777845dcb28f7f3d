import type { ApiClient } from './test-server';

const CATEGORIES = ['INSPECTION', 'PENALTY', 'COERCION', 'OTHER'] as const;

/**
 * The lists behind every figure, on a region (any depth below) or a
 * department, and their totalCount against the figure they explain.
 */
export const FIGURES_AND_COUNTS = `
  mountStats { publishedDirectories mountedDirectories staleDirectories }
  supervisionStats { mainItems coveredMainItems subItems coveredSubItems byCategory { category subItems coveredSubItems } }
  published: directories(filter: { status: PUBLISHED }) { totalCount }
  mounted: directories(filter: { mounted: true }) { totalCount }
  unmounted: directories(filter: { mounted: false }) { totalCount }
  stale: directories(filter: { stale: true }) { totalCount }
  mainItems: supervisionMainItems { totalCount }
  coveredMainItems: supervisionMainItems(filter: { covered: true }) { totalCount }
  uncoveredMainItems: supervisionMainItems(filter: { covered: false }) { totalCount }
  subItems: supervisionSubItems { totalCount }
  coveredSubItems: supervisionSubItems(filter: { covered: true }) { totalCount }
  uncoveredSubItems: supervisionSubItems(filter: { covered: false }) { totalCount }
  ${CATEGORIES.map((c) => `${c}: supervisionSubItems(filter: { category: ${c} }) { totalCount } ${c}_covered: supervisionSubItems(filter: { category: ${c}, covered: true }) { totalCount }`).join('\n  ')}
`;

/** Checks every list's totalCount against the figure it explains; returns how many figures were compared. */
export function expectCountsEqualFigures(unit: any): number {
  const m = unit.mountStats;
  const s = unit.supervisionStats;
  const pairs: [string, number, number][] = [
    ['published', unit.published.totalCount, m.publishedDirectories],
    ['mounted', unit.mounted.totalCount, m.mountedDirectories],
    ['unmounted', unit.unmounted.totalCount, m.publishedDirectories - m.mountedDirectories],
    ['stale', unit.stale.totalCount, m.staleDirectories],
    ['mainItems', unit.mainItems.totalCount, s.mainItems],
    ['coveredMainItems', unit.coveredMainItems.totalCount, s.coveredMainItems],
    ['uncoveredMainItems', unit.uncoveredMainItems.totalCount, s.mainItems - s.coveredMainItems],
    ['subItems', unit.subItems.totalCount, s.subItems],
    ['coveredSubItems', unit.coveredSubItems.totalCount, s.coveredSubItems],
    ['uncoveredSubItems', unit.uncoveredSubItems.totalCount, s.subItems - s.coveredSubItems],
    ...CATEGORIES.flatMap((c): [string, number, number][] => {
      const figures = s.byCategory.find((x: { category: string }) => x.category === c);
      return [
        [c, unit[c].totalCount, figures.subItems],
        [`${c} covered`, unit[`${c}_covered`].totalCount, figures.coveredSubItems],
      ];
    }),
  ];
  expect(Object.fromEntries(pairs.map(([what, count]) => [what, count]))).toEqual(Object.fromEntries(pairs.map(([what, , figure]) => [what, figure])));
  return pairs.length;
}

/** Every region and every department of a tree, each with its figures and the counts of its lists. */
export async function figuresAndCounts(api: ApiClient, regionCodes: string[]): Promise<any[]> {
  const units: any[] = [];
  for (const code of regionCodes) {
    const data = await api.ok(
      `query($code: String!) { region(code: $code) { code ${FIGURES_AND_COUNTS} departments(first: 500) { edges { node { creditCode ${FIGURES_AND_COUNTS} } } } } }`,
      { code },
    );
    units.push(data.region, ...data.region.departments.edges.map((e: any) => e.node));
  }
  return units;
}
