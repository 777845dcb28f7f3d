import type { EntityManager } from '@mikro-orm/postgresql';
import { toSafeNumber } from '../../graphql/scalars';
import { SUPERVISION_CATEGORIES, type SupervisionCategory } from '../supervision/supervision.entity';
import { categoryColumn } from './department-figures.service';

/** Sub-item figures of one category of a unit. */
export interface CategoryCounts {
  category: SupervisionCategory;
  subItems: number;
  coveredSubItems: number;
  records: number;
}

/** Supervision figures of one unit (a department or a region); rates are derived from these. */
export interface SupervisionCounts {
  mainItems: number;
  coveredMainItems: number;
  /** Always every category, in report order, zeros included. */
  byCategory: CategoryCounts[];
}

export function emptySupervisionCounts(): SupervisionCounts {
  return { mainItems: 0, coveredMainItems: 0, byCategory: SUPERVISION_CATEGORIES.map((category) => ({ category, subItems: 0, coveredSubItems: 0, records: 0 })) };
}

/** The supervision columns of the figures row `f` (department_figures or region_figures). */
function figureColumns(f: string): string {
  const columns = ['main_items', 'covered_main_items', ...SUPERVISION_CATEGORIES.flatMap((c) => ['items', 'covered', 'records'].map((x) => `${categoryColumn(c)}_${x}`))];
  return columns.map((column) => `${f}.${column}`).join(', ');
}

type SupervisionRow = { key: string | number } & Record<string, string | number>;

function byKey<K extends string | number>(keys: readonly K[], rows: SupervisionRow[], normalise: (key: SupervisionRow['key']) => K): Map<K, SupervisionCounts> {
  const map = new Map<K, SupervisionCounts>(keys.map((key) => [key, emptySupervisionCounts()]));
  for (const row of rows) {
    map.set(normalise(row.key), {
      mainItems: toSafeNumber(row.main_items),
      coveredMainItems: toSafeNumber(row.covered_main_items),
      byCategory: SUPERVISION_CATEGORIES.map((category) => ({
        category,
        subItems: toSafeNumber(row[`${categoryColumn(category)}_items`]),
        coveredSubItems: toSafeNumber(row[`${categoryColumn(category)}_covered`]),
        records: toSafeNumber(row[`${categoryColumn(category)}_records`]),
      })),
    });
  }
  return map;
}

/**
 * Supervision figures read from department_figures (kept by
 * department-figures.service.ts in the transaction of every change to items
 * or records): a province dashboard sums 10,000 rows, never its 300,000
 * sub-items or 10 million records.
 */
export const supervisionStatsService = {
  /** Supervision figures of many departments in one statement. */
  async forDepartments(em: EntityManager, departmentIds: readonly number[]): Promise<Map<number, SupervisionCounts>> {
    const rows: SupervisionRow[] = await em.execute(
      `select f.department_id as key, ${figureColumns('f')} from department_figures f where f.department_id in (?)`,
      [[...departmentIds]],
    );
    return byKey(departmentIds, rows, Number);
  },

  /**
   * Supervision figures of many regions in one statement: region_figures
   * holds each region's sums over every department at any depth.
   */
  async forRegions(em: EntityManager, regionCodes: readonly string[]): Promise<Map<string, SupervisionCounts>> {
    const rows: SupervisionRow[] = await em.execute(
      `select f.region_code as key, ${figureColumns('f')} from region_figures f where f.region_code in (?)`,
      [[...regionCodes]],
    );
    return byKey(regionCodes, rows, String);
  },
};
