import type { MikroORM } from '@mikro-orm/postgresql';
import { Client, type ClientConfig } from 'pg';
import { CLOCK_ACCOUNTED_FOR } from '../db/clock-reads';
import { endConnection } from '../db/end-connection';
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

type MomentRow = { snapshot: string; now: number };
const momentOf = ([row]: MomentRow[]): DatabaseMoment => ({ snapshot: row.snapshot, now: Number(row.now) });

/** How long the statement (well under a millisecond) may go unanswered on the cache's connection before the pool is asked instead. */
const SNAPSHOT_TIMEOUT_MS = 1_000;

/**
 * The connection is closed after this long without a statement, as the pool
 * closes its idle ones: an idle connection that a firewall or a failover
 * dropped silently would otherwise cost the next request the whole timeout.
 */
export const IDLE_CLOSE_MS = 10_000;

/** How long after a failed connection the pool answers instead, before the cache's own connection is tried again. */
const RECONNECT_AFTER_MS = 1_000;

export interface SnapshotSource {
  /** The database's moment now: taken after the call (shared only with callers who asked while it was not yet sent). */
  moment(): Promise<DatabaseMoment>;
  /** Statements sent on the source's own connection since it was made (not those the pool took). */
  sent(): number;
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
 * ranking more Node CPU than sending and reading the statement itself.
 *
 * One statement is on the connection at a time. Requests that ask while it
 * is out share the next one, sent as soon as it is answered: every request
 * gets a snapshot taken after it asked (so a commit its client already saw
 * is in it), and ten dashboards asking at once cost two statements, not
 * ten.
 *
 * Each request's share is announced to knex's listeners as if knex had sent
 * a statement for it (`query`, then `query-response`, in the request's own
 * scope), so the request's statement count, its log line and the clock
 * watcher see one statement, as before. A connection that fails is
 * dropped, and the requests it failed take their statement through the
 * pool; until a new connection opens (tried again a second later) the
 * statement goes through the pool, which fails and heals as every other
 * statement does.
 */
export function createSnapshotSource(orm: MikroORM, idleCloseMs = IDLE_CLOSE_MS): SnapshotSource {
  const knex = orm.em.getConnection().getKnex() as unknown as KnexEvents;
  const connection = (orm.config.get('driverOptions') as { connection?: ClientConfig } | undefined)?.connection ?? {};
  let client: Client | null = null;
  let connecting: Promise<Client> | null = null;
  let failedAt = -Infinity;
  let closed = false;
  let announced = 0;

  const drop = (dead: Client) => {
    if (client === dead) client = null;
    void endConnection(dead);
  };

  /** Closes the connection once idle for `idleCloseMs`; each statement restarts the wait. */
  let idle: NodeJS.Timeout | null = null;
  const stillUsed = () => {
    if (idle) idle.refresh();
    else {
      idle = setTimeout(() => {
        idle = null;
        if (client && !sending) drop(client);
      }, idleCloseMs);
      idle.unref();
    }
  };

  const open = (): Promise<Client> =>
    (connecting ??= (async () => {
      // Named for operators (pg_stat_activity) and for the tests that cut it. A statement unanswered for
      // SNAPSHOT_TIMEOUT_MS (a connection half open) fails over to the pool rather than hold every request.
      const next = new Client({
        ...connection,
        connectionString: orm.config.get('clientUrl'),
        application_name: SNAPSHOT_CONNECTION_NAME,
        query_timeout: SNAPSHOT_TIMEOUT_MS,
      });
      next.on('error', (error) => {
        if (!closed)
          logger.warn({ err: error, component: 'response-cache' }, "the response cache's snapshot connection failed; the pool answers until it is reopened");
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

  const viaPool = async (): Promise<DatabaseMoment> => momentOf(await orm.em.getConnection().execute<MomentRow[]>(SNAPSHOT_SQL));

  /** Sends the statement on the cache's connection (opened if need be); rejects when that connection cannot answer. */
  let sent = 0;
  const send = async (): Promise<DatabaseMoment> => {
    if (closed) throw new Error('The snapshot source is closed.');
    const own = client ?? (await open());
    sent++;
    stillUsed();
    try {
      return momentOf((await own.query<MomentRow>({ name: 'mulu_snapshot', text: SNAPSHOT_SQL })).rows);
    } catch (error) {
      // The connection died under it (cut, restart): the pool takes the statements of the next second.
      failedAt = performance.now();
      drop(own);
      throw error;
    }
  };

  /** The statement on the connection now, and the one that goes out when it is answered, for everyone who asked meanwhile. */
  let sending: Promise<DatabaseMoment> | null = null;
  let following: Promise<DatabaseMoment> | null = null;
  const shared = (): Promise<DatabaseMoment> => {
    if (!sending) {
      const sent = send().finally(() => {
        if (sending === sent) sending = null;
      });
      return (sending = sent);
    }
    // Sent only after the statement on the connection is answered, so after every caller waiting for it had asked.
    // If that one failed, the connection is gone: those waiting take the pool (moment) instead of waiting for another.
    return (following ??= sending.then(
      () => {
        following = null;
        return shared();
      },
      (error: unknown) => {
        following = null;
        throw error;
      },
    ));
  };

  return {
    async moment() {
      if (closed || (client === null && performance.now() - failedAt < RECONNECT_AFTER_MS)) return viaPool();
      let moment: DatabaseMoment;
      try {
        moment = await shared();
      } catch {
        return viaPool();
      }
      // Counted for every request it answered, in that request's scope.
      const query = { sql: SNAPSHOT_SQL, bindings: [], __knexQueryUid: `snapshot-${++announced}` };
      knex.emit('query', query);
      knex.emit('query-response', [moment], query);
      return moment;
    },
    sent: () => sent,
    async close() {
      closed = true;
      if (idle) clearTimeout(idle);
      await connecting?.catch(() => undefined);
      const last = client;
      client = null;
      if (last) await endConnection(last);
    },
  };
}
