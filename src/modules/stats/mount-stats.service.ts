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

/** The aggregate columns over directories `c`, shared by the department and region statements. */
const MOUNT_AGGREGATES = `
  count(*) filter (where c.status = 'PUBLISHED') as published,
  count(*) filter (where c.status = 'PUBLISHED' and c.active_mount_count > 0) as mounted,
  coalesce(sum(c.data_volume) filter (where c.status = 'PUBLISHED' and c.active_mount_count > 0), 0) as volume,
  count(*) filter (where ${staleSql('c')}) as stale`;

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

export const mountStatsService = {
  /** Mount figures of many departments in one grouped statement. */
  async forDepartments(em: EntityManager, departmentIds: readonly number[]): Promise<Map<number, MountCounts>> {
    const rows: MountRow[] = await em.execute(
      `select c.department_id as key, ${MOUNT_AGGREGATES}
         from resource_directory c where c.department_id in (?) group by c.department_id`,
      [[...departmentIds]],
    );
    return byKey(departmentIds, rows, Number);
  },

  /**
   * Mount figures of many regions in one grouped statement: each region sums
   * every department in it and in all regions below it (via region_closure).
   */
  async forRegions(em: EntityManager, regionCodes: readonly string[]): Promise<Map<string, MountCounts>> {
    const rows: MountRow[] = await em.execute(
      `select rc.ancestor_code as key, ${MOUNT_AGGREGATES}
         from region_closure rc
         join department d on d.region_code = rc.descendant_code
         join resource_directory c on c.department_id = d.id
        where rc.ancestor_code in (?) group by rc.ancestor_code`,
      [[...regionCodes]],
    );
    return byKey(regionCodes, rows, String);
  },
};
