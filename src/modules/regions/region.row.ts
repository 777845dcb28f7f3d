import type { EntityManager } from '@mikro-orm/postgresql';
import type { RegionLevel } from './region.entity';

/**
 * A region as reads show it: the columns of its row, read with one
 * statement and never made into a tracked entity (no identity map, no
 * references, no change-tracking copy). The GraphQL Region type's resolvers
 * read these properties only, which the entity has as well (its
 * `parentCode`), so a mutation may return the entity it changed.
 */
export class RegionRow {
  constructor(
    readonly code: string,
    readonly name: string,
    readonly level: RegionLevel,
    readonly parentCode: string | null,
  ) {}
}

/** The columns of a region row a RegionRow is made of. */
export interface RegionColumns {
  code: string;
  name: string;
  level: RegionLevel;
  parent_code: string | null;
}

export const REGION_COLUMNS = (r: string) => `${r}.code, ${r}.name, ${r}.level, ${r}.parent_code`;

export const regionRowOf = (r: RegionColumns) => new RegionRow(r.code, r.name, r.level, r.parent_code);

/** Regions by code, one statement; unknown codes are absent. */
export async function regionRowsByCode(em: EntityManager, codes: readonly string[]): Promise<RegionRow[]> {
  const rows: RegionColumns[] = await em.execute(`select ${REGION_COLUMNS('r')} from region r where r.code in (?)`, [[...codes]]);
  return rows.map(regionRowOf);
}

/** The regions directly below each of `parentCodes`, by code, one statement. */
export async function childRegionRows(em: EntityManager, parentCodes: readonly string[]): Promise<RegionRow[]> {
  const rows: RegionColumns[] = await em.execute(`select ${REGION_COLUMNS('r')} from region r where r.parent_code in (?) order by r.code`, [[...parentCodes]]);
  return rows.map(regionRowOf);
}
