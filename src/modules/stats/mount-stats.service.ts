import type { EntityManager } from '@mikro-orm/postgresql';
import { toSafeNumber } from '../../graphql/scalars';
import { staleSql } from '../catalogue/staleness';

/** Mount figures of one unit (a department or a region); rates are derived from these. */
export interface MountCounts {
  publishedDirectories: number;
  mountedDirectories: number;
  dataVolume: number;
  staleDirectories: number;
}

export const EMPTY_MOUNT_COUNTS: MountCounts = { publishedDirectories: 0, mountedDirectories: 0, dataVolume: 0, staleDirectories: 0 };

/** Stale directories (time-dependent, so never stored) of departments `d`, through the partial index on stale_after. */
const STALE_COUNT = (d: string) =>
  `(select count(*) from resource_directory c where c.department_id = ${d}.id and ${staleSql('c')})`;

interface MountRow {
  key: string | number;
  published: string;
  mounted: string;
  volume: string;
  stale: string;
}

function toCounts(row: MountRow): MountCounts {
  return {
    publishedDirectories: toSafeNumber(row.published),
    mountedDirectories: toSafeNumber(row.mounted),
    dataVolume: toSafeNumber(row.volume),
    staleDirectories: toSafeNumber(row.stale),
  };
}

function byKey<K extends string | number>(keys: readonly K[], rows: MountRow[], normalise: (key: MountRow['key']) => K): Map<K, MountCounts> {
  const map = new Map<K, MountCounts>(keys.map((key) => [key, EMPTY_MOUNT_COUNTS]));
  for (const row of rows) map.set(normalise(row.key), toCounts(row));
  return map;
}

/**
 * Mount figures read from department_figures (kept by
 * department-figures.service.ts), never from directories or mounts, except
 * the stale count, which depends on the clock and reads an index.
 */
export const mountStatsService = {
  /** Mount figures of many departments in one statement. */
  async forDepartments(em: EntityManager, departmentIds: readonly number[]): Promise<Map<number, MountCounts>> {
    const rows: MountRow[] = await em.execute(
      `select d.id as key, f.published_directories as published, f.mounted_directories as mounted, f.data_volume as volume, ${STALE_COUNT('d')} as stale
         from department d join department_figures f on f.department_id = d.id
        where d.id in (?)`,
      [[...departmentIds]],
    );
    return byKey(departmentIds, rows, Number);
  },

  /**
   * Mount figures of many regions in one statement: region_figures holds
   * each region's sums over every department at any depth; only the stale
   * count is counted here, over the departments below through region_closure.
   */
  async forRegions(em: EntityManager, regionCodes: readonly string[]): Promise<Map<string, MountCounts>> {
    const codes = [...regionCodes];
    const rows: MountRow[] = await em.execute(
      `with stale as (
         select rc.ancestor_code as key, count(*) as n
           from region_closure rc
           join department d on d.region_code = rc.descendant_code
           join resource_directory c on c.department_id = d.id and ${staleSql('c')}
          where rc.ancestor_code in (?) group by rc.ancestor_code)
       select f.region_code as key, f.published_directories as published, f.mounted_directories as mounted, f.data_volume as volume,
              coalesce(stale.n, 0) as stale
         from region_figures f left join stale on stale.key = f.region_code
        where f.region_code in (?)`,
      [codes, codes],
    );
    return byKey(regionCodes, rows, String);
  },
};
