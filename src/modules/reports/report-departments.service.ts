import type { EntityManager } from '@mikro-orm/postgresql';
import { emptyUnitFigures, unitFiguresOfRow, type UnitFigures } from '../stats/figures.service';
import { METRIC_SQL, RankingMetric } from '../stats/ranking.service';
import { changeOf, decimalFraction, METRICS, nameOrderSql } from './report-figures';
import { ReportUnitKind } from './report-snapshot.entity';
import { FiguresSource, type ReportUnit } from './report.service';

/**
 * The departments of a report as the report lists them (every department in
 * the region and below it): by name, in the order of appendix 4 or 5, or, per
 * rate, those below the threshold, lowest first. A province has 10,000 of
 * them and a page shows a hundred: PostgreSQL ranks, orders and pages them
 * over the stored figures (department_figures, or the snapshot's rows), and
 * only the rows asked for reach Node, each with its ranks among all the
 * departments and the counts of the whole list. One statement for every
 * list of every region of a batch.
 */

/**
 * Which list: by name, appendix 4 (RESOURCES), appendix 5 (SUPERVISION),
 * every department in the order of its rank by a rate (RANKED_ and the rate),
 * or the departments below the threshold by a rate.
 */
export type DepartmentList = 'BY_NAME' | 'RESOURCES' | 'SUPERVISION' | RankedList | RankingMetric;
export type RankedList = `RANKED_${RankingMetric}`;

/** The list of every department in the order of its rank by `metric`. */
export const rankedList = (metric: RankingMetric): RankedList => `RANKED_${metric}`;

/** The figures a report's departments come from, and what they are compared and measured against. */
export interface DepartmentsSource {
  source: FiguresSource;
  /** The period of a snapshot (SNAPSHOT); the current month (LIVE). */
  period: string;
  /** The compared snapshot's period; null when nothing is compared. */
  comparedTo: string | null;
  threshold: number;
}

export interface DepartmentListRequest {
  /** The report's region: its departments and those of every region below it. */
  regionCode: string;
  from: DepartmentsSource;
  list: DepartmentList;
  /** How many of the first rows; null for all of them. */
  first: number | null;
}

export interface DepartmentListPage {
  units: ReportUnit[];
  /** Units in the whole list (every department, or every one below the threshold by the rate). */
  totalCount: number;
}

/** Short names of the rates in the statement's columns. */
const RATE: Record<RankingMetric, string> = {
  [RankingMetric.MOUNT_RATE]: 'mount',
  [RankingMetric.MAIN_COVERAGE_RATE]: 'main',
  [RankingMetric.SUB_COVERAGE_RATE]: 'sub',
};

const isRate = (list: DepartmentList): list is RankingMetric => list in RATE;

/**
 * Ties last by name in code-point order, then by credit code: the order is
 * total (compareNames in Node). As `name_pos`, each unit's place in that
 * order (unitsSql), so that the name is compared in one sort, not in each
 * of the six sorts below it, where most rows tie on their rate and every
 * comparison of two text columns costs more than one of an integer.
 */
const BY_NAME = 'u.name_pos';
/**
 * Ordered by a rate: by its first 90 binary digits, in three bigints of 30
 * (RATE_DIGITS), compared as integers: exact, and several times cheaper to
 * sort than a numeric key (10,000 rows are sorted three times, most of them
 * tied on the rate, 0 or 1, so every comparison reached the tie-break).
 */
const byRate = (metric: RankingMetric, direction: 'asc' | 'desc') => [1, 2, 3].map((digit) => `u.${RATE[metric]}_k${digit} ${direction}`).join(', ');
const rated = (metric: RankingMetric) => `u.${RATE[metric]}_den > 0`;

/**
 * Each list as the departments it holds and their order: the report's
 * orders (report-figures.ts, compareInReportOrder and sortInReportOrder) and,
 * below the threshold, lowest rate first (lowestFirst), on the columns of
 * unitsSql.
 */
const LIST: Record<DepartmentList, { where: string; order: string }> = {
  BY_NAME: { where: 'true', order: BY_NAME },
  RESOURCES: {
    where: 'true',
    order: `${rated(RankingMetric.MOUNT_RATE)} desc, ${byRate(RankingMetric.MOUNT_RATE, 'desc')}, u.mount_den desc, u.volume desc, ${BY_NAME}`,
  },
  SUPERVISION: {
    where: 'true',
    order: `${rated(RankingMetric.MAIN_COVERAGE_RATE)} desc, ${byRate(RankingMetric.MAIN_COVERAGE_RATE, 'desc')}, ${rated(RankingMetric.SUB_COVERAGE_RATE)} desc, ${byRate(RankingMetric.SUB_COVERAGE_RATE, 'desc')}, u.main_den desc, ${BY_NAME}`,
  },
  // The order of the ranks (listsSql's rank sorts), units without the rate after them, by name.
  ...(Object.fromEntries(
    METRICS.map((metric) => [rankedList(metric), { where: 'true', order: `${rated(metric)} desc, ${byRate(metric, 'desc')}, ${BY_NAME}` }]),
  ) as Record<RankedList, { where: string; order: string }>),
  ...(Object.fromEntries(METRICS.map((metric) => [metric, { where: `u.${RATE[metric]}_below`, order: `${byRate(metric, 'asc')}, ${BY_NAME}` }])) as Record<
    RankingMetric,
    { where: string; order: string }
  >),
};

/**
 * The rate num/den as three bigints: its binary digits 30 at a time (the
 * integer part with the first 30 after the point, then the next 30, then
 * 30 more), by long division in bigint. The counts are below 2^33 (sums of
 * four integer columns), so no product passes 2^63 (a larger count fails
 * the statement, never orders wrongly). Two different rates whose
 * denominators are below 2^33 differ by more than 2^-66, so their first 90
 * digits differ, in the same direction; equal rates (1/2, 2/4) have equal
 * digits: compared in order, the three order rates exactly as
 * compareRatesHighestFirst does. Null without a rate (den = 0).
 */
function rateDigitsSql(num: string, den: string): [string, string, string] {
  const d = `nullif(${den}, 0)`;
  const shifted = (n: string) => `(${n}) * 1073741824`;
  const r1 = `(${shifted(num)} % ${d})`;
  const r2 = `(${shifted(r1)} % ${d})`;
  return [`${shifted(num)} / ${d}`, `${shifted(r1)} / ${d}`, `${shifted(r2)} / ${d}`];
}

/** Collects a statement's parameters in the order its text is written. */
class Parameters {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return '?';
  }
}

/**
 * Each department of the trees (`ref`: its department id, or its snapshot
 * row's) with the counts its rates and its place in the report's order are
 * made of: `<rate>_num`, `<rate>_den` (the definitions of the rankings,
 * METRIC_SQL), `<rate>_k1` to `<rate>_k3` (the exact sort key of the rate,
 * rateDigitsSql), `<rate>_below` (below the threshold, compared exactly as
 * isBelow does) and `volume`. Narrow rows: the sorts move no figures.
 */
function unitsSql(from: DepartmentsSource, trees: readonly string[], p: Parameters): string {
  const threshold = decimalFraction(from.threshold);
  // Counts are below 2^33 (sums of four integer columns); a threshold's fraction below 2^29 keeps every product below 2^62.
  const exact = threshold.denominator < 2n ** 29n ? '::bigint' : '::numeric';
  // Each rate's sort key and threshold test once per row, from the counts of the select below (parameters in the text's order).
  const derived = METRICS.flatMap((metric) => {
    const r = RATE[metric];
    return [
      ...rateDigitsSql(`x.${r}_num`, `x.${r}_den`).map((digits, i) => `${digits} as ${r}_k${i + 1}`),
      // isBelow: num / den < t exactly, with t as its decimal fraction (in bigint while no product can pass 2^62).
      `x.${r}_den > 0 and x.${r}_num${exact} * ${p.add(threshold.denominator.toString())}${exact} < ${p.add(threshold.numerator.toString())}${exact} * x.${r}_den as ${r}_below`,
    ];
  });
  const counts = (m: (rate: RankingMetric) => { num: string; den: string }, volume: string) =>
    [
      ...METRICS.flatMap((metric) => [`(${m(metric).num})::bigint as ${RATE[metric]}_num`, `(${m(metric).den})::bigint as ${RATE[metric]}_den`]),
      `(${volume})::numeric as volume`,
    ].join(', ');
  let rows: string;
  if (from.source === FiguresSource.LIVE) {
    // A department without a figures row (none is missing in practice) has every figure 0, as figuresService reads it.
    const f = (metric: RankingMetric) => {
      const { num, den } = METRIC_SQL[metric]('f');
      return { num: `coalesce(${num}, 0)`, den: `coalesce(${den}, 0)` };
    };
    rows = `select rc.ancestor_code collate "C" as tree, d.id as ref, d.credit_code as key, d.name, ${counts(f, 'coalesce(f.data_volume, 0)')}
              from region_closure rc
              join department d on d.region_code = rc.descendant_code
              left join department_figures f on f.department_id = d.id
             where rc.ancestor_code in (${p.add([...trees])})`;
  } else {
    // A snapshot's figures as captured (UnitFigures): sub-items summed over the categories.
    const json = (path: string) => `(s.figures #>> '{${path}}')::numeric`;
    const subItems = (field: string) =>
      `(select coalesce(sum((c ->> '${field}')::numeric), 0) from jsonb_array_elements(s.figures #> '{supervision,byCategory}') c)`;
    const figures: Record<RankingMetric, { num: string; den: string }> = {
      [RankingMetric.MOUNT_RATE]: { num: json('mount,mountedDirectories'), den: json('mount,publishedDirectories') },
      [RankingMetric.MAIN_COVERAGE_RATE]: { num: json('supervision,coveredMainItems'), den: json('supervision,mainItems') },
      [RankingMetric.SUB_COVERAGE_RATE]: { num: subItems('coveredSubItems'), den: subItems('subItems') },
    };
    rows = `select rc.ancestor_code collate "C" as tree, s.id as ref, s.unit_key as key, s.unit_name as name, ${counts((metric) => figures[metric], json('mount,dataVolume'))}
              from report_snapshot_unit s
              join region_closure rc on rc.descendant_code = s.region_code
             where s.period = ${p.add(from.period)} and s.unit_kind = 'DEPARTMENT' and rc.ancestor_code in (${p.add([...trees])})`;
  }
  // dense_rank: a department of several trees (a batch) has one place, however many rows it has.
  return `select x.*, ${derived.join(', ')}, dense_rank() over (order by ${nameOrderSql('x.name')}, ${nameOrderSql('x.key')}) as name_pos from (${rows}) x`;
}

/**
 * The statement. Per tree: its counts; the rank of each department by each
 * rate (a sort of the rated ones per rate, narrow rows); the first rows of
 * each list asked for (top-N sorts: no full sort for a page). Then only the
 * rows of the pages, with their figures and the compared period's, and one
 * row per tree for its counts alone.
 */
function listsSql(from: DepartmentsSource, trees: readonly string[], limits: Map<DepartmentList, number>): { sql: string; params: unknown[] } {
  const p = new Parameters();
  const units = unitsSql(from, trees, p);
  const counts = METRICS.map((metric) => {
    const r = RATE[metric];
    return `count(*) filter (where ${rated(metric)}) as ${r}_of, count(*) filter (where u.${r}_below) as ${r}_below_count`;
  });
  // One tree (a page's request): no partition, so that the rank sorts start with the rate (a double) instead of
  // comparing the same tree code first in every comparison (about a tenth of the statement at province scale).
  const partition = trees.length > 1 ? 'partition by u.tree ' : '';
  const ranks = METRICS.map(
    (metric) => `${RATE[metric]}_ranks as (
       select u.tree, u.ref, row_number() over (${partition}order by ${byRate(metric, 'desc')}, ${BY_NAME}) as rank from units u where ${rated(metric)})`,
  );
  // The columns a page needs and its orders use: the top-N sorts move narrow rows.
  const carried = [
    'tree',
    'ref',
    'key',
    'name',
    'volume',
    'name_pos',
    ...METRICS.flatMap((metric) => ['num', 'den', 'k1', 'k2', 'k3', 'below'].map((c) => `${RATE[metric]}_${c}`)),
  ];
  const pages = [...limits].map(([list, limit]) => {
    const { where, order } = LIST[list];
    return `select x.*, '${list}' as list, row_number() over (${partition.replace('u.', 'x.')}order by ${order.replace(/\bu\./g, 'x.')}) as position
              from counts c cross join lateral (
                select ${carried.map((column) => `u.${column}`).join(', ')} from units u where u.tree = c.tree and ${where} order by ${order} limit ${p.add(limit)}) x`;
  });
  const figures =
    from.source === FiguresSource.LIVE
      ? // A look-up by key per row of the pages (a few hundred; `limit 1` keeps the planner from making it a join, which
        // read all 10,000 rows into a hash).
        {
          columns: 'f.*, null::jsonb as figures',
          join: 'left join lateral (select * from department_figures f where f.department_id = pg.ref limit 1) f on true',
        }
      : { columns: 's.figures', join: 'left join lateral (select s.figures from report_snapshot_unit s where s.id = pg.ref limit 1) s on true' };
  const previous =
    from.comparedTo === null
      ? 'null::jsonb as previous'
      : `(select b.figures from report_snapshot_unit b where b.period = ${p.add(from.comparedTo)} and b.unit_kind = 'DEPARTMENT' and b.unit_key = pg.key) as previous`;
  const sql = `with units as materialized (${units}),
          counts as (select u.tree, count(*) as n, ${counts.join(', ')} from units u group by u.tree),
          ${ranks.join(',\n')},
          page as (${pages.length ? pages.join('\nunion all\n') : `select ${carried.map((column) => `u.${column}`).join(', ')}, null::text as list, null::bigint as position from units u where false`})
          select c.*, pg.list, pg.position, pg.key, pg.name,
                 ${METRICS.map((metric) => `${RATE[metric]}_ranks.rank as ${RATE[metric]}_rank`).join(', ')},
                 ${METRICS.map((metric) => `pg.${RATE[metric]}_below`).join(', ')},
                 ${previous}, ${figures.columns}
            from counts c
            left join page pg on pg.tree = c.tree
            ${METRICS.map((metric) => `left join ${RATE[metric]}_ranks on ${RATE[metric]}_ranks.tree = pg.tree and ${RATE[metric]}_ranks.ref = pg.ref`).join('\n')}
            ${figures.join}`;
  return { sql, params: p.values };
}

type Row = Record<string, unknown> & { tree: string; key: string; name: string; figures: UnitFigures | string | null; previous: UnitFigures | string | null };

const parsed = (figures: UnitFigures | string) => (typeof figures === 'string' ? (JSON.parse(figures) as UnitFigures) : figures);
const count = (value: unknown) => (value === null || value === undefined ? null : Number(value));

function unitOf(row: Row, from: DepartmentsSource): ReportUnit {
  const figures =
    from.source === FiguresSource.LIVE
      ? row.department_id === null
        ? emptyUnitFigures()
        : unitFiguresOfRow(row)
      : parsed(row.figures ?? JSON.stringify(emptyUnitFigures()));
  const previous = row.previous === null ? null : parsed(row.previous);
  return {
    kind: ReportUnitKind.DEPARTMENT,
    key: row.key,
    name: row.name,
    figures,
    previous,
    change: previous ? changeOf(figures, previous) : null,
    ranks: METRICS.map((metric) => ({
      metric,
      rank: count(row[`${RATE[metric]}_rank`]),
      of: Number(row[`${RATE[metric]}_of`]),
      below: row[`${RATE[metric]}_below`] === true,
    })),
  };
}

export const reportDepartmentsService = {
  /**
   * Pages of department lists of reports that share one source (the same
   * figures, compared period and threshold), for any number of regions and
   * lists: one statement. Each page is in its list's order.
   */
  async pages(em: EntityManager, from: DepartmentsSource, requests: readonly DepartmentListRequest[]): Promise<DepartmentListPage[]> {
    if (requests.length === 0) return [];
    const trees = [...new Set(requests.map((r) => r.regionCode))];
    // The longest page of each list asked over the batch (all rows: as many as there can be).
    const limits = new Map<DepartmentList, number>();
    for (const request of requests) {
      const first = request.first ?? Number.MAX_SAFE_INTEGER;
      if (first > 0) limits.set(request.list, Math.max(limits.get(request.list) ?? 0, first));
    }
    const statement = listsSql(from, trees, limits);
    const rows: Row[] = await em.execute(statement.sql, statement.params);

    const units = new Map<string, ReportUnit>();
    const unit = (row: Row) => {
      const id = `${row.tree} ${row.key}`;
      let made = units.get(id);
      if (!made) units.set(id, (made = unitOf(row, from)));
      return made;
    };
    return requests.map((request) => {
      const own = rows.filter((row) => row.tree === request.regionCode);
      const totalCount = Number(own[0]?.[isRate(request.list) ? `${RATE[request.list]}_below_count` : 'n'] ?? 0);
      const listed = own
        .filter((row) => row.list === request.list && Number(row.position) <= (request.first ?? Number.MAX_SAFE_INTEGER))
        .sort((a, b) => Number(a.position) - Number(b.position));
      return { units: listed.map(unit), totalCount };
    });
  },
};
