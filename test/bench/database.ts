import { resolve } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import type { Scale } from './scales';

export interface BenchDatabase {
  url: string;
  /** Whether the benchmark started this server (then it also stops it). */
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * `DATABASE_URL` when set; otherwise an embedded PostgreSQL whose files stay
 * in `.data/bench-<scale>` (git-ignored), so a generated scale is loaded once
 * and benchmarked many times.
 */
export async function benchDatabase(scale: Scale, log: (line: string) => void = console.log): Promise<BenchDatabase> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, embedded: false, stop: async () => {} };
  const dataDir = resolve(`.data/bench-${scale.name}`);
  log(`DATABASE_URL is not set: embedded PostgreSQL in ${dataDir}`);
  const database = await startEmbeddedPostgres(dataDir, { supervise: false });
  return { url: database.url, embedded: true, stop: () => database.stop() };
}

/** A connected client with an error listener (a server restart must not crash the process). */
export async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  client.on('error', (error) => console.error('[bench db]', error.message));
  await client.connect();
  return client;
}

/** Rows already in the tables the generator fills; 0 on an empty or unmigrated database. */
export async function existingRows(client: Client): Promise<number> {
  const { rows } = await client.query(`select to_regclass('public.region') is not null as migrated`);
  if (!rows[0].migrated) return 0;
  const count = await client.query(`select (select count(*) from region) + (select count(*) from department) as n`);
  return Number(count.rows[0].n);
}
