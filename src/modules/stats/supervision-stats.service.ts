import { toSafeNumber } from '../../core/numbers';
import { SUPERVISION_CATEGORIES, type SupervisionCategory } from '../supervision/supervision.entity';
import { categoryColumn } from './figures';

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
  return {
    mainItems: 0,
    coveredMainItems: 0,
    byCategory: SUPERVISION_CATEGORIES.map((category) => ({ category, subItems: 0, coveredSubItems: 0, records: 0 })),
  };
}

/** Each category's figure columns, named once rather than for every row read. */
const CATEGORY_COLUMNS = SUPERVISION_CATEGORIES.map((category) => ({
  category,
  items: `${categoryColumn(category)}_items`,
  covered: `${categoryColumn(category)}_covered`,
  records: `${categoryColumn(category)}_records`,
}));

/** Supervision figures from a figures row (figures.ts declares its columns). */
export function supervisionCountsOf(row: Record<string, unknown>): SupervisionCounts {
  const count = (column: string) => toSafeNumber(row[column] as string);
  return {
    mainItems: count('main_items'),
    coveredMainItems: count('covered_main_items'),
    byCategory: CATEGORY_COLUMNS.map((c) => ({ category: c.category, subItems: count(c.items), coveredSubItems: count(c.covered), records: count(c.records) })),
  };
}
