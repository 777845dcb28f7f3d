import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { listLoader, rowLoader } from '../../graphql/loader-factories';
import { childAndGrandchildRegionRows, childRegionRows, regionRowsByCode, type RegionRow } from './region.row';

/** Regions as plain rows (region.row.ts), one statement per batch of keys. */
export function createRegionLoaders(em: EntityManager) {
  const childRegions = listLoader<string, RegionRow>(
    (codes) => childRegionRows(em, codes),
    (r) => r.parentCode!,
  );
  return {
    regionByCode: rowLoader<string, RegionRow>(
      (codes) => regionRowsByCode(em, codes),
      (r) => r.code,
    ),
    childRegions,
    /**
     * The children of each parent, for a query that asks their children too
     * (a dashboard's cities and their districts): both levels are read by
     * one statement, and each child's own children are kept in childRegions,
     * so the next level costs no statement and no round trip.
     */
    childRegionsAndTheirs: new DataLoader<string, RegionRow[]>(async (codes) => {
      const byParent = new Map<string, RegionRow[]>();
      for (const row of await childAndGrandchildRegionRows(em, codes)) {
        const siblings = byParent.get(row.parentCode!);
        if (siblings) siblings.push(row);
        else byParent.set(row.parentCode!, [row]);
      }
      const children = codes.map((code) => byParent.get(code) ?? []);
      for (const child of children.flat()) childRegions.prime(child.code, byParent.get(child.code) ?? []);
      return children;
    }),
  };
}
