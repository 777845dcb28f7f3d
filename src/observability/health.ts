import type { MikroORM } from '@mikro-orm/postgresql';
import { Router } from 'express';
import { describeError } from './logger';
import { elapsedMs } from '../core/elapsed';
import { writeRefusals } from '../core/write-refusals';

/** How long readiness waits for PostgreSQL to answer `select 1`. */
export const READINESS_DB_TIMEOUT_MS = 1000;

export interface Readiness {
  ready: boolean;
  /** Why not, for a person reading a health check's output. */
  reason?: string;
  checks: {
    database: 'ok' | 'unavailable';
    migrations: 'ok' | 'pending' | 'unknown';
    draining: boolean;
    /**
     * Whether PostgreSQL took this process's last write ('refused': read-only
     * or disk full, core/write-refusals.ts). Readiness stays true: reads are
     * answered, and every replica meets the same database.
     */
    writes: 'ok' | 'refused';
    /** The listening connection (live updates, webhook wake-ups); absent on a server without one. */
    liveUpdates?: 'ok' | 'reconnecting';
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      timer.unref();
    }),
  ]);
}

/**
 * How long a probe that found PostgreSQL and the migrations ready answers
 * the readiness checks that follow it. `/health/ready` is anonymous and comes
 * before the rate limits (a balancer must reach it), so without this every
 * call ran `select 1` on the request pool: a thousand calls at once were a
 * thousand statements taking the pool's connections from GraphQL. A
 * balancer checks every few seconds; an answer a second old is as good. A
 * probe that failed is not reused, so the first check after the database
 * is back says so.
 */
export const READINESS_REUSE_MS = 1000;

/** What one probe found of the database and the migrations, shared by every check it answers. */
interface Probe {
  database: Readiness['checks']['database'];
  migrations: Readiness['checks']['migrations'];
  reason?: string;
}

/**
 * Readiness: PostgreSQL answers a query within a second, every migration
 * is applied, and the server is not draining for a shutdown. Migrations are
 * checked until they have been seen applied once (they only change at start).
 *
 * Checks arriving while a probe of the database runs wait for that probe,
 * and a ready answer serves the checks of the next READINESS_REUSE_MS too: a
 * flood of checks sends one statement at a time, never one each. Draining,
 * writes and liveUpdates are this process's own state, read at every check.
 *
 * `isListening` (the LISTEN connection of pg-listener.ts) is reported in
 * `checks.liveUpdates` but does not turn readiness off: while it reconnects,
 * subscriptions miss pushes (caught up once it is back) and webhooks wait for
 * the dispatcher's next poll, but every request is answered right, from
 * PostgreSQL. A lost LISTEN is usually the database's own fault, the same on
 * every replica: taking them all out of the balancer would stop the
 * requests too.
 */
export function readinessCheck(
  orm: MikroORM,
  isDraining: () => boolean,
  isListening: (() => boolean) | null = null,
  reuseMs = READINESS_REUSE_MS,
): () => Promise<Readiness> {
  let migrationsApplied = false;
  const probeDatabase = async (): Promise<Probe> => {
    try {
      await withTimeout(orm.em.getConnection().execute('select 1'), READINESS_DB_TIMEOUT_MS, 'PostgreSQL');
    } catch (error) {
      return { database: 'unavailable', migrations: migrationsApplied ? 'ok' : 'unknown', reason: `database: ${describeError(error)}` };
    }
    if (migrationsApplied) return { database: 'ok', migrations: 'ok' };
    try {
      const pending = await withTimeout(orm.getMigrator().getPendingMigrations(), READINESS_DB_TIMEOUT_MS, 'PostgreSQL');
      if (pending.length > 0) return { database: 'ok', migrations: 'pending', reason: `migrations not applied: ${pending.map((m) => m.name).join(', ')}` };
      migrationsApplied = true;
      return { database: 'ok', migrations: 'ok' };
    } catch (error) {
      return { database: 'ok', migrations: 'unknown', reason: `migrations: ${describeError(error)}` };
    }
  };
  /** The probe under way, or the last one with when it ended (monotonic ms) if it found everything ready. probeDatabase never rejects. */
  let last: { probe: Promise<Probe>; endedAt: number | null } | null = null;
  const sharedProbe = (): Promise<Probe> => {
    if (last && (last.endedAt === null || elapsedMs() - last.endedAt < reuseMs)) return last.probe;
    const current: { probe: Promise<Probe>; endedAt: number | null } = { probe: probeDatabase(), endedAt: null };
    void current.probe.then(({ reason }) => {
      if (reason === undefined) current.endedAt = elapsedMs();
      else if (last === current) last = null;
    });
    last = current;
    return current.probe;
  };
  return async () => {
    const checks: Readiness['checks'] = {
      database: 'unavailable',
      migrations: migrationsApplied ? 'ok' : 'unknown',
      draining: isDraining(),
      writes: writeRefusals.current() ? 'refused' : 'ok',
      ...(isListening ? { liveUpdates: isListening() ? 'ok' : 'reconnecting' } : {}),
    };
    if (checks.draining) return { ready: false, reason: 'the server is shutting down and takes no new requests', checks };
    const { reason, ...found } = await sharedProbe();
    Object.assign(checks, found);
    return reason ? { ready: false, reason, checks } : { ready: true, checks };
  };
}

/**
 * `/health/live`: the process answers (restart it if not). `/health/ready`
 * (and `/health`, kept for older checks): send traffic here (200) or not
 * (503), with the reason in JSON.
 */
export function healthRouter(ready: () => Promise<Readiness>): Router {
  const router = Router();
  router.get('/live', (_req, res) => {
    res.json({ status: 'live', uptimeSeconds: Math.round(process.uptime()) });
  });
  const readiness = async (_req: unknown, res: import('express').Response) => {
    const state = await ready();
    res
      .status(state.ready ? 200 : 503)
      .json({ status: state.ready ? 'ready' : 'unavailable', ...(state.reason ? { reason: state.reason } : {}), checks: state.checks });
  };
  router.get('/ready', readiness);
  router.get('/', readiness);
  return router;
}
