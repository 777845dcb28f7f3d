import type { MikroORM } from '@mikro-orm/postgresql';
import { departmentFiguresService } from './department-figures.service';

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
 * Never two recounts at a time; a failed one is logged and the next tick tries
 * again. The timer does not keep the process alive.
 */
export function scheduleFiguresRecount(orm: MikroORM, intervalMs: number = FIGURES_RECOUNT_INTERVAL_MS, log: (...args: unknown[]) => void = console.error): FiguresRecount {
  checkRecountInterval(intervalMs);
  let running: Promise<void> | null = null;
  let stopped = false;
  const recount = () => {
    if (stopped || running) return;
    running = departmentFiguresService
      .refreshStaleness(orm.em.fork())
      .then(
        () => undefined,
        (error: unknown) => log('[figures] recount of stale directories and lapsed subscriptions failed:', error),
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
