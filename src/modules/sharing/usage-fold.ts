import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { schedulePeriodicJob, withJobLock, type PeriodicJob } from '../../db/periodic-job';
import { logger } from '../../observability/logger';

/**
 * The advisory lock (two keys: "mulu" in ASCII, 13) that one usage fold holds
 * at a time across the replicas on the database. Exactness does not depend
 * on it (the fold's horizon row is locked and read again by each fold); it
 * saves replicas from queueing on each other every second.
 */
export const USAGE_FOLD_LOCK_KEYS = [0x6d756c75, 13] as const;

/** How often a server folds new deliveries into the usage counters: the longest usageStats lags behind a delivery. */
export const USAGE_FOLD_INTERVAL_MS = 1000;

interface BatchRow {
  directory_id: number;
  provider_id: number;
  consumer_id: number;
  requests: string;
  rows_delivered: string;
}

/**
 * Adds the deliveries of one batch (grouped by directory, provider and
 * consumer) to directory_consumer, directory_usage, usage_pair and both
 * sides' department usage figures (whose trigger carries them up the region
 * tree). A consumer is new to a directory (or a provider) when its counter
 * row was inserted rather than updated (xmax = 0).
 */
async function addToCounters(em: EntityManager, batch: BatchRow[]): Promise<void> {
  const departments = [...new Set(batch.flatMap((b) => [b.provider_id, b.consumer_id]))].sort((a, b) => a - b);
  // The figures rows in id order, as every writer of department_figures locks them.
  await em.execute(`select department_id from department_figures where department_id in (?) order by department_id for no key update`, [departments]);
  await em.execute(
    `with batch as (select * from jsonb_to_recordset(?::jsonb) as b(directory_id int, provider_id int, consumer_id int, requests bigint, rows_delivered bigint)),
     dc as (insert into directory_consumer (directory_id, consumer_id, requests, rows_delivered, last_delivered_at)
            select directory_id, consumer_id, sum(requests), sum(rows_delivered), now() from batch group by directory_id, consumer_id
            on conflict (directory_id, consumer_id) do update set requests = directory_consumer.requests + excluded.requests,
               rows_delivered = directory_consumer.rows_delivered + excluded.rows_delivered, last_delivered_at = excluded.last_delivered_at
            returning directory_id, (xmax = 0) as fresh),
     du as (insert into directory_usage (directory_id, requests, rows_delivered, consumers)
            select b.directory_id, sum(b.requests), sum(b.rows_delivered), (select count(*) from dc where dc.directory_id = b.directory_id and dc.fresh)
              from batch b group by b.directory_id
            on conflict (directory_id) do update set requests = directory_usage.requests + excluded.requests,
               rows_delivered = directory_usage.rows_delivered + excluded.rows_delivered, consumers = directory_usage.consumers + excluded.consumers),
     up as (insert into usage_pair (provider_id, consumer_id, requests, rows_delivered)
            select provider_id, consumer_id, sum(requests), sum(rows_delivered) from batch group by provider_id, consumer_id
            on conflict (provider_id, consumer_id) do update set requests = usage_pair.requests + excluded.requests, rows_delivered = usage_pair.rows_delivered + excluded.rows_delivered
            returning provider_id, (xmax = 0) as fresh),
     deltas as (
       select department_id, sum(provided) as provided, sum(provided_rows) as provided_rows, sum(new_consumers) as new_consumers,
              sum(made) as made, sum(received_rows) as received_rows, bool_or(consumed) as consumed
         from (select provider_id as department_id, requests as provided, rows_delivered as provided_rows, 0::bigint as new_consumers, 0::bigint as made, 0::bigint as received_rows, false as consumed from batch
               union all select provider_id, 0, 0, count(*) filter (where fresh), 0, 0, false from up group by provider_id
               union all select consumer_id, 0, 0, 0, requests, rows_delivered, true from batch) parts
        group by department_id)
     update department_figures f set
       usage_requests_provided = f.usage_requests_provided + d.provided, usage_rows_provided = f.usage_rows_provided + d.provided_rows,
       usage_consumers = f.usage_consumers + d.new_consumers, usage_requests_made = f.usage_requests_made + d.made,
       usage_rows_received = f.usage_rows_received + d.received_rows, usage_consuming_departments = case when d.consumed then 1 else f.usage_consuming_departments end
     from deltas d where f.department_id = d.department_id`,
    [JSON.stringify(batch)],
  );
}

/**
 * Folds the access log's new entries into the usage counters, exactly once.
 * An entry is folded once its transaction committed (entries of one
 * transaction appear together). The horizon is the oldest transaction still
 * running (pg_snapshot_xmin): below it every transaction has finished, so no
 * entry can appear there later. The fold reads, in one snapshot, the entries
 * from the last horizon (usage_fold.folded_below) on, less those of the
 * transactions above it that an earlier fold counted (usage_fold_ahead);
 * it adds them to the counters and, in the same transaction, remembers the
 * transactions it counted above the new horizon and moves the horizon. A
 * long transaction (a bulk load) therefore delays no one's usage.
 * `source`: an entity manager the fold forks its own from. `wait`: wait for
 * a replica folding at this moment; otherwise skip. Returns the log entries
 * folded, or null when skipped.
 */
export async function foldUsage(source: EntityManager, { wait }: { wait: boolean }): Promise<number | null> {
  // A job sharing the API's pool: a fold after a long-held horizon reads many entries, and a settling one waits for the lock.
  return withJobLock(source, USAGE_FOLD_LOCK_KEYS, wait, async (em) => {
    // Nothing to fold and nothing the horizon could clear (transactions remembered above it that have all
    // finished): end without writing. A fold that locks or moves the horizon
    // commits a transaction id, which changes the database snapshot and so retires every answer the
    // response cache holds; an idle server would do that every second. Plain reads take no id.
    const [work] = await em.execute<{ pending: boolean }[]>(
      `select exists (select 1 from usage_fold_ahead where xact_id < pg_snapshot_xmin(pg_current_snapshot()))
           or exists (select 1 from dataset_access a
                       where a.consumer_id is not null and a.xact_id >= (select folded_below from usage_fold)
                         and not exists (select 1 from usage_fold_ahead f where f.xact_id = a.xact_id)) as pending`,
    );
    if (!work.pending) return 0;
    // Locked, so two folds on replicas that skip the advisory lock still run one after the other.
    const [state] = await em.execute<{ below: string; horizon: string }[]>(
      `select folded_below::text as below, greatest(folded_below, pg_snapshot_xmin(pg_current_snapshot()))::text as horizon from usage_fold for update`,
    );
    const batch = await em.execute<BatchRow[]>(
      `with entries as (
         select a.xact_id, a.directory_id, a.provider_id, a.consumer_id, a.rows_delivered from dataset_access a
          where a.consumer_id is not null and a.xact_id >= ?::xid8
            and not exists (select 1 from usage_fold_ahead f where f.xact_id = a.xact_id)),
       ahead as (insert into usage_fold_ahead (xact_id) select distinct xact_id from entries where xact_id >= ?::xid8)
       select directory_id, provider_id, consumer_id, count(*)::text as requests, sum(rows_delivered)::text as rows_delivered
         from entries group by directory_id, provider_id, consumer_id`,
      [state.below, state.horizon],
    );
    if (batch.length) await addToCounters(em, batch);
    if (state.horizon !== state.below) {
      await em.execute(`delete from usage_fold_ahead where xact_id < ?::xid8`, [state.horizon]);
      await em.execute(`update usage_fold set folded_below = ?::xid8, folded_at = now()`, [state.horizon]);
    }
    return batch.reduce((sum, b) => sum + Number(b.requests), 0);
  });
}

/**
 * Folds every delivery committed before the call, so a reader (a test, the
 * demo loader) sees usage without waiting for the periodic fold. One fold
 * that waits for the lock is enough: its statements run after the call
 * began (read committed), so they see every delivery committed by then,
 * above the horizon or below it. Transactions still running elsewhere (on
 * any database of the cluster: the horizon is the cluster's) only keep the
 * horizon back; they do not hide what has committed.
 */
export async function settleUsage(source: EntityManager): Promise<void> {
  await foldUsage(source, { wait: true });
}

/**
 * Folds new deliveries every `intervalMs`; the advisory lock skips a fold
 * another replica is running, and a failed fold is logged (the next one folds
 * what it left).
 */
export function scheduleUsageFold(
  orm: MikroORM,
  intervalMs: number = USAGE_FOLD_INTERVAL_MS,
  log: (message: string, error: unknown) => void = (message, err) => logger.error({ err }, message),
): PeriodicJob {
  return schedulePeriodicJob(
    () => foldUsage(orm.em, { wait: false }),
    intervalMs,
    'folding deliveries into the usage figures failed; the next fold tries again',
    log,
  );
}
