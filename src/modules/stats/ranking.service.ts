import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '../../graphql/errors';
import { toSafeNumber } from '../../graphql/scalars';
import { Department } from '../departments/department.entity';
import { Region } from '../regions/region.entity';
import { MAIN_ITEM_COVERED_SQL } from './supervision-stats.service';

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
  /** Only units whose rate is below this (in [0, 1]); units without a rate are then left out. */
  below: number | null;
}

export const RANKING_LIMIT = 500;

/** One ranked unit: its place and the counts its rate is made of. */
export interface RankingEntry<U> {
  rank: number;
  unit: U;
  numerator: number;
  denominator: number;
}

/**
 * Numerator and denominator of a metric for one department `d`, as a lateral
 * subquery. The definitions are those of the statistics (mount-stats and
 * supervision-stats services): published / mounted directories, covered /
 * all main items, covered / all sub-items; all read summary columns, never
 * mounts or records.
 */
const METRIC_SQL: Record<RankingMetric, (d: string) => string> = {
  MOUNT_RATE: (d) =>
    `select count(*) filter (where c.status = 'PUBLISHED' and c.active_mount_count > 0) as num, count(*) filter (where c.status = 'PUBLISHED') as den
       from resource_directory c where c.department_id = ${d}.id`,
  MAIN_COVERAGE_RATE: (d) =>
    `select count(*) filter (where ${MAIN_ITEM_COVERED_SQL('m')}) as num, count(*) as den from supervision_main_item m where m.department_id = ${d}.id`,
  SUB_COVERAGE_RATE: (d) => `select count(*) filter (where s.record_count > 0) as num, count(*) as den from supervision_sub_item s where s.department_id = ${d}.id`,
};

/** Checks a ranking request, with reasons a dashboard developer understands. */
export function checkRankingRequest(request: RankingRequest): RankingRequest {
  if (!Number.isInteger(request.first) || request.first < 1 || request.first > RANKING_LIMIT) {
    throw badInput(`"first" must be between 1 and ${RANKING_LIMIT}, got ${request.first}.`);
  }
  if (request.below !== null && !(request.below >= 0 && request.below <= 1)) {
    throw badInput(`"below" is a rate between 0 and 1 (0.6 for 60%), got ${request.below}.`);
  }
  return request;
}

/**
 * Ranks the units of `unitSql` (rows with key, num, den and the unit's own
 * columns) per key: rated units by rate, then units without a rate (zero
 * denominator, shown as "-"), ties broken by name in code-point order
 * (collation "C": the same on every server, whatever its locale), then by
 * id/code.
 */
function rankedSql(unitSql: string, request: RankingRequest, tieBreak: string): { sql: string; params: unknown[] } {
  const direction = request.order === RankingOrder.HIGHEST_FIRST ? 'desc' : 'asc';
  const params: unknown[] = [];
  let filter = 'true';
  if (request.below !== null) {
    filter = 'u.den > 0 and u.num < ?::numeric * u.den';
    params.push(request.below);
  }
  params.push(request.first);
  return {
    sql: `select * from (
            select u.*, row_number() over (
                     partition by u.key
                     order by (u.den = 0), u.num::numeric / nullif(u.den, 0) ${direction}, u.name collate "C", ${tieBreak}) as rank
              from (${unitSql}) u
             where ${filter}
          ) ranked where rank <= ? order by key, rank`,
    params,
  };
}

type Row = Record<string, unknown> & { key: string; num: string; den: string; rank: string };

function split<U extends object>(em: EntityManager, entity: new () => U, rows: Row[], keys: readonly string[]): Map<string, RankingEntry<U>[]> {
  const map = new Map<string, RankingEntry<U>[]>(keys.map((key) => [key, []]));
  for (const { key, num, den, rank, ...columns } of rows) {
    map.get(key)?.push({ rank: Number(rank), unit: em.map(entity, columns as never), numerator: toSafeNumber(num), denominator: toSafeNumber(den) });
  }
  return map;
}

export const rankingService = {
  /**
   * Departments in each region and all regions below it, ranked by a rate;
   * one statement for the whole batch of regions.
   */
  async departmentsOf(em: EntityManager, regionCodes: readonly string[], request: RankingRequest): Promise<Map<string, RankingEntry<Department>[]>> {
    const unitSql = `
      select rc.ancestor_code as key, d.*, x.num, x.den
        from region_closure rc
        join department d on d.region_code = rc.descendant_code
        cross join lateral (${METRIC_SQL[request.metric]('d')}) x
       where rc.ancestor_code in (?)`;
    const ranked = rankedSql(unitSql, request, 'u.id');
    const rows: Row[] = await em.execute(ranked.sql, [[...regionCodes], ...ranked.params]);
    return split(em, Department, rows, regionCodes);
  },

  /**
   * The regions directly below each region, ranked by a rate over all their
   * departments (rates recomputed from the sums); one statement per batch.
   */
  async childRegionsOf(em: EntityManager, regionCodes: readonly string[], request: RankingRequest): Promise<Map<string, RankingEntry<Region>[]>> {
    const unitSql = `
      select c.parent_code as key, c.*, coalesce(sum(x.num), 0) as num, coalesce(sum(x.den), 0) as den
        from region c
        join region_closure rc on rc.ancestor_code = c.code
        left join department d on d.region_code = rc.descendant_code
        left join lateral (${METRIC_SQL[request.metric]('d')}) x on true
       where c.parent_code in (?)
       group by c.code`;
    const ranked = rankedSql(unitSql, request, 'u.code');
    const rows: Row[] = await em.execute(ranked.sql, [[...regionCodes], ...ranked.params]);
    return split(em, Region, rows, regionCodes);
  },
};
