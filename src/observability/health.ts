import type { MikroORM } from '@mikro-orm/postgresql';
import { Router } from 'express';
import { describeError } from './logger';
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
 * Readiness: PostgreSQL answers a query within a second, every migration
 * is applied, and the server is not draining for a shutdown. Migrations are
 * checked until they have been seen applied once (they only change at start).
 *
 * `isListening` (the LISTEN connection of pg-listener.ts) is reported in
 * `checks.liveUpdates` but does not turn readiness off: while it reconnects,
 * subscriptions miss pushes (caught up once it is back) and webhooks wait for
 * the dispatcher's next poll, but every request is answered right, from
 * PostgreSQL. A lost LISTEN is usually the database's own fault, the same on
 * every replica: taking them all out of the balancer would stop the
 * requests too.
 */
export function readinessCheck(orm: MikroORM, isDraining: () => boolean, isListening: (() => boolean) | null = null): () => Promise<Readiness> {
  let migrationsApplied = false;
  return async () => {
    const checks: Readiness['checks'] = {
      database: 'unavailable',
      migrations: migrationsApplied ? 'ok' : 'unknown',
      draining: isDraining(),
      writes: writeRefusals.current() ? 'refused' : 'ok',
      ...(isListening ? { liveUpdates: isListening() ? 'ok' : 'reconnecting' } : {}),
    };
    if (checks.draining) return { ready: false, reason: 'the server is shutting down and takes no new requests', checks };
    try {
      await withTimeout(orm.em.getConnection().execute('select 1'), READINESS_DB_TIMEOUT_MS, 'PostgreSQL');
      checks.database = 'ok';
    } catch (error) {
      return { ready: false, reason: `database: ${describeError(error)}`, checks };
    }
    if (!migrationsApplied) {
      try {
        const pending = await withTimeout(orm.getMigrator().getPendingMigrations(), READINESS_DB_TIMEOUT_MS, 'PostgreSQL');
        if (pending.length > 0) {
          checks.migrations = 'pending';
          return { ready: false, reason: `migrations not applied: ${pending.map((m) => m.name).join(', ')}`, checks };
        }
        migrationsApplied = true;
        checks.migrations = 'ok';
      } catch (error) {
        return { ready: false, reason: `migrations: ${describeError(error)}`, checks };
      }
    }
    return { ready: true, checks };
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
