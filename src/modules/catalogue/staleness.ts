import type { UpdateCycle } from './directory.entity';

/**
 * How long mounted data of each cycle may go without a refresh before it is
 * stale, as a PostgreSQL interval. Real-time resources get one day, since a
 * steward reports refreshes, not every change.
 */
export const STALE_AFTER: Record<UpdateCycle, string> = {
  REAL_TIME: '1 day',
  DAILY: '1 day',
  WEEKLY: '7 days',
  MONTHLY: '1 month',
  QUARTERLY: '3 months',
  YEARLY: '1 year',
};

/** SQL for when a directory `alias`'s mounted data turns stale: its latest refresh plus its update cycle. */
export function staleAfterSql(alias: string): string {
  const cases = Object.entries(STALE_AFTER)
    .map(([cycle, interval]) => `when '${cycle}' then interval '${interval}'`)
    .join(' ');
  return `(${alias}.last_refreshed_at + (case ${alias}.update_cycle ${cases} end))`;
}

/** SQL: a directory whose data can be stale at all, published with an active mount. */
const canTurnStale = (alias: string) => `${alias}.status = 'PUBLISHED' and ${alias}.active_mount_count > 0`;

/**
 * SQL deciding whether a directory's mounted data is stale: published, with
 * an active mount, and not refreshed within its update cycle. The one
 * definition, used by the directory's `stale` field and by every statistic;
 * `stale_after` is kept by department-figures.service.ts.
 */
export function staleSql(alias: string): string {
  return `(${canTurnStale(alias)} and ${alias}.stale_after < now())`;
}

/**
 * SQL for the moment a directory that is not stale yet turns stale with no
 * write (its `stale_after`), null when the clock alone cannot turn it: the
 * date until which its `stale` flag holds (db/clock-reads.ts).
 */
export function turnsStaleAtSql(alias: string): string {
  return `(case when ${canTurnStale(alias)} and ${alias}.stale_after >= now() then ${alias}.stale_after end)`;
}
