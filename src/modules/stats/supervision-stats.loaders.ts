import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { emptySupervisionCounts, supervisionStatsService, type SupervisionCounts } from './supervision-stats.service';

export function createSupervisionStatsLoaders(em: EntityManager) {
  return {
    supervisionStatsOfDepartment: new DataLoader<number, SupervisionCounts>(async (ids) => {
      const stats = await supervisionStatsService.forDepartments(em, ids);
      return ids.map((id) => stats.get(id) ?? emptySupervisionCounts());
    }),
    supervisionStatsOfRegion: new DataLoader<string, SupervisionCounts>(async (codes) => {
      const stats = await supervisionStatsService.forRegions(em, codes);
      return codes.map((code) => stats.get(code) ?? emptySupervisionCounts());
    }),
  };
}
