import type { EntityManager } from '@mikro-orm/postgresql';
import type { PageRequest } from '../../db/page';
import type { RegionRow } from '../regions/region.row';

/**
 * A department as reads show it: the columns of its row, read with one
 * statement and never made into a tracked entity. The GraphQL Department
 * type's resolvers read these properties only, which the entity has as well
 * (its `regionCode`), so a mutation may return the entity it changed.
 */
export class DepartmentRow {
  constructor(
    readonly id: number,
    readonly creditCode: string,
    readonly name: string,
    readonly regionCode: string,
    /**
     * The department's region when the statement that read the department read it too (a catalogue page); else its loader
     * reads it. Not named `region`: a Department entity, which the same field resolver may be given, has a `region`
     * reference of that name whose columns are not loaded.
     */
    readonly regionRow?: RegionRow,
  ) {}
}

/** The columns of a department row (alias `d`) a DepartmentRow is made of. */
export interface DepartmentColumns {
  id: number;
  credit_code: string;
  name: string;
  region_code: string;
}

export const DEPARTMENT_COLUMNS = (d: string) => `${d}.id, ${d}.credit_code, ${d}.name, ${d}.region_code`;

export const departmentRowOf = (r: DepartmentColumns) => new DepartmentRow(r.id, r.credit_code, r.name, r.region_code);

/** Departments by id, one statement; unknown ids are absent. */
export async function departmentRowsById(em: EntityManager, ids: readonly number[]): Promise<DepartmentRow[]> {
  const rows: DepartmentColumns[] = await em.execute(`select ${DEPARTMENT_COLUMNS('d')} from department d where d.id in (?)`, [[...ids]]);
  return rows.map(departmentRowOf);
}

/**
 * A page of the departments directly in each of several regions, one
 * statement: for each region its first `page.first + 1` departments with id
 * after `page.afterId`, in id order (the extra row tells whether a next page exists).
 */
export async function departmentRowsOfRegions(em: EntityManager, regionCodes: readonly string[], page: PageRequest): Promise<DepartmentRow[]> {
  if (regionCodes.length === 0) return [];
  const rows: DepartmentColumns[] = await em.execute(
    `select ${DEPARTMENT_COLUMNS('paged')} from (
       select ${DEPARTMENT_COLUMNS('d')}, row_number() over (partition by d.region_code order by d.id) as page_row
         from department d
        where d.region_code in (?) and d.id > ?
     ) paged where page_row <= ? order by paged.id`,
    [[...regionCodes], page.afterId, page.first + 1],
  );
  return rows.map(departmentRowOf);
}
