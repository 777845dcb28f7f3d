import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Client as UndiciClient } from 'undici';
import { numericIdOf } from '../../src/graphql/global-id';
import { creditCodeCheckCharacter } from '../../src/modules/departments/credit-code';
import { encodeRowCursor } from '../../src/modules/sharing/delivery.service';
import type { Client } from 'pg';
import { connect } from './database';
import { peakRssMb as serverPeakRssMb, postgresCpuSeconds, resetPeakRss, serverCpuSeconds, startAutocannon, summarise } from './runner';

/**
 * Data sharing scenarios (issue 13), run by `npm run bench -- --scale S --sharing`
 * (or `--only sharing`): a hosted dataset of ROWS rows is loaded through
 * POST /mounts/{id}/rows as streamed CSV, then a granted consumer reads pages
 * of 100 rows at 10 clients (each page after a random row, by keyset, as a
 * client paging through the whole dataset would ask) and exports the whole
 * dataset as CSV, while the server's peak memory is watched (reset before
 * each phase). The machine is shared: the 1-minute load average is recorded
 * with each figure.
 */
export const SHARING_ROWS = 1_000_000;

export interface SharingResult {
  rows: number;
  /** `loadAverage`: the 1-minute load average before and after the phase (2 cores). */
  /** null with `reuse`: an earlier run's dataset was paged and exported, nothing loaded. */
  load: { seconds: number; rowsPerSecond: number; peakRssMb: number; loadAverage: [number, number]; cpu: PhaseCpu } | null;
  /** `{ __typename }` as the consumer, as the pages are asked: the floor of any request on this machine. */
  floor: RequestPhase;
  /** 10 clients in a closed loop (each asks its next page when its last is answered): the machine saturated, latency = clients / throughput. */
  page: RequestPhase;
  /** One client in a closed loop: a page's latency on an otherwise idle server. */
  pageOneClient: RequestPhase;
  /** 10 clients, each asking a page every 100 ms (100 pages a second in all, below saturation): latency under a stated load. */
  pagePaced: RequestPhase;
  /** null with `pagesOnly`. */
  export: { seconds: number; rowsPerSecond: number; bytes: number; peakRssMb: number; loadAverage: [number, number]; cpu: PhaseCpu } | null;
  /**
   * After the last page: how long until the usage fold had counted every
   * delivery of the run (directory_usage against the access log), and
   * whether the counts then agreed.
   */
  usage: { foldedAfterMs: number; requestsLogged: number; requestsCounted: number };
  /** The largest of the three phases. */
  peakRssMb: number;
  /** `vacuum (analyze)` of the dataset's partition after the load, before the pages. */
  vacuumSeconds: number;
  /** Growth of dataset_row (heap, TOAST and primary key index) by the load (null with `reuse`). */
  tableMb: number | null;
  bytesPerRow: number | null;
}

/** Requests of one kind from `clients` clients, in a closed loop or each at `ratePerClient` requests a second. */
export interface RequestPhase {
  clients: number;
  /** null: closed loop (each client asks again as soon as it is answered). */
  ratePerClient: number | null;
  requests: number;
  requestsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  peakRssMb: number;
  loadAverage: [number, number];
  cpu: PhaseCpu;
  /** CPU milliseconds a request, of the server (all its workers) and of PostgreSQL. */
  cpuMsPerRequest: { server: number; postgres: number };
}

/**
 * CPU seconds of a phase, of the API server and of PostgreSQL: on a shared
 * machine they say what a phase costs when the wall-clock time says mostly
 * how busy the machine was.
 */
export interface PhaseCpu {
  serverSeconds: number;
  postgresSeconds: number;
}

const ITEMS = [
  { name: '姓名', dataType: '字符型', required: true },
  { name: '身份证号', dataType: '字符型' },
  { name: '年龄', dataType: '整数型' },
  { name: '补助金额', dataType: '数值型' },
  { name: '发放日期', dataType: '日期型' },
  { name: '在册', dataType: '布尔型' },
];

/** A valid credit code for the benchmark's own departments. */
function creditCode(n: number): string {
  const first17 = `11410505${String(900_000_000 + n)}`;
  return first17 + creditCodeCheckCharacter(first17);
}

/** Peak resident memory (VmHWM) of the server's largest process, workers included, in MB. */
const peakRssMb = (pid: number): number => serverPeakRssMb(pid) ?? NaN;

/** CPU used during a phase by the API server and by PostgreSQL (0 for PostgreSQL when it runs elsewhere). */
function cpuMeter(serverPid: number, postmasterPid: number | null) {
  const read = () => ({ server: serverCpuSeconds(serverPid), postgres: postmasterPid ? postgresCpuSeconds(postmasterPid) : 0 });
  const start = read();
  return () => {
    const end = read();
    return { serverSeconds: Number((end.server - start.server).toFixed(2)), postgresSeconds: Number((end.postgres - start.postgres).toFixed(2)) };
  };
}

const load1 = () => Number(loadavg()[0].toFixed(2));

function* csvLines(rows: number): Generator<string> {
  yield '姓名,身份证号,年龄,补助金额,发放日期,在册\n';
  let chunk = '';
  for (let i = 1; i <= rows; i++) {
    chunk += `居民${i},410505${String(19_500_101_0000 + i).slice(0, 12)},${18 + (i % 70)},${(i % 5000) + 0.5},2024-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')},${i % 3 === 0 ? '否' : '是'}\n`;
    if (chunk.length > 1 << 16) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** The newest dataset of `rows` rows an earlier run loaded, with the credit code of a department granted it. */
async function earlierDataset(db: Client, rows: number): Promise<{ code: string; version: number; consumer: string } | null> {
  const { rows: found } = await db.query(
    `select d.code, m.dataset_version as version, c.credit_code as consumer
       from resource_directory d
       join mount m on m.directory_id = d.id and m.hosted and m.active and m.record_count = $1
       join subscription_request s on s.directory_id = d.id and s.status = 'GRANTED' and s.granted_items is null
       join department c on c.id = s.requester_id
      where d.code like 'BENCH-SHARE-%' and d.status = 'PUBLISHED'
      order by d.id desc limit 1`,
    [rows],
  );
  return (found[0] as { code: string; version: number; consumer: string } | undefined) ?? null;
}

export async function runSharingBench(options: {
  url: string;
  serverPid: number;
  databaseUrl: string;
  adminAuthorization: string;
  /** Signs a steward token of a department. */
  stewardToken: (creditCode: string) => Promise<string>;
  rows?: number;
  seconds: number;
  /**
   * Page and export the newest dataset of ROWS rows an earlier run loaded
   * (with its granted consumer) instead of loading a new one: for
   * measuring the page and the export again without a minute of loading.
   */
  reuse?: boolean;
  /** Only the floor and the pages: no export. */
  pagesOnly?: boolean;
  log: (line: string) => void;
}): Promise<SharingResult> {
  const rows = options.rows ?? SHARING_ROWS;
  const base = options.url.replace(/\/graphql$/, '');
  const gql = async (query: string, variables: Record<string, unknown> = {}, authorization = options.adminAuthorization) => {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data;
  };
  const db = await connect(options.databaseUrl);
  const dataDirectory = (await db.query(`select current_setting('data_directory') as dir`)).rows[0].dir as string;
  let postmasterPid: number | null = null;
  try {
    postmasterPid = Number(readFileSync(`${dataDirectory}/postmaster.pid`, 'utf8').split('\n')[0]);
  } catch {
    // PostgreSQL on another machine or user: its CPU is not measured
  }
  const region = (await db.query(`select code from region order by length(code) desc, code limit 1`)).rows[0]?.code as string | undefined;
  const rowTableBytes = async () =>
    Number(
      (
        await db.query(
          `select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as bytes from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'dataset_row'::regclass`,
        )
      ).rows[0].bytes,
    );
  if (!region) {
    await db.end();
    throw new Error('The database has no region.');
  }
  const earlier = options.reuse ? await earlierDataset(db, rows) : null;
  if (options.reuse && !earlier) {
    await db.end();
    throw new Error(`--reuse: no earlier benchmark dataset of ${rows} rows with a granted consumer; run once without it.`);
  }
  // The table's growth is the dataset's size (earlier runs' datasets stay in it).
  const bytesBefore = await rowTableBytes();
  let code: string;
  let consumerAuth: string;
  let version: number;
  let loadResult: SharingResult['load'] = null;
  let vacuumSeconds = 0;
  if (earlier) {
    ({ code, version } = earlier);
    consumerAuth = `Bearer ${await options.stewardToken(earlier.consumer)}`;
    options.log(`  reusing ${code} (${rows.toLocaleString('en')} rows, version ${version}): nothing loaded`);
  } else {
    const loaded = await loadDataset();
    ({ code, consumerAuth, version, loadResult, vacuumSeconds } = loaded);
  }

  async function loadDataset() {
    const stamp = Date.now().toString(36);
    const provider = creditCode(Number.parseInt(stamp.slice(-5), 36) % 100_000);
    const consumer = creditCode((Number.parseInt(stamp.slice(-5), 36) % 100_000) + 100_000);
    await gql(
      `mutation($a: CreateDepartmentInput!, $b: CreateDepartmentInput!) { a: createDepartment(input: $a) { id } b: createDepartment(input: $b) { id } }`,
      {
        a: { creditCode: provider, name: `基准提供部门 ${stamp}`, regionCode: region },
        b: { creditCode: consumer, name: `基准使用部门 ${stamp}`, regionCode: region },
      },
    );
    const code = `BENCH-SHARE-${stamp}`;
    await gql(`mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { id } }`, {
      input: {
        code,
        name: '低保发放明细（基准）',
        departmentCreditCode: provider,
        resourceFormat: 'DATABASE',
        shareType: 'UNCONDITIONAL',
        updateCycle: 'MONTHLY',
        informationItems: ITEMS,
      },
    });
    await gql(`mutation($code: String!) { publishDirectory(input: { directory: { code: $code } }) { status } }`, { code });
    const mountId = (
      await gql(`mutation($code: String!) { mountDataset(input: { directory: { code: $code }, kind: TABLE, locator: "hosted", hosted: true }) { id } }`, {
        code,
      })
    ).mountDataset.id as string;
    const consumerAuth = `Bearer ${await options.stewardToken(consumer)}`;
    await gql(`mutation($code: String!) { requestSubscription(input: { directory: { code: $code }, purpose: "基准" }) { status } }`, { code }, consumerAuth);

    options.log(`  loading ${rows.toLocaleString('en')} rows as streamed CSV through POST /mounts/{id}/rows (load average ${load1()}) ...`);
    resetPeakRss(options.serverPid);
    const loadBefore = load1();
    const loadCpu = cpuMeter(options.serverPid, postmasterPid);
    const started = performance.now();
    const response = await fetch(`${base}/mounts/${mountId}/rows?mode=replace`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: options.adminAuthorization },
      body: Readable.toWeb(Readable.from(csvLines(rows))) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const loaded = (await response.json()) as { recordCount?: number; version?: number; error?: unknown };
    const loadSeconds = (performance.now() - started) / 1000;
    if (loaded.recordCount !== rows) throw new Error(`The load failed: ${JSON.stringify(loaded)}`);
    const loadResult = {
      seconds: Number(loadSeconds.toFixed(2)),
      rowsPerSecond: Math.round(rows / loadSeconds),
      peakRssMb: peakRssMb(options.serverPid),
      loadAverage: [loadBefore, load1()] as [number, number],
      cpu: loadCpu(),
    };
    options.log(
      `  load: ${loadSeconds.toFixed(1)} s, ${loadResult.rowsPerSecond.toLocaleString('en')} rows/s, server peak RSS ${loadResult.peakRssMb} MB, CPU server ${loadResult.cpu.serverSeconds} s + PostgreSQL ${loadResult.cpu.postgresSeconds} s (load average ${loadResult.loadAverage.join(' -> ')})`,
    );

    // Autovacuum would process the new rows during the next phase: vacuum them first, so the pages are measured on their own.
    const vacuumStarted = performance.now();
    const partition = (await db.query(`select tableoid::regclass::text as name from dataset_row where mount_id = $1 limit 1`, [numericIdOf(mountId, 'Mount')]))
      .rows[0]?.name as string | undefined;
    if (partition) await db.query(`vacuum (analyze) ${partition}`);
    const vacuumSeconds = Number(((performance.now() - vacuumStarted) / 1000).toFixed(1));
    options.log(`  vacuum (analyze) ${partition ?? 'dataset_row (partition not found)'}: ${vacuumSeconds} s`);
    return { code, consumerAuth, version: loaded.version!, loadResult, vacuumSeconds };
  }

  // Each request asks for the 100 rows after a random row of the current version.
  const document = `query($code: String!, $after: String) { directory(code: $code) { rows(first: 100, after: $after) { edges { node { rowNumber values } } } } }`;
  const pageBody = () => JSON.stringify({ query: document, variables: { code, after: encodeRowCursor(version, Math.floor(Math.random() * (rows - 100))) } });
  /**
   * `clients` clients (10 unless given) for the run's seconds, each request's body from `body`: latencies, errors, CPU a request.
   * In a closed loop unless `ratePerClient` is given: then each client asks that many times a second, evenly
   * (pacedClients).
   */
  const closedLoop = async (label: string, body: () => string, shape: { clients?: number; ratePerClient?: number } = {}): Promise<RequestPhase> => {
    const clients = shape.clients ?? 10;
    resetPeakRss(options.serverPid);
    const before = load1();
    const cpu = cpuMeter(options.serverPid, postmasterPid);
    const latencies: number[] = [];
    let graphqlErrors = 0;
    let transportErrors = 0;
    if (shape.ratePerClient) {
      ({ graphqlErrors, transportErrors } = await pacedClients(options.url, consumerAuth, body, clients, shape.ratePerClient, options.seconds, latencies));
    } else {
      const { instance, done } = startAutocannon({
        url: options.url,
        connections: clients,
        pipelining: 1,
        duration: options.seconds,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: consumerAuth },
            setupRequest: (request: autocannon.Request) => ({ ...request, body: body() }),
            onResponse: (status: number, text: string) => {
              if (status !== 200 || text.includes('"errors"')) graphqlErrors++;
            },
          } as autocannon.Request,
        ],
      });
      instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
      transportErrors = (await done).errors;
    }
    const summary = summarise(latencies);
    const used = cpu();
    const perRequest = (seconds: number) => Number(((seconds * 1000) / Math.max(1, latencies.length)).toFixed(1));
    const phase: RequestPhase = {
      clients,
      ratePerClient: shape.ratePerClient ?? null,
      requests: latencies.length,
      requestsPerSecond: Math.round(latencies.length / options.seconds),
      p50: summary.p50,
      p95: summary.p95,
      p99: summary.p99,
      errors: transportErrors + graphqlErrors,
      peakRssMb: peakRssMb(options.serverPid),
      loadAverage: [before, load1()],
      cpu: used,
      cpuMsPerRequest: { server: perRequest(used.serverSeconds), postgres: perRequest(used.postgresSeconds) },
    };
    options.log(
      `  ${label}, ${clients} client${clients === 1 ? '' : 's'}${shape.ratePerClient ? ` at ${shape.ratePerClient}/s each` : ''}: ${phase.requests} requests (${phase.requestsPerSecond}/s), p50 ${phase.p50} ms, p95 ${phase.p95} ms, p99 ${phase.p99} ms, errors ${phase.errors}, server peak RSS ${phase.peakRssMb} MB, CPU a request server ${phase.cpuMsPerRequest.server} ms + PostgreSQL ${phase.cpuMsPerRequest.postgres} ms (load average ${phase.loadAverage.join(' -> ')})`,
    );
    return phase;
  };
  // The floor: what an authenticated request that reads nothing costs on this machine, server, HTTP and load generator together.
  const floor = await closedLoop('floor, { __typename } as the consumer', () => '{"query":"{ __typename }"}');
  const pageResult = await closedLoop('page of 100 rows', pageBody);
  const pageOneClient = await closedLoop('page of 100 rows', pageBody, { clients: 1 });
  const pagePaced = await closedLoop('page of 100 rows', pageBody, { clients: 10, ratePerClient: 10 });

  // Deliveries only append to the log; the server's fold counts them (about every second): wait for it, and check it counted each once.
  const directoryId = numericIdOf((await gql(`query($code: String!) { directory(code: $code) { id } }`, { code })).directory.id, 'ResourceDirectory');
  const usageCounts = async () =>
    (
      await db.query(
        `select (select count(*) from dataset_access where directory_id = $1 and consumer_id is not null)::int as logged,
              coalesce((select requests from directory_usage where directory_id = $1), 0)::int as counted`,
        [directoryId],
      )
    ).rows[0] as { logged: number; counted: number };
  const foldWait = performance.now();
  let counts = await usageCounts();
  while (counts.counted !== counts.logged && performance.now() - foldWait < 30_000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    counts = await usageCounts();
  }
  const usage = { foldedAfterMs: Math.round(performance.now() - foldWait), requestsLogged: counts.logged, requestsCounted: counts.counted };
  options.log(`  usage: ${usage.requestsCounted} of ${usage.requestsLogged} logged deliveries counted ${usage.foldedAfterMs} ms after the last page`);

  let exportResult: SharingResult['export'] = null;
  if (!options.pagesOnly) {
    resetPeakRss(options.serverPid);
    const exportBefore = load1();
    const exportCpu = cpuMeter(options.serverPid, postmasterPid);
    const exportStarted = performance.now();
    const csv = await fetch(`${base}/directories/${encodeURIComponent(code)}/rows.csv`, { headers: { authorization: consumerAuth } });
    let bytes = 0;
    for await (const chunk of csv.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
    const exportSeconds = (performance.now() - exportStarted) / 1000;
    if (csv.status !== 200) throw new Error(`The export failed with HTTP ${csv.status}.`);
    exportResult = {
      seconds: Number(exportSeconds.toFixed(2)),
      rowsPerSecond: Math.round(rows / exportSeconds),
      bytes,
      peakRssMb: peakRssMb(options.serverPid),
      loadAverage: [exportBefore, load1()] as [number, number],
      cpu: exportCpu(),
    };
    options.log(
      `  CSV export: ${exportSeconds.toFixed(1)} s, ${exportResult.rowsPerSecond.toLocaleString('en')} rows/s, ${(bytes / 2 ** 20).toFixed(0)} MB, server peak RSS ${exportResult.peakRssMb} MB, CPU server ${exportResult.cpu.serverSeconds} s + PostgreSQL ${exportResult.cpu.postgresSeconds} s (load average ${exportResult.loadAverage.join(' -> ')})`,
    );
  }

  const size = (await rowTableBytes()) - bytesBefore;
  await db.end();
  const result: SharingResult = {
    rows,
    load: loadResult,
    floor,
    page: pageResult,
    pageOneClient,
    pagePaced,
    export: exportResult,
    usage,
    peakRssMb: Math.max(
      loadResult?.peakRssMb ?? 0,
      floor.peakRssMb,
      pageResult.peakRssMb,
      pageOneClient.peakRssMb,
      pagePaced.peakRssMb,
      exportResult?.peakRssMb ?? 0,
    ),
    vacuumSeconds,
    tableMb: loadResult ? Math.round(size / 2 ** 20) : null,
    bytesPerRow: loadResult ? Math.round(size / rows) : null,
  };
  if (loadResult) {
    options.log(
      `  server peak RSS ${result.peakRssMb} MB (largest phase); dataset_row grew ${result.tableMb} MB with its index (${result.bytesPerRow} bytes a row)`,
    );
  }
  options.log(
    `  targets: load >= 50,000 rows/s ${loadResult ? (loadResult.rowsPerSecond >= 50_000 ? 'met' : 'MISSED') : 'not run'}; page p95 < 20 ms at 10 clients, closed loop ${pageResult.p95 < 20 && pageResult.errors === 0 ? 'met' : 'MISSED'} (${pageResult.p95} ms), at 10 clients asking 10 pages a second each ${pagePaced.p95 < 20 && pagePaced.errors === 0 ? 'met' : 'MISSED'} (${pagePaced.p95} ms); export >= 100,000 rows/s ${exportResult ? (exportResult.rowsPerSecond >= 100_000 ? 'met' : 'MISSED') : 'not run'}; peak RSS < 400 MB ${result.peakRssMb < 400 ? 'met' : 'MISSED'}`,
  );
  return result;
}

/**
 * `clients` clients, each on a kept-alive connection of its own, each asking
 * `ratePerClient` times a second, evenly, for `seconds` (each starting at a
 * random moment of its first interval, as independent users do): the
 * latency of every request (sent to last byte read) goes into `latencies`.
 * A client whose answer takes longer than its interval asks again as soon
 * as it has it, and that request's latency counts from when it was due. (autocannon's `connectionRate` is not this: each connection
 * sends its quota of the second back to back as soon as the second starts,
 * all connections at once, so "10 clients at 10 a second" measured ten
 * bursts of a closed loop every second.)
 */
async function pacedClients(
  url: string,
  authorization: string,
  body: () => string,
  clients: number,
  ratePerClient: number,
  seconds: number,
  latencies: number[],
): Promise<{ graphqlErrors: number; transportErrors: number }> {
  const interval = 1000 / ratePerClient;
  const end = performance.now() + seconds * 1000;
  let graphqlErrors = 0;
  let transportErrors = 0;
  const client = async () => {
    const connection = new UndiciClient(new URL(url).origin, { pipelining: 1 });
    try {
      let next = performance.now() + Math.random() * interval;
      let previousEnd = 0;
      while (next < end) {
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        // From the moment the client meant to ask when its previous answer kept it waiting (that wait is the
        // server's), else from when it asked (a timer firing late is the load generator's, not the server's).
        const started = previousEnd > next ? next : performance.now();
        try {
          const response = await connection.request({
            path: new URL(url).pathname,
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization },
            body: body(),
          });
          const text = await response.body.text();
          previousEnd = performance.now();
          latencies.push(previousEnd - started);
          if (response.statusCode !== 200 || text.includes('"errors"')) graphqlErrors++;
        } catch {
          transportErrors++;
        }
        next += interval;
      }
    } finally {
      await connection.close();
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return { graphqlErrors, transportErrors };
}
