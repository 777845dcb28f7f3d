import type { EntityManager } from '@mikro-orm/postgresql';
import { pagedChildrenLoader, rowLoader } from '../../graphql/loader-factories';
import { departmentRowsById, departmentRowsOfRegions } from './department.row';

/** Departments as plain rows (department.row.ts), one statement per batch of keys. */
export function createDepartmentLoaders(em: EntityManager) {
  return {
    departmentsOfRegion: pagedChildrenLoader(
      (codes: readonly string[], page, _filter: null) => departmentRowsOfRegions(em, codes, page),
      (d) => d.regionCode,
    ),
    departmentById: rowLoader(
      (ids: readonly number[]) => departmentRowsById(em, ids),
      (d) => d.id,
    ),
  };
}
