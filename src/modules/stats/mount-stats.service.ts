import type { EntityManager } from '@mikro-orm/postgresql';
import { toSafeNumber } from '../../graphql/scalars';

/** Mount figures of one unit (a department or a region); rates are derived from these. */
export interface MountCounts {
  publishedDirectories: number;
  mountedDirectories: number;
  dataVolume: number;
  staleDirectories: number;
}

export const EMPTY_MOUNT_COUNTS: MountCounts = { publishedDirectories: 0, mountedDirectories: 0, dataVolume: 0, staleDirectories: 0 };

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
/**
 * Mount figures read from department_figures and region_figures (kept in the
 * transaction of every change; the stale count also as time passes, see
 * departmentFiguresService.refreshStaleness), never from directories or mounts.
 */
export const mountStatsService = {
  /** Mount figures of many departments in one statement. */
  async forDepartments(em: EntityManager, departmentIds: readonly number[]): Promise<Map<number, MountCounts>> {
    const rows: MountRow[] = await em.execute(
      `select f.department_id as key, f.published_directories as published, f.mounted_directories as mounted, f.data_volume as volume, f.stale_directories as stale
         from department_figures f where f.department_id in (?)`,
      [[...departmentIds]],
    );
    return byKey(departmentIds, rows, Number);
  },

  /** Mount figures of many regions in one statement: each region's row sums every department at any depth. */
  async forRegions(em: EntityManager, regionCodes: readonly string[]): Promise<Map<string, MountCounts>> {
    const rows: MountRow[] = await em.execute(
      `select f.region_code as key, f.published_directories as published, f.mounted_directories as mounted, f.data_volume as volume, f.stale_directories as stale
         from region_figures f where f.region_code in (?)`,
      [[...regionCodes]],
    );
    return byKey(regionCodes, rows, String);
  },
};
