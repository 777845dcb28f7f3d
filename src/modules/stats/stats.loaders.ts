import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { RegionRow } from '../regions/region.row';
import { emptyUnitFigures, figuresService, unitFiguresOfValues, type UnitFigures } from './figures.service';

/**
 * A loader of units' figures that also keeps the figures a unit's row came
 * with: a ranking reads its units' figures in its own statement, and they
 * stay with the ranked rows (carry) instead of being primed into the loader,
 * so that a statement count never depends on which of two paths of one query
 * finished first. The same units asked elsewhere in the query go through the
 * loader as always.
 */
export class UnitFiguresLoader<U extends object, K> extends DataLoader<K, UnitFigures> {
  private carried = new WeakMap<U, UnitFigures>();

  constructor(
    private readonly keyOf: (unit: U) => K,
    batch: DataLoader.BatchLoadFn<K, UnitFigures>,
    /** The figures a unit was read with by its own statement (a region's row joins its stored figures), if any. */
    private readonly readWith?: (unit: U) => UnitFigures | undefined,
  ) {
    super(batch);
  }

  /** Keeps the figures a unit's row came with. */
  carry(unit: U, figures: UnitFigures): void {
    this.carried.set(unit, figures);
  }

  /**
   * What `make` builds from a unit's figures: at once when the unit came with
   * them (a ranked unit, or a region read with its stored figures), else once
   * the loader has them with the other units asked in this tick. A statistics
   * field answered at once costs no promise: a ranking of 500 departments
   * asks three of them per department, a province dashboard four per region.
   */
  read<T>(unit: U, make: (figures: UnitFigures) => T): T | Promise<T> {
    const carried = this.carriedBy(unit);
    return carried ? make(carried) : this.load(this.keyOf(unit)).then(make);
  }

  /** The figures a unit came with, made once per unit whichever of its statistics asks first. */
  private carriedBy(unit: U): UnitFigures | undefined {
    const carried = this.carried.get(unit);
    if (carried || !this.readWith) return carried;
    const read = this.readWith(unit);
    if (read) this.carried.set(unit, read);
    return read;
  }

  override clearAll(): this {
    this.carried = new WeakMap();
    return super.clearAll();
  }
}

/**
 * The stored figures of departments and regions. Mount, supervision,
 * subscription and usage statistics of the same units all read these
 * loaders, so a level of a dashboard costs one statement whatever it asks.
 */
export function createStatsLoaders(em: EntityManager) {
  return {
    figuresOfDepartment: new UnitFiguresLoader<{ id: number }, number>(
      (department) => department.id,
      async (ids) => {
        const figures = await figuresService.forDepartments(em, ids);
        return ids.map((id) => figures.get(id) ?? emptyUnitFigures());
      },
    ),
    figuresOfRegion: new UnitFiguresLoader<Pick<RegionRow, 'code' | 'storedFigures'>, string>(
      (region) => region.code,
      async (codes) => {
        const figures = await figuresService.forRegions(em, codes);
        return codes.map((code) => figures.get(code) ?? emptyUnitFigures());
      },
      // Region rows are read with their stored figures (region.row.ts): a dashboard's level costs one statement.
      (region) =>
        region.storedFigures === undefined ? undefined : region.storedFigures === null ? emptyUnitFigures() : unitFiguresOfValues(region.storedFigures),
    ),
  };
}

export type StatsLoaders = ReturnType<typeof createStatsLoaders>;
