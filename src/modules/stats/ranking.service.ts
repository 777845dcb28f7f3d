import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '../../core/errors';
import { executeForKeys } from '../../db/prepared';
import { toSafeNumber } from '../../core/numbers';
import { DEPARTMENT_COLUMNS, departmentRowOf, type DepartmentColumns, type DepartmentRow } from '../departments/department.row';
import { REGION_COLUMNS, regionRowOf, type RegionColumns, type RegionRow } from '../regions/region.row';
import { SUPERVISION_CATEGORIES } from '../supervision/supervision.entity';
import { categoryColumn, FIGURE_COLUMNS } from './figures';
import { figureValuesSql, unitFiguresOfValues, type UnitFigures } from './figures.service';

/** The rates units can be ranked by. */
export enum RankingMetric {
  MOUNT_RATE = 'MOUNT_RATE',
  MAIN_COVERAGE_RATE = 'MAIN_COVERAGE_RATE',
  SUB_COVERAGE_RATE = 'SUB_COVERAGE_RATE',
}

export enum RankingOrder {
  HIGHEST_FIRST = 'HIGHEST_FIRST',
  LOWEST_FIRST = 'LOWEST_FIRST',
}

/** What a ranking asks for, the same for every region of a batch. */
export interface RankingRequest {
  metric: RankingMetric;
  order: RankingOrder;
  first: number;
  /** Units passed over before the first one returned (paging through a long ranking). */
  skip: number;
  /** Only units whose rate is below this (in [0, 1]); units without a rate are then left out. */
  below: number | null;
}

export const RANKING_LIMIT = 500;

/** One ranked unit: its rank and the counts its rate is made of. */
export interface RankingEntry<U> {
  /** Its rank among all its peers (rankedSql), whatever the list's order and threshold; null without a rate. */
  rank: number | null;
  unit: U;
  numerator: number;
  denominator: number;
  /** The unit's stored figures, read by the ranking's own statement (its statistics then cost no statement of their own). */
  figures: UnitFigures;
}

const SUB_ITEMS = (f: string, what: 'items' | 'covered') => SUPERVISION_CATEGORIES.map((c) => `${f}.${categoryColumn(c)}_${what}`).join(' + ');

/**
 * Numerator and denominator of a metric for the department figures `f`
 * (department-figures.service.ts): mounted / published directories, covered
 * / all main items, covered / all sub-items; the definitions of the
 * statistics, read from the same rows.
 */
export const METRIC_SQL: Record<RankingMetric, (f: string) => { num: string; den: string }> = {
  MOUNT_RATE: (f) => ({ num: `${f}.mounted_directories`, den: `${f}.published_directories` }),
  MAIN_COVERAGE_RATE: (f) => ({ num: `${f}.covered_main_items`, den: `${f}.main_items` }),
  SUB_COVERAGE_RATE: (f) => ({ num: SUB_ITEMS(f, 'covered'), den: SUB_ITEMS(f, 'items') }),
};

/**
 * Orders SQL text columns by code point (UTF-8 bytes), as compareNames
 * (report-figures.ts) orders names in Node: collation "C", the same on every
 * server whatever its locale. Ties of every ranking and report table are
 * broken by name, then by key, in this order.
 */
export const nameOrderSql = (column: string) => `${column} collate "C"`;

/** Checks a ranking request, with reasons a dashboard developer understands. */
export function checkRankingRequest(request: RankingRequest): RankingRequest {
  if (!Number.isInteger(request.first) || request.first < 1 || request.first > RANKING_LIMIT) {
    throw badInput(`"first" must be between 1 and ${RANKING_LIMIT}, got ${request.first}.`);
  }
  if (!Number.isInteger(request.skip) || request.skip < 0) {
    throw badInput(`"skip" must be 0 or more, got ${request.skip}.`);
  }
  if (request.below !== null && !(request.below >= 0 && request.below <= 1)) {
    throw badInput(`"below" is a rate between 0 and 1 (0.6 for 60%), got ${request.below}.`);
  }
  return request;
}

/**
 * Lists the units of `unitSql` (given the condition on its region column:
 * rows with key, num, den and the unit's own columns) per key, in the
 * order asked: rated units by rate, then units without a rate (zero
 * denominator, shown as "-"), ties broken by name, then by the unit's key
 * (`keyColumn`: a department's credit code, a region's code), both in
 * code-point order (nameOrderSql); `below` keeps the units under it.
 *
 * A unit's `rank` is not its place in that list but its rank as the report
 * gives it (rankPeers, report.service.ts): its place among all its rated
 * peers, highest rate first, ties by name then key; null without a rate.
 * So a department has one rank in a month whichever list shows it: lowest
 * first, below a threshold, a later page, `Region.report`, the exports.
 * The rank is numbered before `below` leaves units out, in a window of its
 * own: PostgreSQL sorts the units twice (EXPLAIN on the demo: one sort per
 * window, the list's after the rank's). The list most asked for (highest
 * first, no threshold) is in rank order already, rated units first: there
 * a rated unit's place is its rank, and one window (one sort) gives both.
 */
function rankedSql(
  unitSql: (regions: string) => string,
  unitColumns: (alias: string) => string,
  request: RankingRequest,
  keyColumn: string,
): { sql: (regions: string) => string; params: unknown[] } {
  const direction = request.order === RankingOrder.HIGHEST_FIRST ? 'desc' : 'asc';
  const byName = (alias: string) => `${nameOrderSql(`${alias}.name`)}, ${nameOrderSql(`${alias}.${keyColumn}`)}`;
  const params: unknown[] = [];
  let filter = 'true';
  if (request.below !== null) {
    filter = 'r.den > 0 and r.num < ?::numeric * r.den';
    params.push(request.below);
  }
  params.push(request.skip, request.skip + request.first);
  const position = (alias: string) =>
    `row_number() over (partition by ${alias}.key order by (${alias}.den = 0), ${alias}.num::numeric / nullif(${alias}.den, 0) ${direction}, ${byName(alias)})`;
  const inRankOrder = request.order === RankingOrder.HIGHEST_FIRST && request.below === null;
  const positioned = (regions: string) =>
    inRankOrder
      ? `select r.*, case when r.den > 0 then r.position end as rank from (
         select u.*, ${position('u')} as position from (${unitSql(regions)}) u
       ) r`
      : `select r.*, ${position('r')} as position
         from (
           select u.*, case when u.den > 0 then row_number() over (
                    partition by u.key, (u.den = 0)
                    order by u.num::numeric / nullif(u.den, 0) desc, ${byName('u')}) end as rank
             from (${unitSql(regions)}) u
         ) r
        where ${filter}`;
  return {
    // The figures of the listed units only, as one text each (figureValuesSql): one column for the driver to read
    // instead of thirty.
    sql: (regions) => `select listed.key, ${unitColumns('listed')}, listed.num, listed.den, listed.rank, ${figureValuesSql('listed')} as figures from (
            ${positioned(regions)}
          ) listed where position > ? and position <= ? order by key, position`,
    params,
  };
}

/** The stored figure columns of `f` (department_figures or region_figures), which a ranking reads with its units. */
const FIGURES = (f: string) => FIGURE_COLUMNS.map((column) => `${f}.${column}`).join(', ');

/** A listed row: the region it was ranked in, the unit's columns, its counts and rank (bigint sums and row_number come as text), its figures as one text. */
type Row<C> = C & { key: string; num: string; den: string; rank: string | null; figures: string };

/** The ranked units per region key, as plain rows (no entities: a ranking is shown, never changed). */
function split<C, U>(rows: Row<C>[], keys: readonly string[], unitOf: (columns: C) => U): Map<string, RankingEntry<U>[]> {
  const map = new Map<string, RankingEntry<U>[]>(keys.map((key) => [key, []]));
  for (const row of rows) {
    map.get(row.key)?.push({
      rank: row.rank === null ? null : Number(row.rank),
      unit: unitOf(row),
      numerator: toSafeNumber(row.num),
      denominator: toSafeNumber(row.den),
      figures: unitFiguresOfValues(row.figures),
    });
  }
  return map;
}

export const rankingService = {
  /**
   * Departments in each region and all regions below it, ranked by a rate;
   * one statement for the whole batch of regions.
   */
  async departmentsOf(em: EntityManager, regionCodes: readonly string[], request: RankingRequest): Promise<Map<string, RankingEntry<DepartmentRow>[]>> {
    const metric = METRIC_SQL[request.metric]('f');
    // The region codes are the statement's first value (executeForKeys: one as a value, planned once; several as a list).
    const unitSql = (regions: string) => `
      select rc.ancestor_code as key, ${DEPARTMENT_COLUMNS('d')}, ${FIGURES('f')}, ${metric.num} as num, ${metric.den} as den
        from region_closure rc
        join department d on d.region_code = rc.descendant_code
        join department_figures f on f.department_id = d.id
       where rc.ancestor_code ${regions}`;
    const ranked = rankedSql(unitSql, DEPARTMENT_COLUMNS, request, 'credit_code');
    const rows = await executeForKeys<Row<DepartmentColumns>>(em, regionCodes, ranked.sql, ranked.params);
    return split(rows, regionCodes, departmentRowOf);
  },

  /**
   * The regions directly below each region, ranked by a rate over all their
   * departments (rates recomputed from the sums); one statement per batch.
   */
  async childRegionsOf(em: EntityManager, regionCodes: readonly string[], request: RankingRequest): Promise<Map<string, RankingEntry<RegionRow>[]>> {
    const metric = METRIC_SQL[request.metric]('f');
    const unitSql = (regions: string) => `
      select c.parent_code as key, ${REGION_COLUMNS('c')}, ${FIGURES('f')}, ${metric.num} as num, ${metric.den} as den
        from region c join region_figures f on f.region_code = c.code
       where c.parent_code ${regions}`;
    const ranked = rankedSql(unitSql, REGION_COLUMNS, request, 'code');
    const rows = await executeForKeys<Row<RegionColumns>>(em, regionCodes, ranked.sql, ranked.params);
    return split(rows, regionCodes, regionRowOf);
  },
};
