import type { EntityManager } from '@mikro-orm/postgresql';
import { toSafeNumber } from '../../graphql/scalars';
import { SUPERVISION_CATEGORIES, type SupervisionCategory } from '../supervision/supervision.entity';

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

/**
 * A main item is covered when one of its sub-items has a counting record.
 * Shared by statistics and rankings so the definition lives once.
 */
export const MAIN_ITEM_COVERED_SQL = (m: string) =>
  `exists (select 1 from supervision_sub_item cs where cs.main_item_id = ${m}.id and cs.record_count > 0)`;

/** Aggregates over main items `m`: one row with category null per unit. */
const MAIN_AGGREGATES = (m: string) => `null::text as category, count(*) as items, count(*) filter (where ${MAIN_ITEM_COVERED_SQL(m)}) as covered, 0 as records`;
/** Aggregates over sub-items `s`: one row per (unit, category). Reads the per-sub-item counters, never the records. */
const SUB_AGGREGATES = (s: string) => `${s}.category::text as category, count(*) as items, count(*) filter (where ${s}.record_count > 0) as covered, coalesce(sum(${s}.record_count), 0) as records`;

interface SupervisionRow {
  key: string | number;
  category: SupervisionCategory | null;
  items: string;
  covered: string;
  records: string;
}

function byKey<K extends string | number>(keys: readonly K[], rows: SupervisionRow[], normalise: (key: SupervisionRow['key']) => K): Map<K, SupervisionCounts> {
  const map = new Map<K, SupervisionCounts>(keys.map((key) => [key, emptySupervisionCounts()]));
  for (const row of rows) {
    const counts = map.get(normalise(row.key));
    if (!counts) continue;
    if (row.category === null) {
      counts.mainItems = toSafeNumber(row.items);
      counts.coveredMainItems = toSafeNumber(row.covered);
    } else {
      const category = counts.byCategory.find((c) => c.category === row.category)!;
      category.subItems = toSafeNumber(row.items);
      category.coveredSubItems = toSafeNumber(row.covered);
      category.records = toSafeNumber(row.records);
    }
  }
  return map;
}

export const supervisionStatsService = {
  /** Supervision figures of many departments in one grouped statement. */
  async forDepartments(em: EntityManager, departmentIds: readonly number[]): Promise<Map<number, SupervisionCounts>> {
    const ids = [...departmentIds];
    const rows: SupervisionRow[] = await em.execute(
      `select m.department_id as key, ${MAIN_AGGREGATES('m')}
         from supervision_main_item m where m.department_id in (?) group by m.department_id
       union all
       select s.department_id, ${SUB_AGGREGATES('s')}
         from supervision_sub_item s where s.department_id in (?) group by s.department_id, s.category`,
      [ids, ids],
    );
    return byKey(departmentIds, rows, Number);
  },

  /**
   * Supervision figures of many regions in one grouped statement: each
   * region sums every department in it and in all regions below it (via
   * region_closure).
   */
  async forRegions(em: EntityManager, regionCodes: readonly string[]): Promise<Map<string, SupervisionCounts>> {
    const codes = [...regionCodes];
    const rows: SupervisionRow[] = await em.execute(
      `select rc.ancestor_code as key, ${MAIN_AGGREGATES('m')}
         from region_closure rc
         join department d on d.region_code = rc.descendant_code
         join supervision_main_item m on m.department_id = d.id
        where rc.ancestor_code in (?) group by rc.ancestor_code
       union all
       select rc.ancestor_code, ${SUB_AGGREGATES('s')}
         from region_closure rc
         join department d on d.region_code = rc.descendant_code
         join supervision_sub_item s on s.department_id = d.id
        where rc.ancestor_code in (?) group by rc.ancestor_code, s.category`,
      [codes, codes],
    );
    return byKey(regionCodes, rows, String);
  },
};
