import type { MikroORM } from '@mikro-orm/postgresql';
import { logger } from '../../observability/logger';
import { recountDuration } from '../../observability/metrics';
import { departmentFiguresService } from './department-figures.service';
import { liftStatementTimeout } from '../../db/statement-timeout';

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
    const recounted = await orm.em.fork().transactional(async (em) => {
      // A job, not a request: it may wait for another replica's recount (docs/security.md, "Execution budget").
      await liftStatementTimeout(em);
      const [row] = await em.execute<{ locked: boolean }[]>(wait ? `select true as locked from pg_advisory_xact_lock(?, ?)` : `select pg_try_advisory_xact_lock(?, ?) as locked`, [...RECOUNT_LOCK_KEYS]);
      if (!row.locked) return null;
      // Its own connections: the lock's transaction only holds the lock.
      return departmentFiguresService.refreshStaleness(orm.em.fork());
    });
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

export interface FiguresRecount {
  /** Clears the timer and waits for a recount in progress, so the pool can be closed after it. */
  stop(): Promise<void>;
}

/**
 * Recounts, every `intervalMs`, the stored figures of every department whose
 * counts the clock has changed (`departmentFiguresService.refreshStaleness`).
 * Never two recounts at a time, in this process or (advisory lock) on the
 * database; a failed one is logged and the next tick tries
 * again. The timer does not keep the process alive.
 */
export function scheduleFiguresRecount(
  orm: MikroORM,
  intervalMs: number = FIGURES_RECOUNT_INTERVAL_MS,
  log: (message: string, error: unknown) => void = (message, err) => logger.error({ err }, message),
): FiguresRecount {
  checkRecountInterval(intervalMs);
  let running: Promise<void> | null = null;
  let stopped = false;
  const recount = () => {
    if (stopped || running) return;
    running = recountFigures(orm, { wait: false })
      .then(
        () => undefined,
        (error: unknown) => log('recount of stale directories and lapsed subscriptions failed; the next one tries again', error),
      )
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(recount, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** Refuses an interval setInterval cannot keep (it would fire at once, or every millisecond). */
export function checkRecountInterval(intervalMs: number): number {
  if (!Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > 2_147_483_647) {
    throw new Error(`The figures recount interval must be a whole number of milliseconds from 1 to 2147483647, got ${intervalMs}.`);
  }
  return intervalMs;
}
