import type { EntityManager } from '@mikro-orm/postgresql';
import { logger } from '../../observability/logger';
import type { Delivery } from './usage.service';

/** How long a page's log entry waits for others to share its insert: how far the access log may lag a page. */
export const ACCESS_LOG_BATCH_MS = 50;

/** Entries that flush at once, without waiting for the interval. */
const BATCH_ROWS = 500;

/** Entries kept while the database refuses them; beyond it the oldest are dropped, with an error logged. */
const MAX_PENDING = 100_000;

type Connection = ReturnType<EntityManager['getConnection']>;

/**
 * The access log's entries of GraphQL pages, appended in batches: a page
 * costs no statement and no commit of its own; every ACCESS_LOG_BATCH_MS (or
 * every BATCH_ROWS pages) one insert appends the entries of the pages
 * answered since. The usage fold counts them like any other entries, once
 * they committed. What the batch trades: a page's entry is written up to
 * ACCESS_LOG_BATCH_MS after its answer, and a process that dies in between
 * loses the entries not yet written (stopping the server writes them).
 * Exports log their delivery in their own transaction, as before.
 */
class AccessLogBatch {
  private pending: Delivery[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly connection: Connection) {}

  append(delivery: Delivery): void {
    this.pending.push(delivery);
    if (this.pending.length >= BATCH_ROWS) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), ACCESS_LOG_BATCH_MS).unref();
  }

  /** Writes every entry appended so far; resolves once they committed (or failed and were kept for the next flush). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    // One insert at a time, in order: a failed batch goes back in front of what came meanwhile.
    this.writing = this.writing.then(() => (batch.length ? this.write(batch) : undefined));
    return this.writing;
  }

  private async write(batch: Delivery[]): Promise<void> {
    try {
      await this.connection.execute(
        `insert into dataset_access (directory_id, mount_id, version, provider_id, consumer_id, subscription_id, actor_kind, actor_id, route, rows_delivered, columns)
         select directory_id, mount_id, version, provider_id, consumer_id, subscription_id, actor_kind, actor_id, route, rows_delivered, columns
           from jsonb_to_recordset(?::jsonb) as e(directory_id int, mount_id int, version int, provider_id int, consumer_id int, subscription_id int,
                actor_kind text, actor_id text, route text, rows_delivered bigint, columns jsonb, n int)
          order by n`,
        [
          JSON.stringify(
            batch.map((d, n) => ({
              directory_id: d.directoryId,
              mount_id: d.mountId,
              version: d.version,
              provider_id: d.providerId,
              consumer_id: d.consumerId,
              subscription_id: d.subscriptionId,
              actor_kind: d.viewer.kind,
              actor_id: d.viewer.id,
              route: d.route,
              rows_delivered: d.rows,
              columns: d.columns,
              n,
            })),
          ),
        ],
      );
    } catch (err) {
      this.pending = batch.concat(this.pending);
      const dropped = this.pending.length - MAX_PENDING;
      if (dropped > 0) this.pending.splice(0, dropped);
      logger.error({ err, entries: batch.length, dropped: Math.max(0, dropped) }, 'access log: a batch of page deliveries could not be written; retrying');
      this.timer ??= setTimeout(() => void this.flush(), ACCESS_LOG_BATCH_MS * 20).unref();
    }
  }
}

/** One batch per database connection (per ORM), found from any of its entity managers. */
const batches = new WeakMap<Connection, AccessLogBatch>();

function batchOf(em: EntityManager): AccessLogBatch {
  const connection = em.getConnection();
  let batch = batches.get(connection);
  if (!batch) batches.set(connection, (batch = new AccessLogBatch(connection)));
  return batch;
}

/** Appends a page's delivery to the access log, in the next batch. */
export function appendToAccessLog(em: EntityManager, delivery: Delivery): void {
  batchOf(em).append(delivery);
}

/** Writes the entries appended so far (before the usage is settled, and when the server stops). */
export function flushAccessLog(em: EntityManager): Promise<void> {
  return batchOf(em).flush();
}
