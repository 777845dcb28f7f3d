import type { EntityManager } from '@mikro-orm/postgresql';
import { rowLoader } from '../../graphql/loader-factories';
import { departmentService } from './department.service';

export function createDepartmentLoaders(em: EntityManager) {
  return {
    departmentById: rowLoader((ids: readonly number[]) => departmentService.byIds(em, ids), (d) => d.id),
  };
}
