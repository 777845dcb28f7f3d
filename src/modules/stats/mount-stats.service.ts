import { toCount, toSafeNumber, type Count } from '../../graphql/scalars';

/** Mount figures of one unit (a department or a region); rates are derived from these. */
export interface MountCounts {
  publishedDirectories: number;
  mountedDirectories: number;
  dataVolume: Count;
  staleDirectories: number;
}

export const EMPTY_MOUNT_COUNTS: MountCounts = { publishedDirectories: 0, mountedDirectories: 0, dataVolume: 0, staleDirectories: 0 };

/** The mount columns of department_figures and region_figures (read by figures.service.ts). */
export const MOUNT_COLUMNS = ['published_directories', 'mounted_directories', 'data_volume', 'stale_directories'] as const;

/** Mount figures from a figures row holding MOUNT_COLUMNS. */
export function mountCountsOf(row: Record<string, unknown>): MountCounts {
  return {
    publishedDirectories: toSafeNumber(row.published_directories as string),
    mountedDirectories: toSafeNumber(row.mounted_directories as string),
    dataVolume: toCount(row.data_volume as string),
    staleDirectories: toSafeNumber(row.stale_directories as string),
  };
}
