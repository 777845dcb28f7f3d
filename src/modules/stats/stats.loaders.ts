import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { emptyUnitFigures, figuresService, type UnitFigures } from './figures.service';

/**
 * The stored figures of departments and regions. Mount, supervision and
 * subscription statistics of the same units all read these loaders, so a
 * level of a dashboard costs one statement whatever it asks.
 */
export function createStatsLoaders(em: EntityManager) {
  return {
    figuresOfDepartment: new DataLoader<number, UnitFigures>(async (ids) => {
      const figures = await figuresService.forDepartments(em, ids);
      return ids.map((id) => figures.get(id) ?? emptyUnitFigures());
    }),
    figuresOfRegion: new DataLoader<string, UnitFigures>(async (codes) => {
      const figures = await figuresService.forRegions(em, codes);
      return codes.map((code) => figures.get(code) ?? emptyUnitFigures());
    }),
  };
}

export type StatsLoaders = ReturnType<typeof createStatsLoaders>;
