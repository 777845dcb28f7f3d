import type { EntityManager } from '@mikro-orm/postgresql';
import { EMPTY_MOUNT_COUNTS, mountCountsOf, type MountCounts } from './mount-stats.service';
import { emptySupervisionCounts, supervisionCountsOf, type SupervisionCounts } from './supervision-stats.service';
import { EMPTY_SUBSCRIPTION_COUNTS, subscriptionCountsOf, type SubscriptionCounts } from '../subscriptions/subscription-stats.service';
import { FIGURE_COLUMNS } from './figures';
import { EMPTY_USAGE_FIGURES, usageFiguresOf, type UsageFigures } from '../sharing/usage.service';

/** Every stored figure of one unit (a department or a region): what its three statistics are made of. */
export interface UnitFigures {
  mount: MountCounts;
  supervision: SupervisionCounts;
  subscriptions: SubscriptionCounts;
  /** Use of hosted data (资源使用 / 被使用). Absent from snapshots captured before it was counted. */
  usage?: UsageFigures;
}

export function emptyUnitFigures(): UnitFigures {
  return { mount: EMPTY_MOUNT_COUNTS, supervision: emptySupervisionCounts(), subscriptions: EMPTY_SUBSCRIPTION_COUNTS, usage: EMPTY_USAGE_FIGURES };
}

/** A unit's key and its stored figures as one text (figureValuesSql). */
type FiguresRow = { key: string | number; figures: string };

/** A unit's figures from a row holding the figure columns (figures.ts), as read from department_figures or region_figures. */
export function unitFiguresOfRow(row: Record<string, unknown>): UnitFigures {
  return { mount: mountCountsOf(row), supervision: supervisionCountsOf(row), subscriptions: subscriptionCountsOf(row), usage: usageFiguresOf(row) };
}

/**
 * A unit's stored figures as one value: the figure columns of `f`
 * (department_figures or region_figures) as one text, in FIGURE_COLUMNS
 * order, separated by commas (every figure column is a whole number, never
 * null). The driver reads one text where separate columns cost it a string
 * and a parse each: a province dashboard reads 179 regions with their
 * figures, and those 5,000 columns were about a tenth of its Node CPU. (A
 * JSON array would be parsed faster in Node but cost PostgreSQL 0.75 ms more
 * per dashboard to build; the text costs it about 0.1 ms.) Read it back with
 * unitFiguresOfValues; the sums stay text until a reader makes them numbers,
 * so those past 2^53 stay exact.
 */
export const figureValuesSql = (f: string) => `concat_ws(',', ${FIGURE_COLUMNS.map((column) => `${f}.${column}`).join(', ')})`;

/**
 * The values of figureValuesSql seen as a figures row: each figure column is
 * a getter on the prototype reading its place in the list, so the readers
 * of each statistics section (mountCountsOf, ...) read them as they read a
 * row, and no object of thirty properties is built per unit.
 */
class FigureValues {
  constructor(readonly values: readonly string[]) {}
}
for (const [i, column] of FIGURE_COLUMNS.entries()) {
  Object.defineProperty(FigureValues.prototype, column, {
    get(this: FigureValues) {
      return this.values[i];
    },
  });
}

/** A unit's figures from the text figureValuesSql built. */
export function unitFiguresOfValues(text: string): UnitFigures {
  const values = text.split(',');
  if (values.length !== FIGURE_COLUMNS.length) throw new Error(`${values.length} figure values where ${FIGURE_COLUMNS.length} figures are declared`);
  return unitFiguresOfRow(new FigureValues(values) as unknown as Record<string, unknown>);
}

function byKey<K extends string | number>(keys: readonly K[], rows: FiguresRow[], normalise: (key: FiguresRow['key']) => K): Map<K, UnitFigures> {
  const map = new Map<K, UnitFigures>();
  for (const row of rows) map.set(normalise(row.key), unitFiguresOfValues(row.figures));
  for (const key of keys) if (!map.has(key)) map.set(key, emptyUnitFigures());
  return map;
}

/**
 * The stored figures of units, read from department_figures and
 * region_figures (kept in the transaction of every change; the stale and
 * lapsed counts also as time passes, see departmentFiguresService). One row
 * per unit carries all three statistics, so a dashboard asking mount,
 * supervision and subscription figures of a batch of units reads them in one
 * statement, never directories, sub-items, records or requests.
 */
export const figuresService = {
  /** Figures of many departments, one statement. */
  async forDepartments(em: EntityManager, departmentIds: readonly number[]): Promise<Map<number, UnitFigures>> {
    const rows: FiguresRow[] = await em.execute(
      `select f.department_id as key, ${figureValuesSql('f')} as figures from department_figures f where f.department_id in (?)`,
      [[...departmentIds]],
    );
    return byKey(departmentIds, rows, Number);
  },

  /** Figures of many regions, one statement: each region's row sums every department at any depth. */
  async forRegions(em: EntityManager, regionCodes: readonly string[]): Promise<Map<string, UnitFigures>> {
    const rows: FiguresRow[] = await em.execute(
      `select f.region_code as key, ${figureValuesSql('f')} as figures from region_figures f where f.region_code in (?)`,
      [[...regionCodes]],
    );
    return byKey(regionCodes, rows, String);
  },
};
