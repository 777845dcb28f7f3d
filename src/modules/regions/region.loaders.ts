import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { listLoader, rowLoader } from '../../graphql/loader-factories';
import { childAndGrandchildRegionRows, childRegionRows, regionRowsByCode, type FiguresSql, type RegionRow } from './region.row';

/**
 * The children of each parent, for a query that asks their children too (a
 * dashboard's cities and their districts): both levels are read by one
 * statement. Each child row keeps its own children (`carried`), so the next
 * level costs no statement and no round trip; they are not primed into
 * childRegions, which another path of the query may read (a statement count
 * must not depend on which reply came first: docs/architecture.md).
 */
function childRegionsAndTheirs(em: EntityManager, figures: FiguresSql) {
  const below = new WeakMap<RegionRow, RegionRow[]>();
  const loader = new DataLoader<string, RegionRow[]>(async (codes) => {
    const byParent = new Map<string, RegionRow[]>();
    for (const row of await childAndGrandchildRegionRows(em, codes, figures)) {
      const siblings = byParent.get(row.parentCode!);
      if (siblings) siblings.push(row);
      else byParent.set(row.parentCode!, [row]);
    }
    const children = codes.map((code) => byParent.get(code) ?? []);
    for (const child of children.flat()) below.set(child, byParent.get(child.code) ?? []);
    return children;
  });
  return Object.assign(loader, {
    /** The children a region row came with, when this loader read it. */
    carried: (region: RegionRow): RegionRow[] | undefined => below.get(region),
  });
}

/** Regions as plain rows (region.row.ts), one statement per batch of keys. */
export function createRegionLoaders(em: EntityManager, figures: FiguresSql) {
  return {
    regionByCode: rowLoader<string, RegionRow>(
      (codes) => regionRowsByCode(em, codes, figures),
      (r) => r.code,
    ),
    childRegions: listLoader<string, RegionRow>(
      (codes) => childRegionRows(em, codes, figures),
      (r) => r.parentCode!,
    ),
    childRegionsAndTheirs: childRegionsAndTheirs(em, figures),
  };
}
