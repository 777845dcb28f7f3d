import autocannon from 'autocannon';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { Pool } from 'pg';
import { SQL_STATEMENTS_HEADER } from '../../src/graphql/sql-statement-count';
import { RESPONSE_CACHE_HEADER } from '../../src/graphql/response-cache';
import type { ReadScenario, Scenario } from './scenarios';

/** How long each measured run lasts: seconds, or a number of requests (smoke runs). */
export type RunLength = { seconds: number } | { requests: number };

export interface BenchOptions {
  /** The GraphQL endpoint, on 127.0.0.1. */
  url: string;
  /** The server process, for its peak RSS (VmHWM; its largest process, workers included). */
  serverPid: number;
  databaseUrl: string;
  /** Authorization header values: reads as a dashboard viewer, writes as an upstream system. */
  authorization: { read: string; write: string };
  scenarios: Scenario[];
  clients: number[];
  length: RunLength;
  /** Length of write scenarios' runs when different (smoke runs keep them short). */
  writeLength?: RunLength;
  /** Requests sent before each scenario's measured runs, not counted (at most 2 for write scenarios). */
  warmupRequests: number;
  log?: (line: string) => void;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

export interface RunFigures {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: LatencySummary;
}

export interface ScenarioRun extends RunFigures {
  scenario: string;
  clients: number;
  errors: { total: number; http: number; graphql: number; transport: number; check: number; samples: string[] };
  /** SQL statements per computed answer (every write; a read the response cache did not answer), from the x-mulu-sql-statements header. */
  sqlStatements: { min: number; max: number; mean: number } | null;
  /** SQL statements per read the response cache answered (its snapshot check). */
  sqlStatementsWhenCached: { min: number; max: number; mean: number } | null;
  /** Read scenarios: how many answers came from the response cache (x-mulu-response-cache: HIT) and how many were computed. */
  cache: { hits: number; misses: number } | null;
  /** Peak RSS of the server during this run (VmHWM, reset before the run when the kernel allows). */
  serverPeakRssMb: number | null;
  /** Write scenarios: units (e.g. records) per second. */
  unitsPerSecond?: number;
  unit?: string;
  /** Read scenarios: the same figures from one SQL statement at the same concurrency. */
  floor?: RunFigures;
  /**
   * Read scenarios: answers compared row by row with the floor (the first
   * and every 20th; during ingestion, one computed answer once the writers
   * stopped). A difference counts as a check error.
   */
  floorChecked?: number;
  /** API latency over floor latency (p50 and p95). */
  ratioToFloor?: { p50: number; p95: number };
  /** Write scenarios: the invariant check after the run ("ok" or the problem). */
  verified?: string;
  /** Reads with writes alongside: what the writers did meanwhile. */
  alongside?: { clients: number; requests: number; unitsPerSecond: number; unit: string; errors: number; verified: string };
}

export function summarise(latencies: number[]): LatencySummary {
  if (latencies.length === 0) return { p50: NaN, p95: NaN, p99: NaN, mean: NaN, max: NaN };
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    p50: round(at(50)),
    p95: round(at(95)),
    p99: round(at(99)),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    max: round(sorted[sorted.length - 1]),
  };
}

/**
 * The server's Node processes: the one started and, with MULU_WORKERS above
 * 1, the workers it forked (its children running Node; an embedded
 * PostgreSQL started by the server is not one of them).
 */
export function serverProcesses(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // not Linux, or gone
  }
  const isNode = (child: number) => {
    try {
      return /(^|\/)node$/.test(readlinkSync(`/proc/${child}/exe`));
    } catch {
      return false;
    }
  };
  return [pid, ...children.filter(isNode)];
}

/** CPU seconds a process used (user + system; with `children`, also its reaped children's), from /proc (100 ticks a second); 0 when gone. */
export function cpuSeconds(pid: number, children = false): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
    return ticks / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of the server: its process and its workers' (MULU_WORKERS), each with the children it reaped. */
export function serverCpuSeconds(pid: number): number {
  return serverProcesses(pid).reduce((sum, each) => sum + cpuSeconds(each, true), 0);
}

/** CPU seconds of a PostgreSQL server on this machine: the postmaster, its reaped children and its live ones (backends, WAL writer, checkpointer). */
export function postgresCpuSeconds(postmasterPid: number): number {
  let total = cpuSeconds(postmasterPid, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ');
      if (Number(fields[1]) === postmasterPid) total += cpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** A memory figure of /proc/PID/status (VmRSS: resident now; VmHWM: peak since start or the last reset) in MB; null when unknown. */
function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/** Resident set size now (`VmRSS`) or at its peak (`VmHWM`) of each of the server's processes, in MB by pid (Linux /proc). */
export function rssMbByProcess(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): Map<number, number> {
  const each = new Map<number, number>();
  for (const one of serverProcesses(pid)) {
    const mb = statusMb(one, field);
    if (mb !== null) each.set(one, mb);
  }
  return each;
}

/** Peak resident set size in MB (Linux /proc, VmHWM) of the server's largest process (the limit is per process); null when unknown. */
export function peakRssMb(pid: number): number | null {
  const known = [...rssMbByProcess(pid, 'VmHWM').values()];
  return known.length > 0 ? Math.max(...known) : null;
}

/** Resets the peak RSS of the server's processes to their current RSS (writing 5 to clear_refs); false when not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    for (const each of serverProcesses(pid)) writeFileSync(`/proc/${each}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

interface Tally {
  latencies: number[];
  http: number;
  graphql: number;
  transport: number;
  check: number;
  samples: string[];
  sql: number[];
  sqlOnHits: number[];
  hits: number;
  misses: number;
  /** Responses seen, for sampling the full checks. */
  responses: number;
  /** Answers compared with the floor, and comparisons still running (a difference is looked at again on a fresh floor). */
  floorChecked: number;
  pending: Promise<void>[];
}

/**
 * The floor's rows for comparing answers with, taken before the run (nothing
 * is written during a read run); `fresh` takes them again, for an answer that
 * differs: the clock may have turned a directory stale meanwhile.
 */
interface FloorCheck {
  rows: any[];
  fresh(): Promise<any[]>;
}

function newTally(): Tally {
  return {
    latencies: [],
    http: 0,
    graphql: 0,
    transport: 0,
    check: 0,
    samples: [],
    sql: [],
    sqlOnHits: [],
    hits: 0,
    misses: 0,
    responses: 0,
    floorChecked: 0,
    pending: [],
  };
}

function sample(tally: Tally, text: string): void {
  if (tally.samples.length < 5) tally.samples.push(text.slice(0, 300));
}

/**
 * Read responses parsed and checked in full (JSON, the scenario's own check):
 * the first and then every 20th. Every response is still scanned for
 * GraphQL errors. Parsing every 195 KB province dashboard in the
 * benchmark's own process took CPU from the server it measures (they share
 * the 2 cores), so the measurement slowed what it measured.
 */
const FULL_CHECK_EVERY = 20;

/** Inspects one response: HTTP status, GraphQL errors, the scenario's own check, every row against the floor, the statement count. */
function inspect(tally: Tally, scenario: Scenario, status: number, body: string, headers: Record<string, unknown>, floor?: FloorCheck): void {
  const sql = Number(headers[SQL_STATEMENTS_HEADER]);
  const cached = headers[RESPONSE_CACHE_HEADER] === 'HIT';
  if (cached) tally.hits++;
  else if (headers[RESPONSE_CACHE_HEADER] === 'MISS') tally.misses++;
  if (Number.isFinite(sql) && headers[SQL_STATEMENTS_HEADER] !== undefined) (cached ? tally.sqlOnHits : tally.sql).push(sql);
  if (status < 200 || status >= 300) {
    tally.http++;
    sample(tally, `HTTP ${status}: ${body}`);
    return;
  }
  const n = tally.responses++;
  // A response with a top-level "errors" key holds that text; one without it and off the sample is done.
  if (scenario.kind === 'read' && n % FULL_CHECK_EVERY !== 0 && !body.includes('"errors"')) return;
  let parsed: { data?: unknown; errors?: unknown[] };
  try {
    parsed = JSON.parse(body);
  } catch {
    tally.graphql++;
    sample(tally, `not JSON: ${body}`);
    return;
  }
  if (parsed.errors?.length) {
    tally.graphql++;
    sample(tally, JSON.stringify(parsed.errors));
    return;
  }
  const problem = scenario.check(parsed.data);
  if (problem) {
    tally.check++;
    sample(tally, problem);
    return;
  }
  if (scenario.kind !== 'read' || !floor) return;
  tally.floorChecked++;
  if (scenario.compare(parsed.data, floor.rows) === null) return;
  tally.pending.push(
    floor.fresh().then((rows) => {
      const again = scenario.compare(parsed.data, rows);
      if (again === null) floor.rows = rows;
      else {
        tally.check++;
        sample(tally, `differs from the floor: ${again}`);
      }
    }),
  );
}

/** Drives the API with autocannon: `clients` connections, each sending its next request when the last one is answered. */
async function driveApi(
  options: BenchOptions,
  scenario: Scenario,
  clients: number,
  length: RunLength,
  firstRequest: { n: number },
  floor?: FloorCheck,
): Promise<{ figures: RunFigures; tally: Tally }> {
  const tally = newTally();
  const request: autocannon.Request = {
    method: 'POST',
    path: new URL(options.url).pathname,
    headers: {
      'content-type': 'application/json',
      authorization: scenario.kind === 'read' ? options.authorization.read : options.authorization.write,
      ...(scenario.kind === 'read' ? scenario.headers : {}),
    },
    onResponse: (status: number, body: string, _context: unknown, headers: Record<string, unknown>) =>
      inspect(tally, scenario, status, body, headers ?? {}, floor),
  } as autocannon.Request;
  if (scenario.kind === 'read') {
    request.body = JSON.stringify({ query: scenario.query, variables: scenario.variables });
  } else {
    request.setupRequest = (req) => ({ ...req, body: JSON.stringify(scenario.body(firstRequest.n++)) });
  }
  const start = performance.now();
  const { instance, done } = startAutocannon({
    url: options.url,
    connections: clients,
    pipelining: 1,
    timeout: 120,
    ...('seconds' in length ? { duration: length.seconds } : { amount: Math.max(length.requests, clients) }),
    requests: [request],
  });
  instance.on('response', (_client, _status, _bytes, responseTime) => tally.latencies.push(responseTime));
  instance.on('reqError', (error) => {
    tally.transport++;
    sample(tally, `request error: ${error.message}`);
  });
  const result = await done;
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(tally.pending);
  tally.transport = Math.max(tally.transport, result.errors);
  const requests = tally.latencies.length;
  return {
    figures: {
      requests,
      seconds: round2(seconds),
      requestsPerSecond: round2(requests / Math.max(result.duration, 1e-9)),
      latencyMs: summarise(tally.latencies),
    },
    tally,
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

const spread = (values: number[]) =>
  values.length ? { min: Math.min(...values), max: Math.max(...values), mean: round2(values.reduce((a, b) => a + b, 0) / values.length) } : null;

/** The floor's rows now, for comparing answers with (FloorCheck). */
async function floorCheck(pool: Pool, scenario: ReadScenario): Promise<FloorCheck> {
  const fresh = async () => (await pool.query(scenario.floor.sql, scenario.floor.params)).rows;
  return { rows: await fresh(), fresh };
}

/** The floor: the scenario's hand-written statement, sent by `clients` connections in a closed loop. */
async function driveFloor(pool: Pool, scenario: ReadScenario, clients: number, length: RunLength): Promise<RunFigures> {
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = 'seconds' in length ? start + length.seconds * 1000 : Infinity;
  let remaining = 'requests' in length ? Math.max(length.requests, clients) : Infinity;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = await pool.connect();
      try {
        while (performance.now() < deadline && remaining-- > 0) {
          const t0 = performance.now();
          const result = await client.query(scenario.floor.sql, scenario.floor.params);
          latencies.push(performance.now() - t0);
          if (result.rowCount === 0) throw new Error(`The floor of "${scenario.name}" returned no rows.`);
        }
      } finally {
        client.release();
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { requests: latencies.length, seconds: round2(seconds), requestsPerSecond: round2(latencies.length / seconds), latencyMs: summarise(latencies) };
}

/**
 * Runs every scenario at every concurrency: a warm-up, the API run, and for
 * read scenarios the floor at the same concurrency; write scenarios are
 * verified after their runs.
 */
export async function runBenchmark(options: BenchOptions): Promise<ScenarioRun[]> {
  const log = options.log ?? (() => {});
  const pool = new Pool({ connectionString: options.databaseUrl, max: Math.max(...options.clients) });
  pool.on('error', (error) => log(`[floor pool] ${error.message}`));
  const runs: ScenarioRun[] = [];
  try {
    for (const scenario of options.scenarios) {
      const counter = { n: 0 };
      if (scenario.kind === 'write') await scenario.prepare(options.databaseUrl);
      const alongside = scenario.kind === 'read' ? scenario.alongside : undefined;
      if (alongside) await alongside.write.prepare(options.databaseUrl);
      const alongsideCounter = { n: 0 };
      const length = scenario.kind === 'write' ? (options.writeLength ?? options.length) : options.length;
      const warmup = scenario.kind === 'write' ? Math.min(options.warmupRequests, 2) : options.warmupRequests;
      if (warmup > 0) {
        await driveApi(options, scenario, 1, { requests: warmup }, counter);
        if (scenario.kind === 'read') await driveFloor(pool, scenario, 1, { requests: warmup });
      }
      for (const clients of options.clients) {
        const rssReset = resetPeakRss(options.serverPid);
        const writes = alongside ? driveApi(options, alongside.write, alongside.clients, options.writeLength ?? length, alongsideCounter) : undefined;
        // Writers change the figures under a run with writes alongside: its answers are compared once they stopped.
        const floor = scenario.kind === 'read' && !alongside ? await floorCheck(pool, scenario) : undefined;
        const { figures, tally } = await driveApi(options, scenario, clients, length, counter, floor);
        const written = await writes;
        if (scenario.kind === 'read' && alongside) {
          const once: ReadScenario = { ...scenario, alongside: undefined, headers: { ...scenario.headers, 'cache-control': 'no-cache' } };
          const after = await driveApi(options, once, 1, { requests: 1 }, { n: 0 }, await floorCheck(pool, scenario));
          tally.floorChecked += after.tally.floorChecked;
          tally.check += after.tally.check + after.tally.http + after.tally.graphql + after.tally.transport;
          for (const text of after.tally.samples) sample(tally, text);
        }
        const run: ScenarioRun = {
          scenario: scenario.name,
          clients,
          ...figures,
          errors: {
            total: tally.http + tally.graphql + tally.transport + tally.check,
            http: tally.http,
            graphql: tally.graphql,
            transport: tally.transport,
            check: tally.check,
            samples: tally.samples,
          },
          sqlStatements: spread(tally.sql),
          sqlStatementsWhenCached: spread(tally.sqlOnHits),
          cache: scenario.kind === 'read' ? { hits: tally.hits, misses: tally.misses } : null,
          ...(scenario.kind === 'read' ? { floorChecked: tally.floorChecked } : {}),
          serverPeakRssMb: peakRssMb(options.serverPid),
        };
        if (!rssReset && runs.length === 0) log('  (cannot reset VmHWM here: peak RSS is the lifetime peak so far)');
        if (alongside && written) {
          const w = written.tally;
          run.alongside = {
            clients: alongside.clients,
            requests: written.figures.requests,
            unitsPerSecond: Math.round(written.figures.requestsPerSecond * alongside.write.unitsPerRequest),
            unit: alongside.write.unit,
            errors: w.http + w.graphql + w.transport + w.check,
            verified: (await alongside.write.verify(options.databaseUrl)) ?? 'ok',
          };
        }
        if (scenario.kind === 'read') {
          run.floor = await driveFloor(pool, scenario, clients, options.length);
          run.ratioToFloor = { p50: round2(run.latencyMs.p50 / run.floor.latencyMs.p50), p95: round2(run.latencyMs.p95 / run.floor.latencyMs.p95) };
        } else {
          run.unit = scenario.unit;
          run.unitsPerSecond = Math.round(run.requestsPerSecond * scenario.unitsPerRequest);
          run.verified = (await scenario.verify(options.databaseUrl)) ?? 'ok';
        }
        runs.push(run);
        log(formatRow(run));
      }
    }
  } finally {
    await pool.end();
  }
  return runs;
}

const fmt = (x: number | undefined | null, digits = 1) => (x == null || Number.isNaN(x) ? '-' : x.toFixed(digits));

export const TABLE_HEADER = [
  'scenario'.padEnd(30),
  'cl'.padStart(3),
  'req/s'.padStart(8),
  'p50'.padStart(8),
  'p95'.padStart(8),
  'p99'.padStart(8),
  'err'.padStart(5),
  'sql/req'.padStart(8),
  'floor p50'.padStart(10),
  'floor p95'.padStart(10),
  'ratio'.padStart(6),
  'RSS MB'.padStart(7),
  '  other',
].join(' ');

/** One line of the printed table (latencies in ms). */
export function formatRow(run: ScenarioRun): string {
  const range = (s: ScenarioRun['sqlStatements']) => (s ? (s.min === s.max ? String(s.min) : `${s.min}-${s.max}`) : '-');
  const sql = run.sqlStatementsWhenCached ? `${range(run.sqlStatements)}/${range(run.sqlStatementsWhenCached)}` : range(run.sqlStatements);
  const cache = run.cache
    ? `cache hits ${run.cache.hits}/${run.cache.hits + run.cache.misses}, ${run.floorChecked ?? 0} answers compared with the floor row by row`
    : '';
  const writes = run.alongside
    ? `; ${run.alongside.unitsPerSecond} ${run.alongside.unit}/s ingested alongside, ${run.alongside.errors} errors, ${run.alongside.verified}`
    : '';
  const other = run.unitsPerSecond !== undefined ? `${run.unitsPerSecond} ${run.unit}/s, ${run.verified}` : cache + writes;
  return [
    run.scenario.padEnd(30),
    String(run.clients).padStart(3),
    fmt(run.requestsPerSecond).padStart(8),
    fmt(run.latencyMs.p50).padStart(8),
    fmt(run.latencyMs.p95).padStart(8),
    fmt(run.latencyMs.p99).padStart(8),
    String(run.errors.total).padStart(5),
    sql.padStart(8),
    fmt(run.floor?.latencyMs.p50, 2).padStart(10),
    fmt(run.floor?.latencyMs.p95, 2).padStart(10),
    fmt(run.ratioToFloor?.p50, 2).padStart(6),
    String(run.serverPeakRssMb ?? '-').padStart(7),
    `  ${other}`,
  ].join(' ');
}

/** Starts an autocannon run: the instance (for its events) and its result, or its error as an Error. */
export function startAutocannon(options: autocannon.Options): { instance: autocannon.Instance; done: Promise<autocannon.Result> } {
  let instance!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolveRun, reject) => {
    instance = autocannon(options, (error, result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolveRun(result)));
  });
  return { instance, done };
}
