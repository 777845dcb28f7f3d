import { addDirectory, createDepartment, createRegions, creditCode, mount, readReportTable, split, unmount } from './builders';
import { createMainItems, createSubItems, ingest, type RecordInput } from './supervision-builders';
import type { TestServer } from './test-server';

/** The region tree of the Yindu report: Henan > Anyang > Yindu. */
export const YINDU_REGIONS = [
  { code: '410000', name: '河南省' },
  { code: '410500', name: '安阳市' },
  { code: '410505', name: '殷都区' },
];

/** How a Yindu table is rebuilt. */
export interface YinduBuildOptions {
  /**
   * Create the departments from the last row to the first, numbering their
   * credit codes in that order: then neither registration order nor
   * credit-code order is the report's order, and a table comes out in the
   * report's order only if it is sorted by the figures.
   */
  reversed?: boolean;
}

/** Each row with the credit code of its department, in the order the departments are created. */
function buildOrder(rows: Record<string, string>[], options: YinduBuildOptions): [number, Record<string, string>, string][] {
  const entries = options.reversed ? [...rows.entries()].reverse() : [...rows.entries()];
  return entries.map(([d, row], i) => [d, row, creditCode('410505', i + 1)]);
}

export const SUPERVISION_CATEGORY_COLUMNS = [
  { category: 'INSPECTION', column: 'inspection' },
  { category: 'PENALTY', column: 'penalty' },
  { category: 'COERCION', column: 'coercion' },
  { category: 'OTHER', column: 'other' },
] as const;

/**
 * Rebuilds appendix 4 (resources.csv) through the API: one department per
 * row (credit code n = 1, 2, ... in 410505, in the order of creation), its
 * published directories and the mounts carrying the data volume.
 *
 * Rows that must not count are written between the rows that must, so each
 * is in place while the department's figures are still being counted, and
 * counting it changes a figure of the row:
 * - first, a draft with mounted data (neither the draft nor its records count);
 * - halfway, a directory published, mounted, then withdrawn;
 * - a mount added then unmounted beside the first mounted directory (its
 *   records do not count) and on the first published directory left
 *   unmounted (it stays unmounted).
 */
export async function buildYinduResources(
  api: TestServer,
  rows = readReportTable('resources.csv'),
  options: YinduBuildOptions = {},
): Promise<Record<string, string>[]> {
  await createRegions(api, YINDU_REGIONS);
  for (const [d, row, code] of buildOrder(rows, options)) {
    await createDepartment(api, { creditCode: code, name: row.department, regionCode: '410505' });
    const published = Number(row.published_directories);
    const mounted = Number(row.mounted_directories);
    const volumes = split(Number(row.data_volume), mounted);
    await mount(api, await addDirectory(api, code, `YD-${d}-draft`, { publish: false }), 1_000);
    for (let i = 0; i < published; i++) {
      if (i === Math.floor(published / 2)) await addWithdrawnDirectory(api, code, `YD-${d}-withdrawn`);
      const directory = await addDirectory(api, code, `YD-${d}-${i}`);
      if (i < mounted) await mount(api, directory, volumes[i]);
      if (i === 0 || i === mounted) await unmount(api, await mount(api, directory, 500));
    }
  }
  return rows;
}

/** A directory that was published with mounted data, then withdrawn: none of it counts. */
async function addWithdrawnDirectory(api: TestServer, departmentCreditCode: string, directoryCode: string): Promise<void> {
  await mount(api, await addDirectory(api, departmentCreditCode, directoryCode), 2_000);
  await api.ok(`mutation($code: String!) { withdrawDirectory(input: { directory: { code: $code } }) { status } }`, { code: directoryCode });
}

/**
 * Lays out one report row as items and records consistent with it: the first
 * `main_covered` main items each get a covered sub-item, the others an
 * uncovered one where there are enough; the remaining sub-items go round the
 * main items; each category's records are spread over its covered sub-items.
 */
export function supervisionLayout(row: Record<string, string>, d: number) {
  const mains = Number(row.main_items);
  const coveredMains = Number(row.main_covered);
  const covered: { category: string; records: number }[] = [];
  const uncovered: { category: string }[] = [];
  for (const { category, column } of SUPERVISION_CATEGORY_COLUMNS) {
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
 * Rebuilds appendix 5 (supervision.csv) through the API: one department per
 * row (credit code n = 1, 2, ... in 410505, in the order of creation), main
 * items, sub-items per category and records; one record is sent wrong then
 * corrected, and the whole batch is retried, neither of which may change a
 * figure.
 */
export async function buildYinduSupervision(
  api: TestServer,
  rows = readReportTable('supervision.csv'),
  check: (actual: unknown, expected: Record<string, unknown>) => void = () => {},
  options: YinduBuildOptions = {},
): Promise<Record<string, string>[]> {
  await createRegions(api, YINDU_REGIONS);
  for (const [d, row, code] of buildOrder(rows, options)) {
    await createDepartment(api, { creditCode: code, name: row.department, regionCode: '410505' });
    const { mainItems, subItems } = supervisionLayout(row, d);
    await createMainItems(api, code, mainItems);
    await createSubItems(
      api,
      code,
      subItems.map(({ code: c, mainItemCode, category }) => ({ code: c, mainItemCode, category })),
    );
    const batch: RecordInput[] = subItems.flatMap((item) =>
      Array.from({ length: item.records }, (_, r) => ({
        subItemCode: item.code,
        source: `yindu-${d}`,
        externalId: `${item.code}-${r}`,
        occurredAt: '2023-06-10T02:00:00Z',
        payload: { month: '2023-06' },
      })),
    );
    // One record is first sent wrong, then corrected: the superseded one must not count.
    const wrong = batch.findIndex((record) => record.externalId.endsWith('-0'));
    const intended = wrong >= 0 ? batch[wrong] : null;
    if (intended) batch[wrong] = { ...intended, externalId: `${intended.externalId}-draft`, payload: { month: '2023-05' } };
    check(await ingest(api, code, batch), { accepted: batch.length, rejected: [], stored: true });
    if (intended) {
      const correction = await ingest(api, code, [{ ...intended, supersedes: { source: intended.source, externalId: `${intended.externalId}-draft` } }]);
      check(correction, { accepted: 1, rejected: [] });
    }
    // An upstream retry of the whole batch changes nothing.
    check(await ingest(api, code, batch), { accepted: 0, duplicates: batch.length });
  }
  return rows;
}
