import { staleSql } from '../../src/modules/catalogue/staleness';
import { COUNTED_FIGURES, countFiguresSql, FIGURE_COLUMNS, figuresOf, type CountedFigure } from '../../src/modules/stats/figures';
import { SUPERVISION_CATEGORIES } from '../../src/modules/supervision/supervision.entity';
import { count, differences, isoTime, unitStats, type Figures } from './answers';
import { connect } from './database';
import { CITY_CODE, DISTRICT_CODE, PROVINCE_CODE } from './scales';

/**
 * A read scenario: one GraphQL document sent over and over, and its floor,
 * one hand-written SQL statement computing the same figures directly on the
 * database. The API's latency over the floor's tells how much the layers
 * above SQL (statements per request, GraphQL, Node) cost.
 */
export interface ReadScenario {
  kind: 'read';
  name: string;
  description: string;
  query: string;
  variables: Record<string, unknown>;
  /** Checks a response's data beyond "no errors" (shape, non-empty); returns a problem or null. */
  check(data: any): string | null;
  floor: { sql: string; params: unknown[] };
  /**
   * Compares every row of an answer with the floor's rows (its figures, and
   * the rates and flags derived from them), or null when they agree: the
   * runner does it on the first answer and every 20th.
   */
  compare(data: any, floorRows: any[]): string | null;
  /** Extra request headers (`cache-control: no-cache` for the computed variant). */
  headers?: Record<string, string>;
  /** Writes sent at the same time by other clients, for as long as the reads run. */
  alongside?: { write: WriteScenario; clients: number };
}

/**
 * A write scenario: each request carries a fresh body (`body(n)` for the n-th
 * request), and `verify` checks the database afterwards.
 */
export interface WriteScenario {
  kind: 'write';
  name: string;
  description: string;
  /** Units of work per request (e.g. records per batch), for a per-unit rate. */
  unitsPerRequest: number;
  unit: string;
  /** Prepares state the bodies need (e.g. sub-item codes); called once per run. */
  prepare(databaseUrl: string): Promise<void>;
  body(n: number): { query: string; variables: Record<string, unknown> };
  check(data: any): string | null;
  /** Checks invariants after the run (e.g. counters exact); returns a problem or null. */
  verify(databaseUrl: string): Promise<string | null>;
}

export type Scenario = ReadScenario | WriteScenario;

const MOUNT_FIELDS = 'publishedDirectories mountedDirectories dataVolume mountRate mountRatePercent staleDirectories';

const SUBSCRIPTION_FIELDS = 'made received pending';

const SUPERVISION_FIELDS = `mainItems coveredMainItems mainCoverageRate mainCoverageRatePercent subItems coveredSubItems subCoverageRate subCoverageRatePercent records
  byCategory { category subItems coveredSubItems records coverageRate coverageRatePercent }`;

/**
 * The supervision and mount figures of a department as department_figures
 * stores them (kept by the services in the transaction of every change), as
 * sums over the rows `f` with the names the smoke test reads (published, ..., inspection_sub_items, ...).
 */
const FIGURES_SUMS = [
  `coalesce(sum(f.published_directories), 0) as published, coalesce(sum(f.mounted_directories), 0) as mounted, coalesce(sum(f.data_volume), 0) as volume`,
  `coalesce(sum(f.main_items), 0) as main_items, coalesce(sum(f.covered_main_items), 0) as covered_main_items`,
  `coalesce(sum(${SUPERVISION_CATEGORIES.map((c) => `f.${c.toLowerCase()}_items`).join(' + ')}), 0) as sub_items`,
  `coalesce(sum(${SUPERVISION_CATEGORIES.map((c) => `f.${c.toLowerCase()}_covered`).join(' + ')}), 0) as covered_sub_items`,
  `coalesce(sum(${SUPERVISION_CATEGORIES.map((c) => `f.${c.toLowerCase()}_records`).join(' + ')}), 0) as records`,
  ...SUPERVISION_CATEGORIES.map((c) => {
    const k = c.toLowerCase();
    return `coalesce(sum(f.${k}_items), 0) as ${k}_sub_items, coalesce(sum(f.${k}_covered), 0) as ${k}_covered, coalesce(sum(f.${k}_records), 0) as ${k}_records`;
  }),
].join(',\n');

/** The stale-directory and subscription counts stored with the figures `f`, summed, with the names the smoke test reads. */
const STORED_SUMS = `coalesce(sum(f.stale_directories), 0) as stale, coalesce(sum(f.subscriptions_made), 0) as made,
  coalesce(sum(f.subscriptions_received), 0) as received, coalesce(sum(f.subscriptions_pending), 0) as pending`;

/** Every column of the figures rows, as the API reads them (figures.service.ts), for comparing stored sums. */

/**
 * Regions whose stored figures (region_figures, kept by a trigger) differ
 * from the sums of the department figures of every department in them and
 * below them: 0 when the trigger kept them exact.
 */
export const REGION_FIGURES_MISMATCH_SQL = `
  select count(*)::int as wrong
    from region r
    left join region_figures f on f.region_code = r.code
    cross join lateral (select ${FIGURE_COLUMNS.map((c) => `coalesce(sum(df.${c}), 0) as ${c}`).join(', ')}
                          from region_closure rc join department d on d.region_code = rc.descendant_code
                          join department_figures df on df.department_id = d.id
                         where rc.ancestor_code = r.code) s
   where f.region_code is null
      or (${FIGURE_COLUMNS.map((c) => `f.${c}`).join(', ')}) <> (${FIGURE_COLUMNS.map((c) => `s.${c}`).join(', ')})`;

/**
 * Departments whose stored `figures` (department_figures) differ from the
 * same figures counted from the rows themselves (stats/figures.ts): 0 when
 * the generator or the services kept them exact.
 */
export function departmentFiguresMismatchSql(figures: readonly CountedFigure[]): string {
  return `
  select count(*)::int as wrong
    from (${countFiguresSql(figures, () => 'true').sql}) x
    left join department_figures f on f.department_id = x.id
   where f.department_id is null
      or (${figures.map((f) => `f.${f.column}`).join(', ')}) <> (${figures.map((f) => `x.${f.column}`).join(', ')})`;
}

/** Every figure counted from rows (usage is added by the usage fold, not counted). */
export const DEPARTMENT_FIGURES_MISMATCH_SQL = departmentFiguresMismatchSql(COUNTED_FIGURES);

/**
 * The supervision figures, every one (main items, covered main items, and per
 * category the sub-items, covered sub-items and records), against a recount:
 * what ingestion changes. The other sections are left out, since the clock
 * moves the stale count between the jobs that store it.
 */
export const SUPERVISION_FIGURES_MISMATCH_SQL = departmentFiguresMismatchSql(figuresOf('supervision'));

/** The figures a unit (region or department) shows on a dashboard: all three statistics. */
const UNIT_FIGURES = `mountStats { ${MOUNT_FIELDS} } supervisionStats { ${SUPERVISION_FIELDS} } subscriptionStats { ${SUBSCRIPTION_FIELDS} }`;
const REGION_FIGURES = UNIT_FIGURES;

/** A floor row's sums (FIGURES_SUMS, STORED_SUMS) as the stored figures a unit's statistics are made of. */
export function floorFigures(row: Record<string, string | number>): Figures {
  const figures: Figures = {
    publishedDirectories: row.published,
    mountedDirectories: row.mounted,
    dataVolume: row.volume,
    staleDirectories: row.stale,
    mainItems: row.main_items,
    coveredMainItems: row.covered_main_items,
    subscriptionsMade: row.made,
    subscriptionsReceived: row.received,
    subscriptionsPending: row.pending,
  };
  for (const category of SUPERVISION_CATEGORIES) {
    const k = category.toLowerCase();
    Object.assign(figures, { [`${k}Items`]: row[`${k}_sub_items`], [`${k}Covered`]: row[`${k}_covered`], [`${k}Records`]: row[`${k}_records`] });
  }
  return figures;
}

/** A unit of an answer as its statistics show it (the fields UNIT_FIGURES asks). */
const shown = (unit: any) => ({ mountStats: unit.mountStats, supervisionStats: unit.supervisionStats, subscriptionStats: unit.subscriptionStats });

const problem = (found: string[]) => (found.length ? found.join('; ') : null);

/** A timestamp the pg driver returns (a Date) or one inside JSON (text), as Mulu sends it. */
const iso = (value: Date | string | null) => (value instanceof Date ? value.toISOString() : isoTime(value));

export const provinceDashboard: ReadScenario = {
  kind: 'read',
  name: 'province dashboard',
  description: 'The province, its cities and their districts, each with its figures.',
  query: `query ProvinceDashboard($code: String!) {
    region(code: $code) {
      code name ${REGION_FIGURES}
      children { code name ${REGION_FIGURES}
        children { code name ${REGION_FIGURES} } }
    }
  }`,
  variables: { code: PROVINCE_CODE },
  check: (data) => (data?.region?.children?.length ? null : 'no cities in the dashboard'),
  compare: (data, rows) => {
    const units: any[] = [];
    const walk = (region: any) => {
      units.push(region);
      for (const child of region.children ?? []) walk(child);
    };
    walk(data.region);
    const byCode = new Map(rows.map((row) => [row.code, row]));
    const found = units.length === rows.length ? [] : [`${units.length} regions in the answer, ${rows.length} in the floor`];
    for (const unit of units) {
      const row = byCode.get(unit.code);
      if (!row) found.push(`region ${unit.code} is not in the floor`);
      else differences({ name: unit.name, ...shown(unit) }, { name: row.name, ...unitStats(floorFigures(row)) }, `region ${unit.code}`, 5, found);
    }
    return problem(found.slice(0, 5));
  },
  floor: {
    // The stored figures of each region (region_figures: every department below it, kept in the transaction of every change), as the API reads them.
    sql: `select r.code, r.name, ${FIGURES_SUMS}, ${STORED_SUMS}
            from region_closure t
            join region r on r.code = t.descendant_code
            join region_figures f on f.region_code = r.code
           where t.ancestor_code = $1 and t.depth <= 2
           group by r.code, r.name`,
    params: [PROVINCE_CODE],
  },
};

export const districtRanking: ReadScenario = {
  kind: 'read',
  name: 'district ranking',
  description: 'Every department of one district ranked by sub-item coverage, with all three statistics.',
  query: `query DistrictRanking($code: String!) {
    region(code: $code) {
      code name
      departmentRanking(metric: SUB_COVERAGE_RATE, first: 500) {
        rank rate ratePercent numerator denominator
        department { name creditCode ${UNIT_FIGURES} }
      }
    }
  }`,
  variables: { code: DISTRICT_CODE },
  check: (data) => (data?.region?.departmentRanking?.length ? null : 'no departments in the ranking'),
  compare: (data, rows) => {
    const entries: any[] = data.region.departmentRanking;
    const found = entries.length === Math.min(rows.length, 500) ? [] : [`${entries.length} departments in the answer, ${rows.length} in the floor`];
    entries.forEach((entry, i) => {
      const row = rows[i];
      if (!row) return;
      const stats = unitStats(floorFigures(row));
      const { coveredSubItems: numerator, subItems: denominator, subCoverageRate: rate, subCoverageRatePercent: ratePercent } = stats.supervisionStats;
      differences(
        { rank: entry.rank, rate: entry.rate, ratePercent: entry.ratePercent, numerator: entry.numerator, denominator: entry.denominator, ...entry.department },
        { rank: row.rank === null ? null : Number(row.rank), rate, ratePercent, numerator, denominator, name: row.name, creditCode: row.credit_code, ...stats },
        `rank ${i + 1}`,
        5,
        found,
      );
    });
    return problem(found.slice(0, 5));
  },
  floor: {
    // The stored figures of each department below the district, ranked by sub-item coverage as Mulu ranks: units
    // without sub-items last, then name, then credit code, both in byte order (ranking.service.ts); those have no rank.
    sql: `select row_number() over (order by fig.sub_items = 0, fig.covered_sub_items::numeric / nullif(fig.sub_items, 0) desc, d.name collate "C", d.credit_code collate "C") as position,
                 case when fig.sub_items > 0 then row_number() over (partition by fig.sub_items = 0
                   order by fig.covered_sub_items::numeric / nullif(fig.sub_items, 0) desc, d.name collate "C", d.credit_code collate "C") end as rank,
                 d.name, d.credit_code, fig.*
            from region_closure rc
            join department d on d.region_code = rc.descendant_code
            cross join lateral (select ${FIGURES_SUMS}, ${STORED_SUMS} from department_figures f where f.department_id = d.id) fig
           where rc.ancestor_code = $1
           order by position`,
    params: [DISTRICT_CODE],
  },
};

export const CATALOGUE_TEXT = '许可';

export const cataloguePage: ReadScenario = {
  kind: 'read',
  name: 'catalogue page',
  description: `50 directories of a city whose name or code contains "${CATALOGUE_TEXT}", with department and mount fields.`,
  query: `query CataloguePage($filter: DirectoryFilter!) {
    directories(first: 50, filter: $filter) {
      edges { node {
        code name status shareType updateCycle publishedAt
        mounted stale dataVolume lastRefreshedAt
        department { name creditCode region { code name } }
        mounts { kind recordCount lastRefreshedAt }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
  variables: { filter: { regionCode: CITY_CODE, text: CATALOGUE_TEXT } },
  check: (data) => (data?.directories?.edges?.length ? null : 'an empty catalogue page'),
  compare: (data, rows) => {
    const { endCursor: _cursor, ...pageInfo } = data.directories.pageInfo;
    const expected = {
      edges: rows.slice(0, 50).map((row) => ({
        node: {
          code: row.code,
          name: row.name,
          status: row.status,
          shareType: row.share_type,
          updateCycle: row.update_cycle,
          publishedAt: iso(row.published_at),
          mounted: row.mounted,
          stale: row.stale === true,
          dataVolume: count(row.data_volume),
          lastRefreshedAt: iso(row.last_refreshed_at),
          department: { name: row.department_name, creditCode: row.credit_code, region: { code: row.region_code, name: row.region_name } },
          mounts: (row.mounts ?? []).map((m: any) => ({ kind: m.kind, recordCount: count(m.recordCount), lastRefreshedAt: iso(m.lastRefreshedAt) })),
        },
      })),
      pageInfo: { hasNextPage: rows.length > 50 },
    };
    return problem(differences({ edges: data.directories.edges, pageInfo }, expected));
  },
  floor: {
    sql: `select c.id, c.code, c.name, c.status, c.share_type, c.update_cycle, c.published_at,
                 c.status = 'PUBLISHED' and c.active_mount_count > 0 as mounted, ${staleSql('c')} as stale, c.data_volume, c.last_refreshed_at,
                 d.name as department_name, d.credit_code, r.code as region_code, r.name as region_name, m.mounts
            from resource_directory c
            join department d on d.id = c.department_id
            join region r on r.code = d.region_code
            left join lateral (select json_agg(json_build_object('kind', m.kind, 'recordCount', m.record_count, 'lastRefreshedAt', m.last_refreshed_at) order by m.id) as mounts
                                 from mount m where m.directory_id = c.id and m.active) m on true
           where c.id in (select c.id from resource_directory c
                           join department d on d.id = c.department_id
                           join region_closure rc on rc.descendant_code = d.region_code and rc.ancestor_code = $1
                          where (c.name ilike $2 or c.code ilike $2) and c.status <> 'DRAFT' -- read as a viewer: drafts are their department's
                          order by c.id limit 51)
           order by c.id`,
    params: [CITY_CODE, `%${CATALOGUE_TEXT}%`],
  },
};

export const INGESTION_BATCH = 5_000;

let ingestions = 0;

/**
 * `ingestSupervisionRecords` batches of 5,000 new records, each batch for one
 * department (as an upstream system pushes them), the departments taken in
 * turn from the 200 with most sub-items, records spread over the
 * department's sub-items. External ids carry the run's start time, so runs
 * can repeat on the same database. Afterwards every sub-item's counter must
 * equal its counting records, every department's stored supervision figures
 * (main items, covered main items, per category sub-items, covered sub-items
 * and records) a recount of its rows, and every region's stored figures the
 * sums of its departments'.
 */
export function ingestion(): WriteScenario {
  // Unique per instance too: the dashboard-during-ingestion scenario has one of its own, made in the same millisecond.
  const runId = `${Date.now().toString(36)}-${(ingestions++).toString(36)}`;
  let departments: { creditCode: string; subItemCodes: string[] }[] = [];
  return {
    kind: 'write',
    name: 'ingestion',
    description: `ingestSupervisionRecords, batches of ${INGESTION_BATCH.toLocaleString('en')} new records for one department each.`,
    unitsPerRequest: INGESTION_BATCH,
    unit: 'records',
    async prepare(databaseUrl) {
      const client = await connect(databaseUrl);
      try {
        const { rows } = await client.query(
          `select d.credit_code, array_agg(s.code order by s.id) as codes
             from department d join supervision_sub_item s on s.department_id = d.id
            group by d.id order by count(*) desc, d.id limit 200`,
        );
        departments = rows.map((row) => ({ creditCode: row.credit_code, subItemCodes: row.codes }));
      } finally {
        await client.end();
      }
      if (!departments.length) throw new Error('No department has supervision sub-items: generate the data with npm run bench:seed.');
    },
    body(n) {
      const department = departments[n % departments.length];
      const occurredAt = new Date(Date.now() - 86_400_000).toISOString();
      const records = Array.from({ length: INGESTION_BATCH }, (_, i) => ({
        source: 'bench-ingestion',
        externalId: `${runId}-${n}-${i}`,
        subItemCode: department.subItemCodes[(n * 7 + i) % department.subItemCodes.length],
        occurredAt,
      }));
      return {
        query: `mutation Ingest($input: IngestSupervisionRecordsInput!) { ingestSupervisionRecords(input: $input) { received accepted duplicates stored rejected { index reason } } }`,
        variables: { input: { departmentCreditCode: department.creditCode, records } },
      };
    },
    check: (data) => {
      const result = data?.ingestSupervisionRecords;
      if (!result) return 'no ingestion result';
      return result.accepted === INGESTION_BATCH && result.stored
        ? null
        : `accepted ${result.accepted} of ${INGESTION_BATCH}: ${JSON.stringify(result.rejected?.slice(0, 2))}`;
    },
    async verify(databaseUrl) {
      const client = await connect(databaseUrl);
      try {
        const { rows } = await client.query(
          `select count(*)::int as wrong from supervision_sub_item s
             left join (select sub_item_id, count(*) as n from supervision_record where not superseded group by sub_item_id) r on r.sub_item_id = s.id
            where s.record_count <> coalesce(r.n, 0)`,
        );
        if (rows[0].wrong !== 0) return `${rows[0].wrong} sub-item counters differ from their records`;
        const figures = await client.query(SUPERVISION_FIGURES_MISMATCH_SQL);
        if (figures.rows[0].wrong !== 0) return `${figures.rows[0].wrong} departments' stored supervision figures differ from a recount of their rows`;
        const regions = await client.query(REGION_FIGURES_MISMATCH_SQL);
        return regions.rows[0].wrong === 0 ? null : `${regions.rows[0].wrong} regions' stored figures differ from the sums of their departments`;
      } finally {
        await client.end();
      }
    },
  };
}

/** Name suffix of a read scenario's computed variant. */
export const COMPUTED = ' (no cache)';

/**
 * The same read with `Cache-Control: no-cache`: every answer computed afresh,
 * as every read is while writes land faster than the reads repeat (the
 * response cache reuses an answer only until the next commit).
 */
export function computed(scenario: ReadScenario): ReadScenario {
  return { ...scenario, name: scenario.name + COMPUTED, headers: { 'cache-control': 'no-cache' } };
}

/** Name suffix of a read scenario run while an upstream system ingests records. */
export const DURING_INGESTION = ' during ingestion';

/**
 * The same read while one upstream system sends record batches without a
 * pause: each batch's commit retires the response cache's answers, so this
 * shows what readers get while writes land.
 */
export function duringIngestion(scenario: ReadScenario): ReadScenario {
  return { ...scenario, name: scenario.name + DURING_INGESTION, alongside: { write: ingestion(), clients: 1 } };
}

/**
 * The scenarios of a run, in order (reads first: ingestion adds records):
 * each read as served, then computed afresh; the dashboard while records are
 * ingested; ingestion alone.
 */
export function scenarios(): Scenario[] {
  const reads = [provinceDashboard, districtRanking, cataloguePage];
  return [...reads.flatMap((read) => [read, computed(read)]), duringIngestion(provinceDashboard), ingestion()];
}
