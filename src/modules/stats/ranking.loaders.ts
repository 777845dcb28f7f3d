import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { DepartmentRow } from '../departments/department.row';
import type { RegionRow } from '../regions/region.row';
import { rankingService, type RankingEntry, type RankingRequest } from './ranking.service';
import type { StatsLoaders, UnitFiguresLoader } from './stats.loaders';

export interface RankingKey {
  regionCode: string;
  request: RankingRequest;
}

/**
 * Rankings of many regions: keys asking the same ranking (the usual case, a
 * list of regions each asking one) share one statement. Each ranked unit's
 * figures come with it and stay with its row (UnitFiguresLoader.carry),
 * so the units' statistics cost no statement of their own.
 */
function rankingLoader<U extends object>(
  fetch: (codes: readonly string[], request: RankingRequest) => Promise<Map<string, RankingEntry<U>[]>>,
  figures: UnitFiguresLoader<U, unknown>,
) {
  return new DataLoader<RankingKey, RankingEntry<U>[], string>(
    async (keys) => {
      const groups = new Map<string, RankingKey[]>();
      for (const key of keys) {
        const group = JSON.stringify(key.request);
        groups.set(group, [...(groups.get(group) ?? []), key]);
      }
      const results = new Map<RankingKey, RankingEntry<U>[]>();
      await Promise.all(
        [...groups.values()].map(async (group) => {
          const ranked = await fetch(
            group.map((key) => key.regionCode),
            group[0].request,
          );
          for (const entries of ranked.values()) for (const entry of entries) figures.carry(entry.unit, entry.figures);
          for (const key of group) results.set(key, ranked.get(key.regionCode) ?? []);
        }),
      );
      return keys.map((key) => results.get(key)!);
    },
    { cacheKeyFn: (key) => JSON.stringify([key.regionCode, key.request]) },
  );
}

export function createRankingLoaders(em: EntityManager, figures: StatsLoaders) {
  return {
    departmentRanking: rankingLoader<DepartmentRow>((codes, request) => rankingService.departmentsOf(em, codes, request), figures.figuresOfDepartment),
    childRegionRanking: rankingLoader<RegionRow>((codes, request) => rankingService.childRegionsOf(em, codes, request), figures.figuresOfRegion),
  };
}
