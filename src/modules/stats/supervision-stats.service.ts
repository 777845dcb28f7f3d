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

/** Supervision figures from a figures row (figures.ts declares its columns). */
export function supervisionCountsOf(row: Record<string, unknown>): SupervisionCounts {
  const count = (column: string) => toSafeNumber(row[column] as string);
  return {
    mainItems: count('main_items'),
    coveredMainItems: count('covered_main_items'),
    byCategory: SUPERVISION_CATEGORIES.map((category) => ({
      category,
      subItems: count(`${categoryColumn(category)}_items`),
      coveredSubItems: count(`${categoryColumn(category)}_covered`),
      records: count(`${categoryColumn(category)}_records`),
    })),
  };
}
