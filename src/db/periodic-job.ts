import type { EntityManager } from '@mikro-orm/postgresql';
import { liftStatementTimeout } from './statement-timeout';

export interface PeriodicJob {
  /** Clears the timer and waits for a run in progress, so the pool can be closed after it. */
  stop(): Promise<void>;
}

/**
 * Runs `run` every `intervalMs`, never two runs at a time in this process. A
 * failed run is logged with `failure`; the next tick tries again. The timer
 * does not keep the process alive.
 */
export function schedulePeriodicJob(
  run: () => Promise<unknown>,
  intervalMs: number,
  failure: string,
  log: (message: string, error: unknown) => void,
): PeriodicJob {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (stopped || running) return;
    running = run()
      .then(
        () => undefined,
        (error: unknown) => log(failure, error),
      )
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Runs `work` in a transaction of its own that holds the replicas' advisory
 * lock `keys` (released with the transaction, even if the connection dies),
 * with the statement timeout lifted: a job, not a request. `wait`: wait for a
 * replica that holds the lock; otherwise return null at once.
 */
export async function withJobLock<T>(
  source: EntityManager,
  keys: readonly [number, number],
  wait: boolean,
  work: (em: EntityManager) => Promise<T>,
): Promise<T | null> {
  return source.fork().transactional(async (em) => {
    await liftStatementTimeout(em);
    const [lock] = await em.execute<{ locked: boolean }[]>(
      wait ? `select true as locked from pg_advisory_xact_lock(?, ?)` : `select pg_try_advisory_xact_lock(?, ?) as locked`,
      [...keys],
    );
    return lock.locked ? work(em) : null;
  });
}
