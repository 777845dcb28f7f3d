import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { rowLoader, unitCountLoader, unitListLoader } from '../../graphql/loader-factories';
import { directoryService, type DirectoryFilter } from './directory.service';

export function createDirectoryLoaders(em: EntityManager) {
  return {
    directoryById: rowLoader(
      (ids: readonly number[]) => directoryService.byIds(em, ids),
      (d) => d.id,
    ),
    /** Directories of departments or regions (drill-down lists), a page each. */
    directoriesOfUnit: unitListLoader((kind, units, page, filter: DirectoryFilter) => directoryService.directoriesOfUnits(em, kind, units, page, filter)),
    directoryCountOfUnit: unitCountLoader((kind, units, filter: DirectoryFilter) => directoryService.countOfUnits(em, kind, units, filter)),
    directoryIsStale: new DataLoader<number, boolean>(async (ids) => {
      const flags = new Map((await directoryService.staleFlags(em, ids)).map((row) => [row.id, row.stale]));
      return ids.map((id) => flags.get(id) ?? false);
    }),
  };
}
