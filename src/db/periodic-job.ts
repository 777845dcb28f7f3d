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
 * replica that holds the lock; otherwise return null at once. `stop` (a
 * shutdown during the start) ends the transaction's connection, whether it
 * waits for the lock or works, and the job fails with JobStopped.
 */
export async function withJobLock<T>(
  source: EntityManager,
  keys: readonly [number, number],
  wait: boolean,
  work: (em: EntityManager) => Promise<T>,
  stop?: AbortSignal,
): Promise<T | null> {
  try {
    return await source.fork().transactional(async (em) => {
      const unwatch = stop && (await endOnAbort(source, em, stop));
      try {
        await liftStatementTimeout(em);
        const [lock] = await em.execute<{ locked: boolean }[]>(
          wait ? `select true as locked from pg_advisory_xact_lock(?, ?)` : `select pg_try_advisory_xact_lock(?, ?) as locked`,
          [...keys],
        );
        return lock.locked ? await work(em) : null;
      } finally {
        unwatch?.();
      }
    });
  } catch (error) {
    if (stop?.aborted) throw new JobStopped();
    throw error;
  }
}

/** A job stopped by withJobLock's `stop`: its transaction was rolled back. */
export class JobStopped extends Error {
  constructor(message = 'a job was stopped and rolled back') {
    super(message);
    this.name = 'JobStopped';
  }
}

/**
 * Ends the job's connection, from another one, when `stop` is aborted: a
 * statement waiting for a lock another replica holds (for as long as that
 * one migrates or loads the demo), or a minute of statements sent one after
 * another, is not interrupted by anything the job's own connection can do.
 * Ending the process would not do either: PostgreSQL notices a client gone
 * only when it next answers it, so the connection waited on for the lock.
 * PostgreSQL rolls the transaction back. Returns what stops listening.
 */
async function endOnAbort(source: EntityManager, em: EntityManager, stop: AbortSignal): Promise<() => void> {
  const [{ pid }] = await em.execute<{ pid: number }[]>('select pg_backend_pid() as pid');
  const end = () =>
    void source
      .getConnection()
      .execute('select pg_terminate_backend(?)', [pid])
      .catch(() => undefined);
  if (stop.aborted) end();
  stop.addEventListener('abort', end, { once: true });
  return () => stop.removeEventListener('abort', end);
}
