import type { EntityName } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { PageRequest } from './page';

/**
 * The unit a drill-down list belongs to: a department (its own rows) or a
 * region (the rows of every department in it and in every region below it,
 * through `region_closure`). Keys are department ids or region codes.
 */
export type UnitKind = 'department' | 'region';

/** SQL condition on alias `c` (a table with `department_id`) tying a row to the unit `o.key`. */
function ownedBy(kind: UnitKind): string {
  return kind === 'department'
    ? 'c.department_id = o.key'
    : `c.department_id in (select dep.id from department dep join region_closure rc on rc.descendant_code = dep.region_code where rc.ancestor_code = o.key)`;
}

/** The units asked for, as rows `o(key)`; unknown keys drop out. */
function unitsSql(kind: UnitKind): string {
  return kind === 'department' ? '(select id as key from department where id in (?)) o' : '(select code as key from region where code in (?)) o';
}

/** A row of a unit's list, with the unit it was listed for (a region's rows are also its ancestors'). */
export interface UnitRow<T> {
  unit: string;
  item: T;
}

/**
 * One statement: for each unit, its first `page.first + 1` rows of `table`
 * with id greater than `page.afterId` that match `where` (on alias `c`), in
 * id order. Each unit reads its rows in id order and stops at the page's end
 * (a lateral subquery with a limit), so a province's first page does not
 * number all of its rows first.
 */
export async function unitPagedRows<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  table: string,
  kind: UnitKind,
  units: readonly (string | number)[],
  page: PageRequest,
  where: { sql: string; params: unknown[] },
): Promise<UnitRow<T>[]> {
  if (units.length === 0) return [];
  const rows: Record<string, unknown>[] = await em.execute(
    `select o.key::text as unit_key, c.* from ${unitsSql(kind)}
     cross join lateral (
       select c.* from ${table} c where ${ownedBy(kind)} and c.id > ? and (${where.sql}) order by c.id limit ?
     ) c
     order by c.id`,
    [[...units], page.afterId, ...where.params, page.first + 1],
  );
  return rows.map(({ unit_key, ...row }) => ({ unit: String(unit_key), item: em.map(entity, row as never) }));
}

/**
 * One statement: how many rows of `table` match `where` (on alias `c`) for
 * each unit; units without any are absent from the map (count 0).
 */
export async function unitCounts(
  em: EntityManager,
  table: string,
  kind: UnitKind,
  units: readonly (string | number)[],
  where: { sql: string; params: unknown[] },
): Promise<Map<string, number>> {
  if (units.length === 0) return new Map();
  const sql =
    kind === 'department'
      ? `select c.department_id::text as unit_key, count(*)::int as n from ${table} c where c.department_id in (?) and (${where.sql}) group by c.department_id`
      : `select rc.ancestor_code as unit_key, count(*)::int as n
           from region_closure rc
           join department dep on dep.region_code = rc.descendant_code
           join ${table} c on c.department_id = dep.id
          where rc.ancestor_code in (?) and (${where.sql})
          group by rc.ancestor_code`;
  const rows: { unit_key: string; n: number }[] = await em.execute(sql, [[...units], ...where.params]);
  return new Map(rows.map((row) => [String(row.unit_key), Number(row.n)]));
}
