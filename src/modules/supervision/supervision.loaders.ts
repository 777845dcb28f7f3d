import type { EntityManager } from '@mikro-orm/postgresql';
import { listLoader, pagedChildrenLoader, rowLoader } from '../../graphql/loader-factories';
import type { SupervisionMainItem, SupervisionSubItem } from './supervision.entity';
import { supervisionService } from './supervision.service';

export function createSupervisionLoaders(em: EntityManager) {
  return {
    supervisionMainItemById: rowLoader<number, SupervisionMainItem>((ids) => supervisionService.mainItemsByIds(em, ids), (m) => m.id),
    supervisionMainItemsOfDepartment: pagedChildrenLoader(
      (ids: readonly number[], page, _filter: null) => supervisionService.mainItemsOf(em, ids, page),
      (m) => m.department.id,
    ),
    supervisionSubItemsOfMainItem: listLoader<number, SupervisionSubItem>((ids) => supervisionService.subItemsOf(em, ids), (s) => s.mainItem.id),
  };
}
