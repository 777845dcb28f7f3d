import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Mulu's Prometheus metrics, served at /metrics. One registry per process:
 * several servers in one process (tests) share it, and the pool gauges sum
 * over every pool registered with `watchPool`.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

/**
 * `gather` run once for every call made while it runs: the calls wait for
 * the one run under way and get its answer, and a call after it ended runs
 * it again (so counters read after a request see it). /metrics is anonymous
 * and comes before the rate limits, and with several workers each scrape
 * has every worker serialise its registry for the primary (src/cluster.ts):
 * a thousand scrapes at once were a thousand rounds of messages to every
 * worker, now one.
 */
export function sharedWhileRunning<T>(gather: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  return () => {
    running ??= gather().finally(() => {
      running = null;
    });
    return running;
  };
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Requests by operation (GraphQL operation name, or the HTTP route), method and status. */
export const requestsTotal = new Counter({
  name: 'mulu_requests_total',
  help: 'HTTP requests answered, by operation (GraphQL operation name or route), method and status code.',
  labelNames: ['operation', 'method', 'status'] as const,
  registers: [metricsRegistry],
});

export const requestDuration = new Histogram({
  name: 'mulu_request_duration_seconds',
  help: 'Time from a request arriving to its response being sent, by operation and status code.',
  labelNames: ['operation', 'status'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});

/** Errors clients received, by extensions.code (GraphQL) or error.code (REST). */
export const errorsTotal = new Counter({
  name: 'mulu_errors_total',
  help: 'Errors sent to clients, by code (extensions.code of GraphQL errors, error.code of REST errors).',
  labelNames: ['code'] as const,
  registers: [metricsRegistry],
});

/** Mutations PostgreSQL undid for colliding with another and that were run again (mutate in src/core/unit-of-work.ts). */
export const mutationRetries = new Counter({
  name: 'mulu_mutation_retries_total',
  help: 'Mutations run again after PostgreSQL undid them for colliding with another (SQLSTATE 40P01 deadlock, 40001 serialization failure), by mutation and SQLSTATE.',
  labelNames: ['mutation', 'sqlstate'] as const,
  registers: [metricsRegistry],
});

export const recordsIngested = new Counter({
  name: 'mulu_records_ingested_total',
  help: 'Supervision records stored (accepted), through GraphQL or an import.',
  registers: [metricsRegistry],
});

export const responseCacheRequests = new Counter({
  name: 'mulu_response_cache_requests_total',
  help: 'GraphQL queries the response cache saw, by result: HIT (answered from it) or MISS (computed).',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

export const recountDuration = new Histogram({
  name: 'mulu_figures_recount_duration_seconds',
  help: 'Duration of the recounts of stale directories and lapsed subscriptions, by outcome (done, skipped: another replica held the lock, failed).',
  labelNames: ['outcome'] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
  registers: [metricsRegistry],
});

export const embeddedRestarts = new Counter({
  name: 'mulu_embedded_postgres_restarts_total',
  help: 'Restarts of the embedded PostgreSQL after it died, by outcome.',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

/** What a knex (tarn) pool tells about itself. */
interface PoolLike {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
}

const pools = new Set<PoolLike>();

/** Adds a pool to the pool gauges until `unwatch` is called (on close). */
export function watchPool(pool: PoolLike | undefined): () => void {
  if (!pool) return () => undefined;
  pools.add(pool);
  return () => pools.delete(pool);
}

const sum = (read: (pool: PoolLike) => number) => [...pools].reduce((total, pool) => total + read(pool), 0);

new Gauge({
  name: 'mulu_db_pool_connections',
  help: 'Database pool connections by state: used (lent to a query or transaction), free (idle), pending (being opened).',
  labelNames: ['state'] as const,
  registers: [metricsRegistry],
  collect() {
    this.set(
      { state: 'used' },
      sum((p) => p.numUsed()),
    );
    this.set(
      { state: 'free' },
      sum((p) => p.numFree()),
    );
    this.set(
      { state: 'pending' },
      sum((p) => p.numPendingCreates()),
    );
  },
});

new Gauge({
  name: 'mulu_db_pool_waiting',
  help: 'Queries and transactions waiting for a database connection.',
  registers: [metricsRegistry],
  collect() {
    this.set(sum((p) => p.numPendingAcquires()));
  },
});
