import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../src/db/embedded-postgres';
import { RESPONSE_CACHE_HEADER } from '../../src/graphql/response-cache';
import { differences } from './answers';
import { peerReads, type PeerRead } from './peer-answers';
import { summarise, type LatencySummary } from './runner';
import type { TargetCheck } from './targets';

/**
 * `npm run bench -- --peer postgraphile`: PostGraphile 4 (test/bench/peer,
 * a package of its own since it needs graphql 15) on the database Mulu
 * reads, in a Node process of its own. Both answers of each read scenario are
 * checked equal field by field first (peer-answers.ts); then Mulu and the
 * peer are driven in alternating slices by the same closed-loop clients, so
 * that the machine's load, which other work on these 2 shared cores moves,
 * falls on both alike.
 */

const PEER_DIR = resolve(__dirname, 'peer');

export interface PeerServer {
  child: ChildProcess;
  url: string;
}

/** Installs the peer's pinned packages (test/bench/peer/package-lock.json) when they are missing. */
export function installPeer(log: (line: string) => void = console.log): void {
  if (existsSync(join(PEER_DIR, 'node_modules', 'postgraphile'))) return;
  log('Installing the peer (PostGraphile 4, test/bench/peer) with npm ci...');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefix', PEER_DIR], { stdio: 'inherit' });
}

/** Starts PostGraphile on `databaseUrl` on a free port; resolves once its schema is built and it answers. */
export async function startPeer(databaseUrl: string, log: (line: string) => void = console.log): Promise<PeerServer> {
  installPeer(log);
  const port = await freePort();
  const child = spawn(process.execPath, [join(PEER_DIR, 'server.cjs')], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk) => log(`  [peer] ${String(chunk).trimEnd()}`));
  child.stderr!.on('data', (chunk) => log(`  [peer] ${String(chunk).trimEnd()}`));
  const url = `http://127.0.0.1:${port}/graphql`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`PostGraphile exited with code ${child.exitCode}.`);
    try {
      // The schema is built on the first GraphQL request; /health only says the port is open.
      const { status } = await postOnce(url, '{"query":"{ __typename }"}', {});
      if (status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('PostGraphile did not answer within 120 s.');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, url };
}

export async function stopPeer(peer: PeerServer): Promise<void> {
  if (peer.child.exitCode !== null) return;
  const exited = new Promise((r) => peer.child.once('exit', r));
  peer.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
  clearTimeout(timer);
  if (peer.child.exitCode === null) peer.child.kill('SIGKILL');
}

/** One POST on a connection of its own, closed afterwards (nothing left open for a test runner to wait for). */
function postOnce(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolvePost, reject) => {
    const request = httpRequest(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolvePost({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function post(url: string, body: unknown, headers: Record<string, string>): Promise<any> {
  const { status, text } = await postOnce(url, JSON.stringify(body), headers);
  if (status < 200 || status >= 300) throw new Error(`HTTP ${status} from ${url}: ${text.slice(0, 300)}`);
  const parsed = JSON.parse(text);
  if (parsed.errors?.length) throw new Error(`GraphQL errors from ${url}: ${JSON.stringify(parsed.errors).slice(0, 300)}`);
  return parsed.data;
}

/**
 * Asks Mulu (computed afresh) and the peer each read and compares the
 * answers field by field: the problems per read, empty when every answer
 * agrees. Nothing is timed until this is empty.
 */
export async function compareWithPeer(
  mulu: { url: string; authorization: string },
  peerUrl: string,
  reads: PeerRead[] = peerReads,
): Promise<{ read: string; problems: string[]; bytes: { mulu: number; peer: number } }[]> {
  const results = [];
  for (const read of reads) {
    const muluData = await post(
      mulu.url,
      { query: read.scenario.query, variables: read.scenario.variables },
      { authorization: mulu.authorization, 'cache-control': 'no-cache' },
    );
    const peerData = await post(peerUrl, read.peer, {});
    const empty = read.scenario.check(muluData);
    const problems = empty ? [`Mulu: ${empty}`] : differences(read.fromMulu(muluData), read.fromPeer(peerData, new Date()));
    results.push({ read: read.scenario.name, problems, bytes: { mulu: JSON.stringify(muluData).length, peer: JSON.stringify(peerData).length } });
  }
  return results;
}

/** Clock ticks per second of /proc/<pid>/stat's times. */
let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU time (user + system, ms) of a process and every process below it
 * (cluster workers, PostgreSQL's backends under the postmaster), the ended
 * ones included, from /proc/<pid>/stat; null off Linux.
 */
export function processTreeCpuMs(pid: number): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command (which may hold spaces), from field 3 (state): ppid is field 4, utime 14, stime 15,
      // and cutime 16, cstime 17: the children it has reaped (a backend that closed), so their time is not lost.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(entry), Number(fields[1]));
      cpu.set(Number(entry), Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]));
    } catch {
      // the process ended meanwhile
    }
  }
  if (!cpu.has(pid)) return null;
  let ticks = 0;
  for (const [p, t] of cpu) {
    for (let q: number | undefined = p; q !== undefined && q > 1; q = parent.get(q)) {
      if (q === pid) {
        ticks += t;
        break;
      }
    }
  }
  return (ticks * 1000) / ticksPerSecond();
}

/** The postmaster's pid of a local PostgreSQL (its data folder's postmaster.pid), for its CPU; null when not readable. */
export async function postmasterPid(query: (sql: string) => Promise<{ rows: any[] }>): Promise<number | null> {
  try {
    const { rows } = await query(`select current_setting('data_directory') as dir`);
    const pid = Number(readFileSync(join(rows[0].dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** One side (Mulu or the peer) of one compared run, summed over its slices. */
export interface PeerSide {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: LatencySummary;
  errors: number;
  errorSamples: string[];
  /** Node CPU (the server process and its children) per request, ms. */
  nodeCpuMsPerRequest: number | null;
  /** PostgreSQL CPU (postmaster and backends) per request, ms, while this side ran. */
  postgresCpuMsPerRequest: number | null;
  /** Mulu only: answers from its response cache among all. */
  cacheHits?: number;
}

export interface PeerRun {
  read: string;
  /** computed: Mulu with `Cache-Control: no-cache`; served: Mulu's response cache may answer. The peer has no cache: it computes both. */
  mode: 'computed' | 'served';
  clients: number;
  mulu: PeerSide;
  peer: PeerSide;
  /** Mulu's requests per second over the peer's. */
  ratio: number;
}

interface Side {
  url: URL;
  headers: Record<string, string>;
  body: string;
  pid: number;
  tally: { latencies: number[]; errors: number; samples: string[]; hits: number; seconds: number; nodeCpuMs: number; postgresCpuMs: number };
}

function newSide(url: string, headers: Record<string, string>, body: unknown, pid: number): Side {
  const text = JSON.stringify(body);
  return {
    url: new URL(url),
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers },
    body: text,
    pid,
    tally: { latencies: [], errors: 0, samples: [], hits: 0, seconds: 0, nodeCpuMs: 0, postgresCpuMs: 0 },
  };
}

/** One request; resolves with its status, whether the answer has an `errors` key, and whether Mulu's cache answered it. */
function send(side: Side, agent: Agent): Promise<{ status: number; body: string; hit: boolean }> {
  return new Promise((resolveRequest, reject) => {
    const request = httpRequest(side.url, { method: 'POST', agent, headers: side.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolveRequest({
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          hit: response.headers[RESPONSE_CACHE_HEADER] === 'HIT',
        }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(side.body);
  });
}

/**
 * One slice: `clients` closed-loop clients (each sends its next request when
 * its last is answered) until `seconds` have passed or `requests` are sent,
 * every answer scanned for errors. A slice ends when its last answer
 * arrives: cutting answers in flight would drop them from the count while
 * their CPU still counted. Its connections (keep-alive, one per client)
 * close with it: one left idle while the other side's slice runs could be
 * closed by the server just as it is used again.
 */
async function slice(side: Side, clients: number, length: { seconds: number } | { requests: number }, postgresPid: number | null): Promise<void> {
  const tally = side.tally;
  const sample = (text: string) => {
    if (tally.samples.length < 5) tally.samples.push(text.slice(0, 300));
  };
  const cpu0 = processTreeCpuMs(side.pid);
  const pg0 = postgresPid ? processTreeCpuMs(postgresPid) : null;
  const start = performance.now();
  const deadline = 'seconds' in length ? start + length.seconds * 1000 : Infinity;
  let remaining = 'requests' in length ? Math.max(length.requests, clients) : Infinity;
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline && remaining-- > 0) {
        const t0 = performance.now();
        try {
          const { status, body, hit } = await send(side, agent);
          tally.latencies.push(performance.now() - t0);
          if (hit) tally.hits++;
          if (status < 200 || status >= 300 || body.includes('"errors"')) {
            tally.errors++;
            sample(`HTTP ${status}: ${body}`);
          }
        } catch (error) {
          tally.errors++;
          sample(`request error: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }),
  );
  tally.seconds += (performance.now() - start) / 1000;
  agent.destroy();
  const cpu1 = processTreeCpuMs(side.pid);
  const pg1 = postgresPid ? processTreeCpuMs(postgresPid) : null;
  if (cpu0 !== null && cpu1 !== null) tally.nodeCpuMs += cpu1 - cpu0;
  if (pg0 !== null && pg1 !== null) tally.postgresCpuMs += pg1 - pg0;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function figures(side: Side, withCache: boolean): PeerSide {
  const t = side.tally;
  const requests = t.latencies.length;
  return {
    requests,
    seconds: round2(t.seconds),
    requestsPerSecond: round2(requests / Math.max(t.seconds, 1e-9)),
    latencyMs: summarise(t.latencies),
    errors: t.errors,
    errorSamples: t.samples,
    nodeCpuMsPerRequest: requests ? round2(t.nodeCpuMs / requests) : null,
    postgresCpuMsPerRequest: requests && t.postgresCpuMs ? round2(t.postgresCpuMs / requests) : null,
    ...(withCache ? { cacheHits: t.hits } : {}),
  };
}

export interface PeerOptions {
  mulu: { url: string; pid: number; authorization: string };
  peer: { url: string; pid: number };
  /** The postmaster, for PostgreSQL's CPU per request; null to leave it out. */
  postgresPid: number | null;
  clients: number[];
  /** Measured time per side and run: seconds (in slices of `sliceSeconds`), or requests (smoke runs, one slice). */
  length: { seconds: number; sliceSeconds: number } | { requests: number };
  warmupRequests: number;
  reads?: PeerRead[];
  modes?: PeerRun['mode'][];
  log?: (line: string) => void;
}

/**
 * Each read, computed then served, at each concurrency: a warm-up of each
 * side, then slices alternating Mulu, peer, Mulu, peer... (the order of the
 * pair swapping every slice) until each side has had its time.
 */
export async function runPeerComparison(options: PeerOptions): Promise<PeerRun[]> {
  const log = options.log ?? (() => {});
  const runs: PeerRun[] = [];
  for (const read of options.reads ?? peerReads) {
    for (const mode of options.modes ?? (['computed', 'served'] as const)) {
      const muluHeaders: Record<string, string> = {
        authorization: options.mulu.authorization,
        ...(mode === 'computed' ? { 'cache-control': 'no-cache' } : {}),
      };
      const muluBody = { query: read.scenario.query, variables: read.scenario.variables };
      for (const clients of options.clients) {
        const mulu = newSide(options.mulu.url, muluHeaders, muluBody, options.mulu.pid);
        const peer = newSide(options.peer.url, {}, read.peer, options.peer.pid);
        for (const side of [mulu, peer]) {
          const warm = { ...side, tally: { ...side.tally, latencies: [], samples: [] } };
          if (options.warmupRequests > 0) await slice(warm, clients, { requests: options.warmupRequests }, null);
        }
        if ('requests' in options.length) {
          await slice(mulu, clients, options.length, options.postgresPid);
          await slice(peer, clients, options.length, options.postgresPid);
        } else {
          const slices = Math.max(1, Math.round(options.length.seconds / options.length.sliceSeconds));
          for (let i = 0; i < slices; i++) {
            for (const side of i % 2 === 0 ? [mulu, peer] : [peer, mulu])
              await slice(side, clients, { seconds: options.length.sliceSeconds }, options.postgresPid);
          }
        }
        const run: PeerRun = { read: read.scenario.name, mode, clients, mulu: figures(mulu, true), peer: figures(peer, false), ratio: 0 };
        run.ratio = round2(run.mulu.requestsPerSecond / Math.max(run.peer.requestsPerSecond, 1e-9));
        runs.push(run);
        log(formatPeerRow(run));
      }
    }
  }
  return runs;
}

const fmt = (x: number | null | undefined, digits = 1) => (x == null || Number.isNaN(x) ? '-' : x.toFixed(digits));

export const PEER_TABLE_HEADER = [
  'read'.padEnd(20),
  'answers'.padEnd(9),
  'cl'.padStart(3),
  'Mulu r/s'.padStart(9),
  'PG r/s'.padStart(9),
  'ratio'.padStart(6),
  'Mulu p95'.padStart(9),
  'PG p95'.padStart(8),
  'Node CPU ms/req M / PG'.padStart(23),
  'pg CPU ms/req M / PG'.padStart(21),
  'err'.padStart(4),
  '  Mulu cache hits',
].join(' ');

/** One line of the side-by-side table (PG: PostGraphile; latencies in ms). */
export function formatPeerRow(run: PeerRun): string {
  return [
    run.read.padEnd(20),
    run.mode.padEnd(9),
    String(run.clients).padStart(3),
    fmt(run.mulu.requestsPerSecond).padStart(9),
    fmt(run.peer.requestsPerSecond).padStart(9),
    fmt(run.ratio, 2).padStart(6),
    fmt(run.mulu.latencyMs.p95).padStart(9),
    fmt(run.peer.latencyMs.p95).padStart(8),
    `${fmt(run.mulu.nodeCpuMsPerRequest, 2)} / ${fmt(run.peer.nodeCpuMsPerRequest, 2)}`.padStart(23),
    `${fmt(run.mulu.postgresCpuMsPerRequest, 2)} / ${fmt(run.peer.postgresCpuMsPerRequest, 2)}`.padStart(21),
    String(run.mulu.errors + run.peer.errors).padStart(4),
    `  ${run.mulu.cacheHits}/${run.mulu.requests}`,
  ].join(' ');
}

/**
 * The targets of issue 16 against the peer, per read: computed answers at
 * least 1.5 times the peer's requests per second at 10 clients and at least
 * equal at 1; Node CPU per computed request at most the peer's; served
 * answers at least 4 times the peer's. A run with errors misses.
 */
export function checkPeerTargets(runs: PeerRun[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const clean = (run: PeerRun) => run.mulu.errors + run.peer.errors === 0;
  const find = (read: string, mode: PeerRun['mode'], clients: number) => runs.find((r) => r.read === read && r.mode === mode && r.clients === clients);
  for (const read of [...new Set(runs.map((r) => r.read))]) {
    for (const [clients, least] of [
      [10, 1.5],
      [1, 1],
    ] as const) {
      const run = find(read, 'computed', clients);
      checks.push({
        target: `${read}, computed, ${clients} client${clients === 1 ? '' : 's'}: Mulu req/s >= ${least} x PostGraphile's`,
        measured: run ? `${run.ratio} (${run.mulu.requestsPerSecond} / ${run.peer.requestsPerSecond} req/s)` : 'not run',
        met: run ? run.ratio >= least && clean(run) : null,
      });
    }
    const computed = runs.filter((r) => r.read === read && r.mode === 'computed');
    checks.push({
      target: `${read}, computed: Node CPU per request <= PostGraphile's`,
      measured: computed.length
        ? computed.map((r) => `${r.mulu.nodeCpuMsPerRequest ?? '-'} / ${r.peer.nodeCpuMsPerRequest ?? '-'} ms at ${r.clients}`).join(', ')
        : 'not run',
      met:
        computed.length && computed.every((r) => r.mulu.nodeCpuMsPerRequest !== null && r.peer.nodeCpuMsPerRequest !== null)
          ? computed.every((r) => r.mulu.nodeCpuMsPerRequest! <= r.peer.nodeCpuMsPerRequest! && clean(r))
          : null,
    });
    const served = runs.filter((r) => r.read === read && r.mode === 'served');
    checks.push({
      target: `${read}, served: Mulu req/s >= 4 x PostGraphile's`,
      measured: served.length ? served.map((r) => `${r.ratio} at ${r.clients}`).join(', ') : 'not run',
      met: served.length ? served.every((r) => r.ratio >= 4 && clean(r)) : null,
    });
  }
  return checks;
}

/** The 1-, 5- and 15-minute load averages, to print beside every figure taken on a shared machine. */
export function machineLoad(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');
}
