import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { RegionRow } from '../regions/region.row';
import { emptyUnitFigures, figuresService, unitFiguresOfRow, type UnitFigures } from './figures.service';

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
   * A unit's figures: those its row came with (made once per unit, whichever
   * of its statistics asks first), else loaded with the other units asked in
   * this tick.
   */
  of(unit: U): UnitFigures | Promise<UnitFigures> {
    const carried = this.carried.get(unit);
    if (carried) return carried;
    const read = this.readWith?.(unit);
    if (!read) return this.load(this.keyOf(unit));
    this.carried.set(unit, read);
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
        region.storedFigures === undefined ? undefined : region.storedFigures === null ? emptyUnitFigures() : unitFiguresOfRow(region.storedFigures),
    ),
  };
}

export type StatsLoaders = ReturnType<typeof createStatsLoaders>;

/**
 * `make` applied to a unit's figures: at once when the unit carries them
 * (no promise for each of a dashboard's statistics fields), else when loaded.
 */
export function withFigures<T>(figures: UnitFigures | Promise<UnitFigures>, make: (figures: UnitFigures) => T): T | Promise<T> {
  return figures instanceof Promise ? figures.then(make) : make(figures);
}
