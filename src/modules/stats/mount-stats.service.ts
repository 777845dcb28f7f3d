import { toCount, toSafeNumber, type Count } from '../../core/numbers';

/** Mount figures of one unit (a department or a region); rates are derived from these. */
export interface MountCounts {
  publishedDirectories: number;
  mountedDirectories: number;
  dataVolume: Count;
  staleDirectories: number;
}

export const EMPTY_MOUNT_COUNTS: MountCounts = { publishedDirectories: 0, mountedDirectories: 0, dataVolume: 0, staleDirectories: 0 };

/** Mount figures from a figures row (figures.ts declares its columns). */
export function mountCountsOf(row: Record<string, unknown>): MountCounts {
  return {
    publishedDirectories: toSafeNumber(row.published_directories as string),
    mountedDirectories: toSafeNumber(row.mounted_directories as string),
    dataVolume: toCount(row.data_volume as string),
    staleDirectories: toSafeNumber(row.stale_directories as string),
  };
}
