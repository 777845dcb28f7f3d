import type { MikroORM } from '@mikro-orm/postgresql';
import { logger } from '../../observability/logger';
import { recountDuration } from '../../observability/metrics';
import { departmentFiguresService } from './department-figures.service';
import { schedulePeriodicJob, withJobLock, type PeriodicJob } from '../../db/periodic-job';

/**
 * The PostgreSQL advisory lock (two keys: "mulu" in ASCII, 1) that one
 * recount holds at a time across every replica on the database: replicas
 * would otherwise all recount the same departments at the same moment.
 * Correctness does not depend on it (each batch locks its departments and
 * recomputes them from their rows); the lock saves the duplicate work.
 */
export const RECOUNT_LOCK_KEYS = [0x6d756c75, 1] as const;

/**
 * Recounts stale directories and lapsed subscriptions under the replicas'
 * advisory lock, held by a transaction of its own for the length of the
 * recount (released even if the connection dies). `wait`: wait for a
 * replica that holds it (at start, so a server listens with exact figures);
 * otherwise skip when another replica recounts at this moment. Returns the
 * departments recounted, or null when skipped.
 */
export async function recountFigures(orm: MikroORM, { wait }: { wait: boolean }): Promise<number | null> {
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  try {
    // A job, not a request: it may wait for another replica's recount (docs/security.md, "Execution budget").
    // Its own connections: the lock's transaction only holds the lock.
    const recounted = await withJobLock(orm.em, RECOUNT_LOCK_KEYS, wait, () => departmentFiguresService.refreshStaleness(orm.em.fork()));
    recountDuration.observe({ outcome: recounted === null ? 'skipped' : 'done' }, seconds());
    return recounted;
  } catch (error) {
    recountDuration.observe({ outcome: 'failed' }, seconds());
    throw error;
  }
}

/**
 * How often the stored counts that change with the clock alone are
 * recounted: stale directories (update cycles are a day or longer) and
 * granted subscriptions lapsing at their end date (dates are days).
 */
export const FIGURES_RECOUNT_INTERVAL_MS = 5 * 60 * 1000;

export type FiguresRecount = PeriodicJob;

export function scheduleFiguresRecount(
  orm: MikroORM,
  intervalMs: number = FIGURES_RECOUNT_INTERVAL_MS,
  log: (message: string, error: unknown) => void = (message, err) => logger.error({ err }, message),
): FiguresRecount {
  checkRecountInterval(intervalMs);
  return schedulePeriodicJob(
    () => recountFigures(orm, { wait: false }),
    intervalMs,
    'recount of stale directories and lapsed subscriptions failed; the next one tries again',
    log,
  );
}

/** Refuses an interval setInterval cannot keep (it would fire at once, or every millisecond). */
export function checkRecountInterval(intervalMs: number): number {
  if (!Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > 2_147_483_647) {
    throw new Error(`The figures recount interval must be a whole number of milliseconds from 1 to 2147483647, got ${intervalMs}.`);
  }
  return intervalMs;
}
