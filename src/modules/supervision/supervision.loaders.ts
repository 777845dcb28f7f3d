import type { EntityManager } from '@mikro-orm/postgresql';
import { listLoader, rowLoader, unitCountLoader, unitListLoader } from '../../graphql/loader-factories';
import type { SupervisionMainItem, SupervisionSubItem } from './supervision.entity';
import { supervisionService, type MainItemListFilter, type SubItemListFilter } from './supervision.service';

export function createSupervisionLoaders(em: EntityManager) {
  return {
    supervisionMainItemById: rowLoader<number, SupervisionMainItem>(
      (ids) => supervisionService.mainItemsByIds(em, ids),
      (m) => m.id,
    ),
    /** Drill-down lists of departments or regions, a page each, and their total counts. */
    supervisionMainItemsOfUnit: unitListLoader((kind, units, page, filter: MainItemListFilter) =>
      supervisionService.mainItemsOfUnits(em, kind, units, page, filter),
    ),
    supervisionMainItemCountOfUnit: unitCountLoader((kind, units, filter: MainItemListFilter) =>
      supervisionService.mainItemCountOfUnits(em, kind, units, filter),
    ),
    supervisionSubItemsOfUnit: unitListLoader((kind, units, page, filter: SubItemListFilter) =>
      supervisionService.subItemsOfUnits(em, kind, units, page, filter),
    ),
    supervisionSubItemCountOfUnit: unitCountLoader((kind, units, filter: SubItemListFilter) => supervisionService.subItemCountOfUnits(em, kind, units, filter)),
    supervisionSubItemsOfMainItem: listLoader<number, SupervisionSubItem>(
      (ids) => supervisionService.subItemsOf(em, ids),
      (s) => s.mainItem.id,
    ),
  };
}
