import type { EntityName } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { PageRequest } from './page';
import { CLOCK_ACCOUNTED_FOR, readsTheClockUnaccounted } from './clock-reads';

/**
 * One statement returning, for each parent, its first `page.first + 1`
 * children with id greater than `page.afterId` (the extra row tells whether a
 * next page exists). `where` is an extra SQL condition on alias `c`.
 */
export async function pagedChildren<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  table: string,
  parentColumn: string,
  parents: readonly (string | number)[],
  page: PageRequest,
  where: { sql: string; params: unknown[] } = { sql: 'true', params: [] },
): Promise<T[]> {
  if (parents.length === 0) return [];
  const rows: Record<string, unknown>[] = await em.execute(
    `select * from (
       select c.*, row_number() over (partition by c.${parentColumn} order by c.id) as page_row
       from ${table} c
       where c.${parentColumn} in (?) and c.id > ? and (${where.sql})
     ) paged where page_row <= ? order by id`,
    [[...parents], page.afterId, ...where.params, page.first + 1],
  );
  return rows.map(({ page_row: _row, ...row }) => em.map(entity, row as never));
}

/**
 * One page of a whole table in id order, filtered by `where` on alias `c`.
 * The page's ids are picked first and its rows read after: an index holding
 * the filtered columns (resource_directory_search_index) then answers the
 * search without reading every wide row it passes over.
 */
export async function pagedRows<T extends object, R = T>(
  em: EntityManager,
  entity: EntityName<T>,
  table: string,
  page: PageRequest,
  where: { sql: string; params: unknown[] },
  /** Makes each row into what is returned; by default a managed entity (em.map). */
  make: (em: EntityManager, row: Record<string, unknown>) => R = (em, row) => em.map(entity, row as never) as unknown as R,
  /**
   * Columns to read besides the row's own, on alias `c`. When they read the
   * clock (now()) the caller dates the answer itself, so the statement is
   * marked as accounted for, unless `where` reads the clock as well.
   */
  extra?: string,
  /** Joins on the page's rows (alias `c`) that `extra` reads from; they must keep one row per row of the table. */
  joins = '',
): Promise<R[]> {
  const accounted = extra && !readsTheClockUnaccounted(where.sql) ? `${CLOCK_ACCOUNTED_FOR} ` : '';
  const rows: Record<string, unknown>[] = await em.execute(
    `${accounted}select c.*${extra ? `, ${extra}` : ''} from ${table} c ${joins}
      where c.id in (select c.id from ${table} c where c.id > ? and (${where.sql}) order by c.id limit ?)
      order by c.id`,
    [page.afterId, ...where.params, page.first + 1],
  );
  return rows.map((row) => make(em, row));
}
