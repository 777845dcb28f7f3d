import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { freePort } from '../../src/db/embedded-postgres';
import { DASHBOARD_TARGET_MS, runDashboardBench, type DashboardResult } from './dashboard';
import { benchDatabase, connect, existingRows } from './database';
import {
  checkPeerTargets,
  compareWithPeer,
  machineLoad,
  PEER_TABLE_HEADER,
  postmasterPid,
  runPeerComparison,
  startPeer,
  stopPeer,
  type PeerServer,
} from './peer-postgraphile';
import { peerReads } from './peer-answers';
import { formatRow, runBenchmark, TABLE_HEADER, type RunLength, type ScenarioRun } from './runner';
import { parseArgs, parseScale, SCALES } from './scales';
import { scenarios } from './scenarios';
import { runSharingBench } from './sharing';
import { checkTargets, statementCountsByScale } from './targets';

/**
 * `npm run bench -- --scale district|city|province [--seconds 15] [--clients 1,10] [--warmup 20] [--sharing | --only sharing] [--rows 1000000] [--reuse] [--pages-only] [--dashboard | --only dashboard [--cold N]] [--peer postgraphile [--slice 1] [--only ranking]]`:
 * starts the compiled server (dist/src/main.js, NODE_ENV=production) on the
 * generated database, drives it over HTTP with autocannon, prints a table and
 * writes bench-results-<scale>.json (git-ignored). `--dashboard` also builds
 * the dashboard (dist/web) and times its province page in Chromium
 * (test/bench/dashboard.ts); `--only dashboard` does only that and adds its
 * figures to bench-results-<scale>.json. `--peer postgraphile` does only
 * the side-by-side comparison with PostGraphile 4 (peer-postgraphile.ts):
 * `--seconds` per side and run, in alternating slices of `--slice` seconds;
 * its figures go under `peer` in bench-results-<scale>.json. `BENCH_SERVER_NODE_ARGS` adds
 * options to the server's Node (`--cpu-prof --cpu-prof-dir=DIR`);
 * `MULU_LOG_SQL=1` logs its statements.
 */
const ISSUER = 'https://sso.bench.mulu.local';
const AUDIENCE = 'mulu-api';

/**
 * Identities for the run: a key pair standing in for the identity platform
 * (the server verifies a viewer JWT on every read, as it would a dashboard
 * user's) and a bootstrap admin token for the writes of an upstream system.
 */
export async function benchIdentities(): Promise<{
  env: Record<string, string>;
  authorization: { read: string; write: string };
  stewardToken: (creditCode: string) => Promise<string>;
  /** Signs a token for `subject` with these claims, issued now (or at `issuedAt`, epoch seconds), valid 12 hours from then. */
  signToken: (subject: string, claims: Record<string, unknown>, issuedAt?: number) => Promise<string>;
}> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const adminToken = randomBytes(24).toString('hex');
  const signToken = (subject: string, claims: Record<string, unknown>, issuedAt = Math.floor(Date.now() / 1000)) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject(subject)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + 12 * 3600)
      .sign(privateKey);
  const viewer = await signToken('bench-viewer', { role: 'VIEWER', name: 'Benchmark dashboard' });
  return {
    env: {
      MULU_JWT_PUBLIC_KEY: await exportSPKI(publicKey),
      MULU_JWT_ISSUER: ISSUER,
      MULU_JWT_AUDIENCE: AUDIENCE,
      MULU_JWT_ALGORITHMS: 'RS256',
      MULU_ADMIN_TOKEN: adminToken,
      MULU_JWKS_URL: '',
    },
    authorization: { read: `Bearer ${viewer}`, write: `Bearer ${adminToken}` },
    stewardToken: (department: string) => signToken(`bench-steward-${department}`, { role: 'STEWARD', department, name: 'Benchmark steward' }),
    signToken,
  };
}

/**
 * Starts the compiled server as `npm start` runs it, in a process of its own, and waits for /health.
 * `databaseUrl` undefined: the server starts its embedded PostgreSQL (in MULU_DATA_DIR of `overrides`).
 * `overrides` replace the benchmark's settings below (e.g. MULU_WORKERS, MULU_CALLER_CONCURRENCY).
 */
export async function startServer(
  databaseUrl: string | undefined,
  authEnv: Record<string, string>,
  overrides: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string }> {
  const main = resolve('dist/src/main.js');
  if (!existsSync(main)) throw new Error('dist/src/main.js is missing: run `npm run build` (npm run bench does).');
  const port = await freePort();
  const child = spawn(process.execPath, [...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean), main], {
    env: {
      ...process.env,
      ...authEnv,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl ?? '',
      PORT: String(port),
      MULU_SQL_COUNT_HEADER: '1',
      MULU_DEMO: '0',
      MULU_LOG_SQL: process.env.MULU_LOG_SQL ?? '0',
      MULU_RATE_LIMIT_PER_MINUTE: '0',
      // Ten clients stand for ten dashboard users with one token between them.
      MULU_CALLER_CONCURRENCY: '0',
      MULU_LOG_LEVEL: process.env.MULU_LOG_LEVEL ?? 'warn',
      ...overrides,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk) => process.stdout.write(`  [server] ${chunk}`));
  child.stderr.on('data', (chunk) => process.stderr.write(`  [server] ${chunk}`));
  // An embedded PostgreSQL is created (initdb) and migrated first; on a loaded shared machine a start alone took over a minute.
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The server exited with code ${child.exitCode}.`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      // Not left behind: a server that comes up after the benchmark gave up would serve nobody, on cores others measure on.
      child.kill('SIGTERM');
      throw new Error('The server did not answer /health in time.');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, url: `http://127.0.0.1:${port}/graphql` };
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** The province page of the dashboard in Chromium (test/bench/dashboard.ts), on the running server. */
async function measureDashboard(
  graphqlUrl: string,
  readAuthorization: string,
  databaseUrl: string,
  runs: { warmRuns?: number; computedRuns?: number } = {},
): Promise<DashboardResult> {
  const client = await connect(databaseUrl);
  const { rows } = await client.query(`select count(*)::int as n from department`);
  await client.end();
  console.log(`\nDashboard (province page, ${rows[0].n} departments), in Chromium; load average ${machineLoad()}:`);
  return runDashboardBench({
    base: graphqlUrl.replace(/\/graphql$/, ''),
    token: readAuthorization.replace(/^Bearer /, ''),
    departments: rows[0].n,
    ...runs,
    log: console.log,
  });
}

/**
 * `--peer postgraphile`: starts the peer, checks each read's answers equal
 * Mulu's, then runs both side by side and adds the figures under `peer` to
 * bench-results-<scale>.json.
 */
async function comparePeer(options: {
  args: Map<string, string>;
  scale: string;
  databaseUrl: string;
  mulu: { child: ChildProcess; url: string };
  authorization: string;
  length: { seconds: number };
  clients: number[];
  warmupRequests: number;
}): Promise<void> {
  const name = options.args.get('peer');
  if (name !== 'postgraphile') throw new Error(`--peer takes "postgraphile" (the only peer); got "${name}".`);
  let peer: PeerServer | undefined;
  try {
    // `--only ranking` (any part of a read's name): only the reads named so.
    const only = options.args.get('only');
    const reads = only ? peerReads.filter((read) => read.scenario.name.includes(only)) : peerReads;
    if (reads.length === 0) throw new Error(`--only "${only}" names none of the reads: ${peerReads.map((read) => read.scenario.name).join(', ')}.`);
    peer = await startPeer(options.databaseUrl);
    const agreement = await compareWithPeer({ url: options.mulu.url, authorization: options.authorization }, peer.url, reads);
    for (const { read, problems, bytes } of agreement) {
      console.log(
        `  ${read}: ${problems.length ? `answers DIFFER: ${problems.join('; ')}` : `answers equal field by field (${bytes.mulu} / ${bytes.peer} bytes of data)`}`,
      );
    }
    if (agreement.some((a) => a.problems.length)) throw new Error('Mulu and PostGraphile answer differently: nothing timed.');
    const client = await connect(options.databaseUrl);
    const postgresPid = await postmasterPid((sql) => client.query(sql));
    await client.end();
    const sliceSeconds = Number(options.args.get('slice') ?? 1);
    const loadBefore = machineLoad();
    console.log(
      `\nMulu (pid ${options.mulu.child.pid}) and PostGraphile 4.14.1 (pid ${peer.child.pid}), ${options.length.seconds} s each per run in alternating ${sliceSeconds} s slices; load average ${loadBefore}`,
    );
    console.log(PEER_TABLE_HEADER);
    const runs = await runPeerComparison({
      reads,
      mulu: { url: options.mulu.url, pid: options.mulu.child.pid!, authorization: options.authorization },
      peer: { url: peer.url, pid: peer.child.pid! },
      postgresPid,
      clients: options.clients,
      length: { seconds: options.length.seconds, sliceSeconds },
      warmupRequests: options.warmupRequests,
      log: console.log,
    });
    const loadAfter = machineLoad();
    const targets = checkPeerTargets(runs);
    console.log(`\nTargets against PostGraphile (defined for province scale; this is ${options.scale}; load average ${loadAfter}):`);
    for (const t of targets) console.log(`  ${t.met === null ? '  -  ' : t.met ? ' met ' : 'MISSED'}  ${t.target}: ${t.measured}`);
    const file = `bench-results-${options.scale}.json`;
    const results = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { scale: options.scale };
    const at = new Date().toISOString();
    const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version };
    const peerResults = {
      at,
      machine,
      load: { before: loadBefore, after: loadAfter },
      seconds: options.length.seconds,
      sliceSeconds,
      clients: options.clients,
      agreement,
      runs,
      targets,
    };
    writeFileSync(file, JSON.stringify({ ...results, peer: peerResults }, null, 2));
    console.log(`\nWrote the comparison into ${file} (under "peer").`);
  } finally {
    if (peer) await stopPeer(peer);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const scale = parseScale(args.get('scale'));
  const length: RunLength = { seconds: Number(args.get('seconds') ?? (scale.name === 'province' ? 20 : 10)) };
  const clients = (args.get('clients') ?? '1,10').split(',').map(Number);
  const warmupRequests = Number(args.get('warmup') ?? 20);

  let database = await benchDatabase(scale);
  let server: { child: ChildProcess; url: string } | undefined;
  try {
    const client = await connect(database.url);
    const rows = await existingRows(client);
    await client.end();
    if (rows === 0) throw new Error(`The database is empty: run \`npm run bench:seed -- --scale ${scale.name}\` first.`);

    const identities = await benchIdentities();
    const dashboardOnly = args.get('only') === 'dashboard';
    const withDashboard = dashboardOnly || args.get('dashboard') === 'true';
    // The page as `npm run build` makes it, where the compiled server serves it (dist/web).
    if (withDashboard) execFileSync('npm', ['run', '--silent', 'build:web'], { stdio: 'inherit' });
    server = await startServer(database.url, identities.env);
    if (dashboardOnly) {
      // --cold N: N cold loads, each on a freshly started PostgreSQL (when the benchmark starts it) and server, as the
      // first is; the warm and computed loads follow the last. A cold load is one sample: its spread needs several.
      const coldRuns = Number(args.get('cold') ?? 1);
      if (!(Number.isInteger(coldRuns) && coldRuns >= 1)) throw new Error(`--cold takes a number of cold loads (at least 1), got "${args.get('cold')}".`);
      const colds: { interactiveMs: number; load: string }[] = [];
      for (let run = 1; run < coldRuns; run++) {
        const { cold } = await measureDashboard(server.url, identities.authorization.read, database.url, { warmRuns: 0, computedRuns: 0 });
        colds.push({ interactiveMs: cold.interactiveMs, load: machineLoad() });
        await stopServer(server.child);
        server = undefined;
        await database.stop();
        database = await benchDatabase(scale);
        server = await startServer(database.url, identities.env);
      }
      const dashboard = await measureDashboard(server.url, identities.authorization.read, database.url);
      colds.push({ interactiveMs: dashboard.cold.interactiveMs, load: machineLoad() });
      if (coldRuns > 1) {
        const sorted = colds.map((c) => c.interactiveMs).sort((a, b) => a - b);
        console.log(`\nCold loads, each on a fresh server and PostgreSQL (ms to interactive, load average after each):`);
        for (const [i, c] of colds.entries()) console.log(`  ${i + 1}. ${c.interactiveMs} ms (load ${c.load})`);
        console.log(
          `  median ${sorted[Math.floor(sorted.length / 2)]} ms, worst ${sorted[sorted.length - 1]} ms; ${sorted.filter((ms) => ms <= DASHBOARD_TARGET_MS).length} of ${sorted.length} within ${DASHBOARD_TARGET_MS} ms`,
        );
      }
      const file = `bench-results-${scale.name}.json`;
      const results = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { scale: scale.name, sizes: scale };
      writeFileSync(file, JSON.stringify({ ...results, dashboard: { ...dashboard, colds, at: new Date().toISOString() } }, null, 2));
      console.log(`\nWrote the dashboard's figures into ${file}.`);
      return;
    }
    if (args.has('peer')) {
      await comparePeer({
        args,
        scale: scale.name,
        databaseUrl: database.url,
        mulu: server,
        authorization: identities.authorization.read,
        length,
        clients,
        warmupRequests,
      });
      return;
    }
    console.log(`Benchmarking scale ${scale.name}: ${length.seconds} s per run, clients ${clients.join(' and ')}, server pid ${server.child.pid}`);
    const sharingOnly = args.get('only') === 'sharing';
    if (!sharingOnly) console.log(TABLE_HEADER);
    const runs = sharingOnly
      ? []
      : await runBenchmark({
          url: server.url,
          serverPid: server.child.pid!,
          databaseUrl: database.url,
          authorization: identities.authorization,
          scenarios: scenarios(),
          clients,
          length,
          warmupRequests,
          log: console.log,
        });
    // Data sharing (issue 13): a hosted dataset of 1,000,000 rows loaded, paged and exported.
    const sharing =
      sharingOnly || args.get('sharing') === 'true'
        ? await runSharingBench({
            url: server.url,
            serverPid: server.child.pid!,
            databaseUrl: database.url,
            adminAuthorization: identities.authorization.write,
            stewardToken: identities.stewardToken,
            rows: args.get('rows') ? Number(args.get('rows')) : undefined,
            reuse: args.get('reuse') === 'true',
            pagesOnly: args.get('pages-only') === 'true',
            seconds: length.seconds,
            log: console.log,
          })
        : undefined;
    if (sharingOnly) {
      writeFileSync(`bench-results-${scale.name}-sharing.json`, JSON.stringify({ scale: scale.name, at: new Date().toISOString(), sharing }, null, 2));
      return;
    }
    const dashboard = withDashboard ? await measureDashboard(server.url, identities.authorization.read, database.url) : undefined;
    const targets = checkTargets(runs);
    console.log(`\nTargets (defined for province scale; this is ${scale.name}):`);
    for (const t of targets) console.log(`  ${t.met === null ? '  -  ' : t.met ? ' met ' : 'MISSED'}  ${t.target}: ${t.measured}`);

    const others = Object.keys(SCALES)
      .filter((name) => name !== scale.name && existsSync(`bench-results-${name}.json`))
      .map((name) => JSON.parse(readFileSync(`bench-results-${name}.json`, 'utf8')) as { scale: string; runs?: ScenarioRun[] })
      // A file written by --peer or --only dashboard alone holds no runs.
      .filter((other): other is { scale: string; runs: ScenarioRun[] } => Array.isArray(other.runs));
    const statements = statementCountsByScale([...others, { scale: scale.name, runs }]);
    console.log('\nSQL statements per request by scale (must not grow with scale):');
    for (const [scenario, byScale] of Object.entries(statements)) console.log(`  ${scenario.padEnd(20)} ${JSON.stringify(byScale)}`);

    const file = `bench-results-${scale.name}.json`;
    // The comparison with the peer is run on its own (--peer): keep its figures.
    const peer = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { peer?: unknown }).peer : undefined;
    writeFileSync(
      file,
      JSON.stringify(
        {
          scale: scale.name,
          sizes: scale,
          at: new Date().toISOString(),
          machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
          runLength: length,
          clients,
          runs,
          targets,
          sharing,
          dashboard,
          peer,
        },
        null,
        2,
      ),
    );
    console.log(`\nWrote ${file}.`);
  } finally {
    if (server) await stopServer(server.child);
    await database.stop();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

export { formatRow };
