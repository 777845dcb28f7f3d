import cluster, { type Worker } from 'node:cluster';
import type http from 'node:http';
import { exportSPKI, importSPKI, type KeyLike } from 'jose';
import { AggregatorRegistry, Counter } from 'prom-client';
import type { DemoIdentity } from './modules/auth/demo-identity';
import type { JwtSettings } from './modules/auth/authenticator';
import { StartupError } from './db/embedded-postgres';
import { logger } from './observability/logger';
import { metricsRegistry, sharedWhileRunning } from './observability/metrics';
import { elapsedMs } from './core/elapsed';

/**
 * Several Node processes behind one port (MULU_WORKERS, `node:cluster`).
 *
 * The primary prepares what exists once (the embedded PostgreSQL, the
 * migrations, the demo and its sign-in), then forks the workers and serves
 * nothing itself: each worker is a whole server (`startServer`) with its own
 * pool, response cache and periodic jobs, like a replica on another machine,
 * and the primary hands each new connection to the next worker (Node's
 * round-robin). Nothing a request needs lives in one worker only: answers
 * are keyed on the database snapshot, the jobs hold advisory locks or claim
 * rows with SKIP LOCKED (docs/operations.md, "Several workers").
 *
 * The primary replaces a worker that exits (at most RESTART_LIMIT times in
 * RESTART_WINDOW_MS, then it stops everything with exit code 1 for a
 * supervisor to restart), drains them all on SIGTERM/SIGINT, and answers
 * their /metrics with the metrics of every process, each labelled `worker`.
 */

/** Replacements allowed within RESTART_WINDOW_MS before the primary gives up (a worker that cannot live is not a transient fault). */
export const RESTART_LIMIT = 5;
export const RESTART_WINDOW_MS = 60_000;

/**
 * PostgreSQL connections one worker may open: its pool (10, src/mikro-orm.config.ts),
 * the webhook dispatcher's (2, src/modules/notifications/sql-pool.ts),
 * the LISTEN connection of live updates (1) and the response cache's
 * snapshot connection (1, src/graphql/snapshot-source.ts).
 */
export const CONNECTIONS_PER_WORKER = 14;

/**
 * `max_connections` for the embedded PostgreSQL of `workers` workers: theirs,
 * plus room for the primary's start (migrations, demo) and for `psql` or a
 * command-line tool; never below PostgreSQL's default of 100.
 */
export function embeddedMaxConnections(workers: number): number {
  return Math.max(100, workers * CONNECTIONS_PER_WORKER + 20);
}

/** How long the primary waits for the workers' metrics before answering with those that came. */
const METRICS_GATHER_MS = 2000;

/** The environment variable that carries a worker's WorkerSetup (JSON); set by the primary, never by an operator. */
const SETUP_VARIABLE = 'MULU_WORKER_SETUP';

/** What the primary hands each worker: what it made at start and the workers cannot make again. */
export interface WorkerSetup {
  /** The database the primary migrated (the embedded one's URL, or DATABASE_URL). */
  databaseUrl: string;
  /**
   * Whether this worker runs the periodic jobs (figures recount, usage fold,
   * webhook dispatcher and the clock's events): one worker does, and its
   * replacement after it (docs/operations.md, "Several workers").
   */
  periodicJobs?: boolean;
  /** The demo's sign-in (its key pair is made once, in the primary, so every worker accepts the printed tokens). */
  demo?: {
    publicKeyPem: string;
    issuer: string;
    audience: string;
    algorithms: string[];
    tokens: DemoIdentity['tokens'];
  };
}

type MetricsJson = Awaited<ReturnType<typeof metricsRegistry.getMetricsAsJSON>>;

/** Messages from a worker to the primary. */
type WorkerMessage =
  | { type: 'mulu:ready'; url: string }
  | { type: 'mulu:start-failed'; cause: string }
  | { type: 'mulu:group-metrics'; requestId: number }
  | { type: 'mulu:own-metrics'; requestId: number; metrics: MetricsJson };

/** Messages from the primary to a worker. */
type PrimaryMessage = { type: 'mulu:group-metrics'; requestId: number; text: string } | { type: 'mulu:own-metrics'; requestId: number };

const isMessage = (message: unknown): message is { type: string } =>
  typeof message === 'object' && message !== null && typeof (message as { type?: unknown }).type === 'string';

/** The demo identity in a form that crosses a process boundary. */
export async function shareDemoIdentity(demo: DemoIdentity): Promise<WorkerSetup['demo']> {
  return {
    publicKeyPem: await exportSPKI(demo.jwt.key as KeyLike),
    issuer: demo.jwt.issuer,
    audience: demo.jwt.audience,
    algorithms: [...(demo.jwt.algorithms ?? [])],
    tokens: demo.tokens,
  };
}

/** The demo's JWT settings in a worker, from what the primary shared. */
export async function demoJwtSettings(demo: NonNullable<WorkerSetup['demo']>): Promise<JwtSettings> {
  return { key: await importSPKI(demo.publicKeyPem, demo.algorithms[0]), issuer: demo.issuer, audience: demo.audience, algorithms: demo.algorithms };
}

// ---------------------------------------------------------------- primary

export interface WorkerGroup {
  /** Resolves with the GraphQL URL once every worker serves; rejects when one exits (or fails) before. */
  ready: Promise<string>;
  /**
   * Drains every worker (SIGTERM: readiness 503, requests in flight finish,
   * pool closed) and waits up to `limitMs` for their exits, then kills those
   * left. Resolves true when every worker exited with code 0.
   */
  stop(limitMs: number): Promise<boolean>;
}

/** Labels the primary's own log lines and metrics (worker 0) when it runs workers. */
export function labelPrimary(): void {
  logger.setBindings({ worker: 0 });
  metricsRegistry.setDefaultLabels({ worker: '0' });
}

/**
 * Forks `count` workers with `setup`. `onGiveUp` runs when workers exited
 * more than RESTART_LIMIT times within RESTART_WINDOW_MS (main stops the
 * process with exit code 1).
 */
export function startWorkers(count: number, setup: WorkerSetup, onGiveUp: (reason: string) => void): WorkerGroup {
  const restarts = new Counter({
    name: 'mulu_worker_restarts_total',
    help: 'Workers started by the primary in place of one that exited, by outcome (replaced; gave_up: too many in a minute, Mulu stopped).',
    labelNames: ['outcome'] as const,
    registers: [metricsRegistry],
  });
  let stopping = false;
  /** The worker that runs the periodic jobs. */
  let jobsWorker: number | null = null;
  const restartTimes: number[] = [];
  /** Workers that have said they serve. */
  const serving = new Set<number>();
  /** Why a worker failed to start, as it told before exiting. */
  const startFailures = new Map<number, string>();
  /** Workers replacing another: worker id → the id it replaces, for the log line when it serves. */
  const replacing = new Map<number, number>();
  const initial = new Set<number>();
  let initialDone = false;
  let resolveReady!: (url: string) => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<string>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  let url = '';

  const gatherer = metricsGatherer();

  const fork = (periodicJobs: boolean): Worker => {
    const worker = cluster.fork({ [SETUP_VARIABLE]: JSON.stringify({ ...setup, periodicJobs } satisfies WorkerSetup) });
    if (periodicJobs) jobsWorker = worker.id;
    worker.on('message', (message: unknown) => {
      if (!isMessage(message)) return;
      const m = message as WorkerMessage;
      if (m.type === 'mulu:ready') {
        serving.add(worker.id);
        url ||= m.url;
        const replaced = replacing.get(worker.id);
        logger.info(
          { workerPid: worker.process.pid },
          `worker ${worker.id} (pid ${worker.process.pid}) is serving${replaced !== undefined ? `, in place of worker ${replaced}` : ''}${worker.id === jobsWorker ? ', with the periodic jobs' : ''}`,
        );
        if (!initialDone && [...initial].every((id) => serving.has(id))) {
          initialDone = true;
          resolveReady(url);
        }
      } else if (m.type === 'mulu:start-failed') {
        startFailures.set(worker.id, m.cause);
      } else if (m.type === 'mulu:group-metrics') {
        void gatherer.gather().then((text) => {
          if (worker.isConnected()) worker.send({ type: 'mulu:group-metrics', requestId: m.requestId, text } satisfies PrimaryMessage);
        });
      } else if (m.type === 'mulu:own-metrics') {
        gatherer.answer(worker.id, m.requestId, m.metrics);
      }
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    const wasServing = serving.delete(worker.id);
    gatherer.gone(worker.id);
    if (stopping) return;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const cause = startFailures.get(worker.id);
    startFailures.delete(worker.id);
    if (!initialDone) {
      // A worker that cannot start now will not start on a retry either: the start fails, with its reason.
      initialDone = true;
      rejectReady(
        new StartupError(
          cause ? `worker ${worker.id} could not start: ${cause}` : `worker ${worker.id} ${how} before it was serving; the log lines above say why.`,
        ),
      );
      return;
    }
    // The monotonic clock: with the wall clock set back, the restarts of the last minute stayed in the window for as long.
    const now = elapsedMs();
    while (restartTimes.length > 0 && restartTimes[0] <= now - RESTART_WINDOW_MS) restartTimes.shift();
    if (restartTimes.length >= RESTART_LIMIT) {
      restarts.inc({ outcome: 'gave_up' });
      const reason = `worker ${worker.id} ${how}${cause ? ` (${cause})` : ''}, the ${RESTART_LIMIT + 1}th worker exit within ${RESTART_WINDOW_MS / 1000} s: stopping Mulu rather than restarting workers in a loop (a supervisor may start it again)`;
      logger.fatal({ workerPid: worker.process.pid, code, signal }, reason);
      onGiveUp(reason);
      return;
    }
    restartTimes.push(now);
    restarts.inc({ outcome: 'replaced' });
    const replacement = fork(worker.id === jobsWorker);
    replacing.set(replacement.id, worker.id);
    logger.error(
      { workerPid: worker.process.pid, code, signal, replacement: replacement.id },
      `worker ${worker.id} (pid ${worker.process.pid}) ${how}${wasServing ? '' : ' before it was serving'}${cause ? ` (${cause})` : ''}; started worker ${replacement.id} in its place${replacement.id === jobsWorker ? ', with the periodic jobs' : ''} (restart ${restartTimes.length} of at most ${RESTART_LIMIT} within ${RESTART_WINDOW_MS / 1000} s)`,
    );
  });

  for (let i = 0; i < count; i++) initial.add(fork(i === 0).id);

  let stopped: Promise<boolean> | undefined;
  return {
    ready,
    stop: (limitMs) =>
      (stopped ??= (async () => {
        stopping = true;
        const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
        const exits = workers.map(
          (worker) =>
            new Promise<boolean>((resolve) => {
              if (worker.isDead()) return resolve(worker.process.exitCode === 0);
              worker.once('exit', (code, signal) => resolve(code === 0 && !signal));
              // A worker drains on SIGTERM as a single server does (main.ts).
              worker.process.kill('SIGTERM');
            }),
        );
        let timer: NodeJS.Timeout | undefined;
        const inTime = await Promise.race([
          Promise.all(exits).then((codes) => codes.every(Boolean)),
          new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), limitMs))),
        ]);
        clearTimeout(timer);
        if (inTime !== 'late') return inTime;
        for (const worker of workers) if (!worker.isDead()) worker.process.kill('SIGKILL');
        await Promise.all(exits);
        throw new Error(`workers still running after ${limitMs} ms were killed`);
      })()),
  };
}

/** The primary's side of a scrape: its own metrics and every worker's, each labelled with its worker id, in one text. */
function metricsGatherer() {
  let nextId = 0;
  const rounds = new Map<number, { waiting: Set<number>; parts: MetricsJson[]; finish: () => void }>();
  // Scrapes reaching the primary from several workers at once share one round (sharedWhileRunning).
  return {
    gather: sharedWhileRunning(async (): Promise<string> => {
      const requestId = nextId++;
      const parts: MetricsJson[] = [await metricsRegistry.getMetricsAsJSON()];
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => finish(), METRICS_GATHER_MS);
        const finish = () => {
          clearTimeout(timer);
          rounds.delete(requestId);
          resolve();
        };
        rounds.set(requestId, { waiting: new Set(workers.map((w) => w.id)), parts, finish });
        for (const worker of workers) worker.send({ type: 'mulu:own-metrics', requestId } satisfies PrimaryMessage);
        if (workers.length === 0) finish();
      });
      // Every series carries its process's `worker` label, so "sum" only puts them side by side (and keeps
      // the metrics prom-client would otherwise reduce to the first process's value, such as the Node version).
      const labelled = parts.map((metrics) => metrics.map((metric) => ({ ...metric, aggregator: 'sum' as const })));
      return AggregatorRegistry.aggregate(labelled).metrics();
    }),
    answer(workerId: number, requestId: number, metrics: MetricsJson) {
      const round = rounds.get(requestId);
      if (!round || !round.waiting.delete(workerId)) return;
      round.parts.push(metrics);
      if (round.waiting.size === 0) round.finish();
    },
    gone(workerId: number) {
      for (const round of rounds.values()) if (round.waiting.delete(workerId) && round.waiting.size === 0) round.finish();
    },
  };
}

// ---------------------------------------------------------------- worker

/** This worker's id (1, 2, ...; a replacement gets the next one), or null in a process that is not a worker. */
export function workerId(): number | null {
  return cluster.isWorker && cluster.worker ? cluster.worker.id : null;
}

/**
 * In a worker: reads what the primary handed over, labels the log lines and
 * metrics with the worker id, and answers the primary's requests for this
 * process's metrics.
 */
export function joinGroup(): WorkerSetup {
  const id = workerId();
  const text = process.env[SETUP_VARIABLE];
  if (id === null || !text) throw new StartupError(`${SETUP_VARIABLE} is set by Mulu's primary process for its workers; this process was not started by one.`);
  logger.setBindings({ worker: id });
  metricsRegistry.setDefaultLabels({ worker: String(id) });
  process.on('message', (message: unknown) => {
    if (!isMessage(message)) return;
    const m = message as PrimaryMessage;
    if (m.type === 'mulu:own-metrics') {
      void metricsRegistry.getMetricsAsJSON().then((metrics) => send({ type: 'mulu:own-metrics', requestId: m.requestId, metrics }));
    } else if (m.type === 'mulu:group-metrics') {
      groupRequests.get(m.requestId)?.(m.text);
    }
  });
  return JSON.parse(text) as WorkerSetup;
}

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Tells the primary this worker serves (at `url`). */
export function announceReady(url: string): Promise<void> {
  return send({ type: 'mulu:ready', url });
}

/** Tells the primary why this worker could not start (before it exits). */
export function announceStartFailure(cause: string): Promise<void> {
  return send({ type: 'mulu:start-failed', cause });
}

/** Every response of a worker names it (`x-mulu-worker`), so a client or a test can see which process answered. */
export function nameWorkerInResponses(httpServer: http.Server, id: number): void {
  httpServer.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => res.setHeader('x-mulu-worker', String(id)));
}

let nextGroupRequest = 0;
const groupRequests = new Map<number, (text: string) => void>();

/**
 * The metrics of the whole process group, for a worker's /metrics: the
 * primary gathers every process's. Falls back to this worker's own (with a
 * warning) when the primary does not answer within twice its gathering time.
 */
export async function groupMetrics(): Promise<string> {
  const requestId = nextGroupRequest++;
  const text = await new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => {
      groupRequests.delete(requestId);
      resolve(null);
    }, METRICS_GATHER_MS * 2);
    groupRequests.set(requestId, (answer) => {
      clearTimeout(timer);
      groupRequests.delete(requestId);
      resolve(answer);
    });
    void send({ type: 'mulu:group-metrics', requestId });
  });
  if (text !== null) return text;
  logger.warn('the primary did not send the metrics of the other workers in time: /metrics shows this worker only');
  return metricsRegistry.metrics();
}
