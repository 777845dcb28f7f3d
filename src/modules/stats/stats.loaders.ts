import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { emptyUnitFigures, figuresService, type UnitFigures } from './figures.service';

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
  ) {
    super(batch);
  }

  /** Keeps the figures a unit's row came with. */
  carry(unit: U, figures: UnitFigures): void {
    this.carried.set(unit, figures);
  }

  /**
   * What `make` builds from a unit's figures: at once when its row carried
   * them (a ranked unit), else once the loader has them with the other units
   * asked in this tick. A statistics field
   * answered at once costs no promise: a ranking of 500 departments asks
   * three of them per department.
   */
  read<T>(unit: U, make: (figures: UnitFigures) => T): T | Promise<T> {
    const carried = this.carried.get(unit);
    return carried ? make(carried) : this.load(this.keyOf(unit)).then(make);
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
    figuresOfRegion: new UnitFiguresLoader<{ code: string }, string>(
      (region) => region.code,
      async (codes) => {
        const figures = await figuresService.forRegions(em, codes);
        return codes.map((code) => figures.get(code) ?? emptyUnitFigures());
      },
    ),
  };
}

export type StatsLoaders = ReturnType<typeof createStatsLoaders>;
