import { staleSql } from '../../src/modules/catalogue/staleness';
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

/** SQL aggregates over directories `c` giving the mount figures (as stats/mount-stats.service.ts defines them). */
const MOUNT_AGGREGATES = `
  count(c.id) filter (where c.status = 'PUBLISHED') as published,
  count(c.id) filter (where c.status = 'PUBLISHED' and c.active_mount_count > 0) as mounted,
  coalesce(sum(c.data_volume) filter (where c.status = 'PUBLISHED' and c.active_mount_count > 0), 0) as volume,
  count(c.id) filter (where ${staleSql('c')}) as stale`;

/**
 * The figures a region shows on a dashboard.
 * SUPERVISION / SUBSCRIPTIONS: `supervisionStats { byCategory }` and
 * `subscriptionStats` are added here once those branches have landed on main.
 */
const REGION_FIGURES = `mountStats { ${MOUNT_FIELDS} }`;

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
  floor: {
    sql: `select r.code, r.name, ${MOUNT_AGGREGATES}
            from region_closure t
            join region r on r.code = t.descendant_code
            join region_closure rc on rc.ancestor_code = r.code
            left join department d on d.region_code = rc.descendant_code
            left join resource_directory c on c.department_id = d.id
           where t.ancestor_code = $1 and t.depth <= 2
           group by r.code, r.name`,
    params: [PROVINCE_CODE],
  },
};

/**
 * SUPERVISION: becomes `departmentRanking` by sub-item coverage with all three
 * statistics once supervision has landed; until then every department of the
 * district with its mount figures, ranked by mount rate in the floor.
 */
export const districtRanking: ReadScenario = {
  kind: 'read',
  name: 'district ranking',
  description: 'Every department of one district with its figures.',
  query: `query DistrictDepartments($code: String!) {
    region(code: $code) {
      code name
      departments(first: 500) { edges { node { name creditCode mountStats { ${MOUNT_FIELDS} } } } }
    }
  }`,
  variables: { code: DISTRICT_CODE },
  check: (data) => (data?.region?.departments?.edges?.length ? null : 'no departments in the district'),
  floor: {
    sql: `select d.name, d.credit_code, ${MOUNT_AGGREGATES}
            from department d
            left join resource_directory c on c.department_id = d.id
           where d.region_code = $1
           group by d.id
           order by count(c.id) filter (where c.status = 'PUBLISHED' and c.active_mount_count > 0)::numeric
                    / nullif(count(c.id) filter (where c.status = 'PUBLISHED'), 0) desc nulls last, d.id`,
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
  floor: {
    sql: `select c.id, c.code, c.name, c.status, c.share_type, c.update_cycle, c.published_at,
                 c.active_mount_count > 0 as mounted, ${staleSql('c')} as stale, c.data_volume, c.last_refreshed_at,
                 d.name as department_name, d.credit_code, r.code as region_code, r.name as region_name, m.mounts
            from resource_directory c
            join department d on d.id = c.department_id
            join region r on r.code = d.region_code
            join region_closure rc on rc.descendant_code = d.region_code and rc.ancestor_code = $1
            left join lateral (select json_agg(json_build_object('kind', m.kind, 'recordCount', m.record_count, 'lastRefreshedAt', m.last_refreshed_at) order by m.id) as mounts
                                 from mount m where m.directory_id = c.id and m.active) m on true
           where c.name ilike $2 or c.code ilike $2
           order by c.id limit 51`,
    params: [CITY_CODE, `%${CATALOGUE_TEXT}%`],
  },
};

/**
 * The scenarios of a run, in order.
 * SUPERVISION: the ingestion scenario (`ingestSupervisionRecords`, batches of
 * 5,000) joins this list once supervision has landed.
 */
export function scenarios(): Scenario[] {
  return [provinceDashboard, districtRanking, cataloguePage];
}
