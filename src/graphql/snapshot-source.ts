import type { MikroORM } from '@mikro-orm/postgresql';
import { Client, type ClientConfig } from 'pg';
import { CLOCK_ACCOUNTED_FOR } from '../db/clock-reads';
import { logger } from '../observability/logger';

/** The database's snapshot (which transactions are visible) and its clock. */
export interface DatabaseMoment {
  snapshot: string;
  /** The database clock, epoch ms. */
  now: number;
}

/**
 * The snapshot's name and the clock. Two equal snapshots see exactly the
 * same committed data: every commit, whatever it writes, changes the
 * snapshot (the newest completed transaction moves, or a running one leaves
 * the in-progress list). Transaction ids are unique only within one run of
 * one server: after a crash, a restore or a failover the same ids can come
 * back with other data, so the server's start time is part of the name.
 */
export const SNAPSHOT_SQL = `${CLOCK_ACCOUNTED_FOR} select pg_postmaster_start_time()::text || '/' || pg_current_snapshot()::text as snapshot, (extract(epoch from clock_timestamp()) * 1000)::float8 as now`;

/** The connection's `application_name`, as pg_stat_activity shows it. */
export const SNAPSHOT_CONNECTION_NAME = 'mulu-response-cache';

/** How long after a failed connection the pool answers instead, before the cache's own connection is tried again. */
const RECONNECT_AFTER_MS = 1_000;

export interface SnapshotSource {
  /** The database's moment now: taken after the call, never shared with an earlier caller. */
  moment(): Promise<DatabaseMoment>;
  close(): Promise<void>;
}

interface KnexEvents {
  emit(event: string, ...args: unknown[]): boolean;
}

/**
 * Where the response cache takes its snapshot statement: on a connection of
 * its own, prepared once, instead of through MikroORM and knex. Every answer
 * the cache serves costs this one statement, and taking a pooled connection
 * for it (knex's acquire, its timers and promises) cost a served district
 * ranking more Node CPU than sending and reading the statement itself. One
 * connection answers the statements one after another in the order they
 * were asked (pg queues them); each is a fraction of a millisecond, and each
 * is sent after its caller asked, so a commit the caller already saw is in
 * it.
 *
 * The statement is announced to knex's listeners as if knex had sent it
 * (`query`, then `query-response`), so the request's statement count, its
 * log line and the clock watcher see it as before. A connection that fails
 * is dropped, and the statement it failed is sent again through the pool;
 * until a new connection opens (tried again a second later) the statement
 * goes through the pool, which fails and heals as every other statement
 * does.
 */
export function createSnapshotSource(orm: MikroORM): SnapshotSource {
  const knex = orm.em.getConnection().getKnex() as unknown as KnexEvents;
  const connection = (orm.config.get('driverOptions') as { connection?: ClientConfig } | undefined)?.connection ?? {};
  let client: Client | null = null;
  let connecting: Promise<Client> | null = null;
  let failedAt = -Infinity;
  let closed = false;
  let statements = 0;

  const drop = (dead: Client) => {
    if (client === dead) client = null;
    dead.removeAllListeners('end');
    dead.end().catch(() => undefined);
  };

  const open = (): Promise<Client> =>
    (connecting ??= (async () => {
      // Named for operators (pg_stat_activity) and for the tests that cut it.
      const next = new Client({ ...connection, connectionString: orm.config.get('clientUrl'), application_name: SNAPSHOT_CONNECTION_NAME });
      next.on('error', (error) => {
        if (!closed) logger.warn({ err: error, component: 'response-cache' }, "the response cache's snapshot connection failed; the pool answers until it is reopened");
        failedAt = performance.now();
        drop(next);
      });
      next.on('end', () => drop(next));
      try {
        await next.connect();
        if (closed) {
          drop(next);
          throw new Error('closed');
        }
        client = next;
        return next;
      } catch (error) {
        failedAt = performance.now();
        drop(next);
        throw error;
      } finally {
        connecting = null;
      }
    })());

  const viaPool = async (): Promise<DatabaseMoment> => {
    const [row] = await orm.em.getConnection().execute<{ snapshot: string; now: number }[]>(SNAPSHOT_SQL);
    return { snapshot: row.snapshot, now: Number(row.now) };
  };

  return {
    async moment() {
      if (closed || (client === null && performance.now() - failedAt < RECONNECT_AFTER_MS)) return viaPool();
      let own: Client;
      try {
        own = client ?? (await open());
      } catch {
        return viaPool();
      }
      const query = { sql: SNAPSHOT_SQL, bindings: [], __knexQueryUid: `snapshot-${++statements}` };
      knex.emit('query', query);
      try {
        const result = await own.query<{ snapshot: string; now: number }>({ name: 'mulu_snapshot', text: SNAPSHOT_SQL });
        knex.emit('query-response', result.rows, query);
        const [row] = result.rows;
        return { snapshot: row.snapshot, now: Number(row.now) };
      } catch (error) {
        knex.emit('query-error', error, query);
        // The connection died under it (cut, restart): the pool takes this one, and the next second's.
        failedAt = performance.now();
        drop(own);
        return viaPool();
      }
    },
    async close() {
      closed = true;
      await connecting?.catch(() => undefined);
      const last = client;
      client = null;
      if (last) {
        last.removeAllListeners('end');
        await last.end().catch(() => undefined);
      }
    },
  };
}
