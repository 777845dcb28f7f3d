import { staleSql } from '../../src/modules/catalogue/staleness';
import { SubscriptionStatus } from '../../src/modules/subscriptions/subscription.entity';
import { statusSql } from '../../src/modules/subscriptions/subscription.state-machine';
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

const SUBSCRIPTION_FIELDS = 'made received pending';

/** SQL aggregates over requests `s` seen from `side` (as subscriptions/subscription-stats.service.ts defines them). */
const SUBSCRIPTION_AGGREGATES = `
  count(*) filter (where side.role = 'made' and ${statusSql(SubscriptionStatus.GRANTED)}) as made,
  count(*) filter (where side.role = 'received' and ${statusSql(SubscriptionStatus.GRANTED)}) as received,
  count(*) filter (where side.role = 'received' and s.status = 'PENDING') as pending`;
const SIDES = `cross join lateral (values (s.requester_id, 'made'), (s.provider_id, 'received')) as side(department_id, role)`;

/**
 * The figures a unit (region or department) shows on a dashboard.
 * SUPERVISION: `supervisionStats { ... byCategory { ... } }` is added here once
 * the supervision branch has landed on main.
 */
const UNIT_FIGURES = `mountStats { ${MOUNT_FIELDS} } subscriptionStats { ${SUBSCRIPTION_FIELDS} }`;
const REGION_FIGURES = UNIT_FIGURES;

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
    // Per-department figures first (so the joins do not multiply rows), then summed per region over the closure.
    sql: `with m as (select c.department_id, ${MOUNT_AGGREGATES} from resource_directory c group by c.department_id),
                sub as (select side.department_id, ${SUBSCRIPTION_AGGREGATES} from subscription_request s ${SIDES} group by side.department_id)
          select r.code, r.name,
                 coalesce(sum(m.published), 0) as published, coalesce(sum(m.mounted), 0) as mounted,
                 coalesce(sum(m.volume), 0) as volume, coalesce(sum(m.stale), 0) as stale,
                 coalesce(sum(sub.made), 0) as made, coalesce(sum(sub.received), 0) as received, coalesce(sum(sub.pending), 0) as pending
            from region_closure t
            join region r on r.code = t.descendant_code
            join region_closure rc on rc.ancestor_code = r.code
            left join department d on d.region_code = rc.descendant_code
            left join m on m.department_id = d.id
            left join sub on sub.department_id = d.id
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
      departments(first: 500) { edges { node { name creditCode ${UNIT_FIGURES} } } }
    }
  }`,
  variables: { code: DISTRICT_CODE },
  check: (data) => (data?.region?.departments?.edges?.length ? null : 'no departments in the district'),
  floor: {
    sql: `select d.name, d.credit_code, m.*, sub.*
            from department d
            cross join lateral (select ${MOUNT_AGGREGATES} from resource_directory c where c.department_id = d.id) m
            cross join lateral (select ${SUBSCRIPTION_AGGREGATES} from subscription_request s ${SIDES}
                                 where (s.requester_id = d.id or s.provider_id = d.id) and side.department_id = d.id) sub
           where d.region_code = $1
           order by m.mounted::numeric / nullif(m.published, 0) desc nulls last, d.id`,
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
