import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { pagedChildrenLoader, rowLoader } from '../../graphql/loader-factories';
import { directoryService, type DirectoryFilter } from './directory.service';

export function createDirectoryLoaders(em: EntityManager) {
  return {
    directoryById: rowLoader((ids: readonly number[]) => directoryService.byIds(em, ids), (d) => d.id),
    directoriesOfDepartment: pagedChildrenLoader(
      (ids: readonly number[], page, filter: DirectoryFilter) => directoryService.directoriesOf(em, ids, page, filter),
      (d) => d.department.id,
    ),
    directoryIsStale: new DataLoader<number, boolean>(async (ids) => {
      const flags = new Map((await directoryService.staleFlags(em, ids)).map((row) => [row.id, row.stale]));
      return ids.map((id) => flags.get(id) ?? false);
    }),
  };
}
