import type { EntityManager } from '@mikro-orm/postgresql';
import { executeForKeys } from '../../db/prepared';
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
    /**
     * The region's stored figures (region_figures), read in the same
     * statement as the region as one text of values (figureValuesSql), for
     * the statistics module to make its figures of (so a level of a
     * dashboard costs one statement, not two); null when none is stored,
     * undefined when the region was read without it.
     */
    readonly storedFigures?: string | null,
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

/**
 * How a region's stored figures are read with it: SQL giving the figures of
 * the row `alias` of region_figures as one value (the statistics module's
 * figureValuesSql). Regions sit below statistics (.dependency-cruiser.cjs)
 * and do not know the figures' columns; whoever makes the loaders passes it.
 */
export type FiguresSql = (alias: string) => string;

/** The region's columns and its stored figures as one text (region_figures joined as `f`; null when it has none). */
const regionWithFigures = (figures: FiguresSql) => `select ${REGION_COLUMNS('r')}, case when f.region_code is null then null else ${figures('f')} end as figures
  from region r left join region_figures f on f.region_code = r.code`;

type RegionWithFigures = RegionColumns & { figures: string | null };

const regionWithFiguresOf = (r: RegionWithFigures) => new RegionRow(r.code, r.name, r.level, r.parent_code, r.figures);

/** Regions by code, each with its stored figures, one statement; unknown codes are absent. */
export async function regionRowsByCode(em: EntityManager, codes: readonly string[], figures: FiguresSql): Promise<RegionRow[]> {
  const rows = await executeForKeys<RegionWithFigures>(em, codes, (condition) => `${regionWithFigures(figures)} where r.code ${condition}`);
  return rows.map(regionWithFiguresOf);
}

/** The regions directly below each of `parentCodes`, by code, each with its stored figures, one statement. */
export async function childRegionRows(em: EntityManager, parentCodes: readonly string[], figures: FiguresSql): Promise<RegionRow[]> {
  const rows = await executeForKeys<RegionWithFigures>(
    em,
    parentCodes,
    (condition) => `${regionWithFigures(figures)} where r.parent_code ${condition} order by r.code`,
  );
  return rows.map(regionWithFiguresOf);
}

/**
 * The regions directly below each of `parentCodes` and the regions directly
 * below those, by code, each with its stored figures: one statement for two
 * levels (region_closure), for a query that asks the children's children.
 */
export async function childAndGrandchildRegionRows(em: EntityManager, parentCodes: readonly string[], figures: FiguresSql): Promise<RegionRow[]> {
  const rows = await executeForKeys<RegionWithFigures>(
    em,
    parentCodes,
    (condition) =>
      `${regionWithFigures(figures)} where r.code in (select descendant_code from region_closure where ancestor_code ${condition} and depth in (1, 2)) order by r.code`,
  );
  return rows.map(regionWithFiguresOf);
}
