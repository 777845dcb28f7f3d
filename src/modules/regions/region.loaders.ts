import type { EntityManager } from '@mikro-orm/postgresql';
import { listLoader, rowLoader } from '../../graphql/loader-factories';
import { childRegionRows, regionRowsByCode, type RegionRow } from './region.row';

/** Regions as plain rows (region.row.ts), one statement per batch of keys. */
export function createRegionLoaders(em: EntityManager) {
  return {
    regionByCode: rowLoader<string, RegionRow>(
      (codes) => regionRowsByCode(em, codes),
      (r) => r.code,
    ),
    childRegions: listLoader<string, RegionRow>(
      (codes) => childRegionRows(em, codes),
      (r) => r.parentCode!,
    ),
  };
}
