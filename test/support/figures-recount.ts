import type { MikroORM } from '@mikro-orm/postgresql';

/**
 * The stored figures checked against a recount written here, from the base
 * tables (mounts, records, subscription requests, deliveries), with SQL of
 * the tests' own: never the production statements (src/modules/stats/figures.ts),
 * which read the summaries the services keep (a directory's active mount
 * count and data volume, a sub-item's record count). A figure the production
 * SQL gets wrong, or a summary a service forgets, shows up as a difference.
 */

/** The supervision categories, restated. */
export const CATEGORIES = ['INSPECTION', 'PENALTY', 'COERCION', 'OTHER'];
/** How long data of each update cycle stays fresh (the domain rule, restated here). */
const FRESH_FOR: Record<string, string> = { REAL_TIME: '1 day', DAILY: '1 day', WEEKLY: '7 days', MONTHLY: '1 month', QUARTERLY: '3 months', YEARLY: '1 year' };

/** SQL: how long data of the update cycle of directory `c` stays fresh. */
const freshForSql = () =>
  `(case c.update_cycle ${Object.entries(FRESH_FOR)
    .map(([cycle, interval]) => `when '${cycle}' then interval '${interval}'`)
    .join(' ')} end)`;

/** Directories whose kept stale_after is not the latest refresh of their active mounts plus their update cycle. */
const staleAfterDriftSql = () => `
  select c.code, c.stale_after as kept, x.expected from resource_directory c,
    lateral (select max(m.last_refreshed_at) + ${freshForSql()} as expected from mount m where m.directory_id = c.id and m.active) x
  where c.stale_after is distinct from x.expected order by c.id`;

/** Every figure of every department, counted from the base tables with SQL of this test's own. */
function recountSql(): string {
  const category = CATEGORIES.map((c) => {
    const n = c.toLowerCase();
    const live = `(select count(*) from supervision_record r where r.sub_item_id = s.id and not r.superseded)`;
    return `(select count(*) from supervision_sub_item s where s.department_id = d.id and s.category = '${c}') as ${n}_items,
            (select count(*) from supervision_sub_item s where s.department_id = d.id and s.category = '${c}' and ${live} > 0) as ${n}_covered,
            (select coalesce(sum(${live}), 0) from supervision_sub_item s where s.department_id = d.id and s.category = '${c}') as ${n}_records`;
  }).join(',\n');
  const activeMounts = `(select count(*) from mount m where m.directory_id = c.id and m.active)`;
  const granted = `s.status = 'GRANTED' and (s.end_date is null or s.end_date >= (now() at time zone 'Asia/Shanghai')::date)`;
  return `
    select d.id as department_id, d.region_code,
      (select count(*) from resource_directory c where c.department_id = d.id and c.status = 'PUBLISHED') as published_directories,
      (select count(*) from resource_directory c where c.department_id = d.id and c.status = 'PUBLISHED' and ${activeMounts} > 0) as mounted_directories,
      (select coalesce(sum(m.record_count), 0) from resource_directory c join mount m on m.directory_id = c.id and m.active
        where c.department_id = d.id and c.status = 'PUBLISHED') as data_volume,
      (select count(*) from resource_directory c where c.department_id = d.id and c.status = 'PUBLISHED' and ${activeMounts} > 0
          and (select max(m.last_refreshed_at) from mount m where m.directory_id = c.id and m.active) + ${freshForSql()} < now()) as stale_directories,
      (select count(*) from subscription_request s where s.requester_id = d.id and ${granted}) as subscriptions_made,
      (select count(*) from subscription_request s where s.provider_id = d.id and ${granted}) as subscriptions_received,
      (select count(*) from subscription_request s where s.provider_id = d.id and s.status = 'PENDING') as subscriptions_pending,
      (select count(*) from supervision_main_item mi where mi.department_id = d.id) as main_items,
      (select count(*) from supervision_main_item mi where mi.department_id = d.id and exists (
        select 1 from supervision_sub_item s join supervision_record r on r.sub_item_id = s.id and not r.superseded where s.main_item_id = mi.id)) as covered_main_items,
      ${category},
      (select count(*) from dataset_access a where a.provider_id = d.id and a.consumer_id is not null) as usage_requests_provided,
      (select coalesce(sum(a.rows_delivered), 0) from dataset_access a where a.provider_id = d.id and a.consumer_id is not null) as usage_rows_provided,
      (select count(distinct a.consumer_id) from dataset_access a where a.provider_id = d.id) as usage_consumers,
      (select count(*) from dataset_access a where a.consumer_id = d.id) as usage_requests_made,
      (select coalesce(sum(a.rows_delivered), 0) from dataset_access a where a.consumer_id = d.id) as usage_rows_received,
      (select (count(*) > 0)::int from dataset_access a where a.consumer_id = d.id) as usage_consuming_departments
    from department d order by d.id`;
}

type Row = Record<string, string | number>;

/** The figure columns of department_figures, as the database has them. */
export async function figureColumns(orm: MikroORM): Promise<string[]> {
  const rows: { column_name: string }[] = await orm.em
    .fork()
    .execute(
      `select column_name from information_schema.columns where table_name = 'department_figures' and column_name <> 'department_id' order by column_name`,
    );
  return rows.map((row) => row.column_name);
}

/** Figures (and directories' stale_after) that differ from the recount, as readable lines; empty when all agree. */
export async function driftedFigures(orm: MikroORM, columns: string[]): Promise<string[]> {
  const em = orm.em.fork();
  const expected: Row[] = await em.execute(recountSql());
  const stored: Row[] = await em.execute(`select * from department_figures order by department_id`);
  const regions: { code: string; parent_code: string | null }[] = await em.execute(`select code, parent_code from region`);
  const storedRegions: Row[] = await em.execute(`select * from region_figures`);
  const problems: string[] = [];
  const missing = columns.filter((column) => !(column in (expected[0] ?? { [column]: 0 })));
  if (missing.length) problems.push(`no independent recount for figure columns ${missing.join(', ')}: add them to recountSql()`);
  const storedById = new Map(stored.map((row) => [Number(row.department_id), row]));
  if (stored.length !== expected.length) problems.push(`${expected.length} departments but ${stored.length} figure rows`);
  for (const row of expected) {
    const figures = storedById.get(Number(row.department_id));
    for (const column of columns) {
      if (Number(figures?.[column]) !== Number(row[column]))
        problems.push(`department ${row.department_id} ${column}: stored ${figures?.[column]}, recounted ${row[column]}`);
    }
  }
  // Regions: the sum over the departments of the region and of every region below it, by the parent links.
  const parentOf = new Map(regions.map((r) => [r.code, r.parent_code]));
  const totals = new Map<string, Record<string, number>>(regions.map((r) => [r.code, Object.fromEntries(columns.map((c) => [c, 0]))]));
  for (const row of expected) {
    for (let code: string | null | undefined = String(row.region_code); code; code = parentOf.get(code)) {
      for (const column of columns) totals.get(code)![column] += Number(row[column]);
    }
  }
  if (storedRegions.length !== regions.length) problems.push(`${regions.length} regions but ${storedRegions.length} region figure rows`);
  for (const row of storedRegions) {
    for (const column of columns) {
      const want = totals.get(String(row.region_code))?.[column];
      if (Number(row[column]) !== want) problems.push(`region ${row.region_code} ${column}: stored ${row[column]}, recounted ${want}`);
    }
  }
  const staleAfter: { code: string; kept: unknown; expected: unknown }[] = await em.execute(staleAfterDriftSql());
  for (const row of staleAfter) problems.push(`directory ${row.code} stale_after: kept ${String(row.kept)}, recounted ${String(row.expected)}`);
  return problems;
}
