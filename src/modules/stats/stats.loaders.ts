import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { EMPTY_MOUNT_COUNTS, mountStatsService, type MountCounts } from './mount-stats.service';

export function createStatsLoaders(em: EntityManager) {
  return {
    mountStatsOfDepartment: new DataLoader<number, MountCounts>(async (ids) => {
      const stats = await mountStatsService.forDepartments(em, ids);
      return ids.map((id) => stats.get(id) ?? EMPTY_MOUNT_COUNTS);
    }),
    mountStatsOfRegion: new DataLoader<string, MountCounts>(async (codes) => {
      const stats = await mountStatsService.forRegions(em, codes);
      return codes.map((code) => stats.get(code) ?? EMPTY_MOUNT_COUNTS);
    }),
  };
}
