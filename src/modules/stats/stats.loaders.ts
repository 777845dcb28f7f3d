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

/**
 * Figures that came with a unit's row: a ranking reads its units' figures in
 * its own statement. They are kept with that row, not put in the shared
 * loaders, so that a statement count never depends on which of two paths of
 * one query finished first (the same units asked elsewhere in the query go
 * through the loaders as always).
 */
const carried = new WeakMap<object, UnitFigures>();

export function carryFigures(unit: object, figures: UnitFigures): void {
  carried.set(unit, figures);
}

/** A department's figures: those its row came with, else through the request's loader. */
export function departmentFigures(loaders: StatsLoaders, department: { id: number }): UnitFigures | Promise<UnitFigures> {
  return carried.get(department) ?? loaders.figuresOfDepartment.load(department.id);
}

/** A region's figures: those its row came with, else through the request's loader. */
export function regionFigures(loaders: StatsLoaders, region: { code: string }): UnitFigures | Promise<UnitFigures> {
  return carried.get(region) ?? loaders.figuresOfRegion.load(region.code);
}
