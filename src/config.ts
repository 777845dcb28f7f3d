import { resolve } from 'node:path';

/** Everything Mulu reads from the environment, parsed once at start. */
export interface Config {
  /** HTTP port of the GraphQL server. */
  port: number;
  /** External PostgreSQL; when absent Mulu starts its own embedded server. */
  databaseUrl?: string;
  /** Where the embedded PostgreSQL keeps its files (git-ignored). */
  embeddedDataDir: string;
  /** Load the demo dataset into an empty database: always with the embedded server, on request otherwise. */
  loadDemo: boolean;
  /** Log every SQL statement (noisy; for debugging). */
  logSql: boolean;
  /** Largest estimated cost of one GraphQL operation. */
  maxQueryCost?: number;
  /** Return each GraphQL request's SQL statement count in the `x-mulu-sql-statements` header (benchmarks). */
  sqlCountHeader: boolean;
}

function flag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  return ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a TCP port number, got "${env.PORT}"`);
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  return {
    port,
    databaseUrl,
    embeddedDataDir: resolve(env.MULU_DATA_DIR ?? '.data/postgres'),
    loadDemo: flag(env.MULU_DEMO) ?? databaseUrl === undefined,
    logSql: flag(env.MULU_LOG_SQL) ?? false,
    maxQueryCost: env.MULU_MAX_QUERY_COST ? Number(env.MULU_MAX_QUERY_COST) : undefined,
    sqlCountHeader: flag(env.MULU_SQL_COUNT_HEADER) ?? false,
  };
}
