import type { EntityManager } from '@mikro-orm/postgresql';
import { pagedChildrenLoader, rowLoader } from '../../graphql/loader-factories';
import { departmentService } from './department.service';

export function createDepartmentLoaders(em: EntityManager) {
  return {
    departmentsOfRegion: pagedChildrenLoader(
      (codes: readonly string[], page, _filter: null) => departmentService.departmentsOfRegions(em, codes, page),
      (d) => d.region.unwrap().code,
    ),
    departmentById: rowLoader(
      (ids: readonly number[]) => departmentService.byIds(em, ids),
      (d) => d.id,
    ),
  };
}
