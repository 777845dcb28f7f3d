import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { usageService, type UsageCounts } from './usage.service';

export function createSharingLoaders(em: EntityManager) {
  return {
    /** Usage of directories (stored counters), one statement per batch. */
    directoryUsage: new DataLoader<number, UsageCounts>(async (ids) => {
      const usage = await usageService.ofDirectories(em, ids);
      return ids.map((id) => usage.get(id)!);
    }),
  };
}
