/**
 * `npm run bench:webhooks -- [--seconds 6] [--rounds 3] [--rate 1000] [--senders 1] [--receiver-nice 0]`
 * (builds the server, then `ts-node --swc test/bench/webhooks.ts`): webhook
 * dispatch beside ingestion, with each part in a process of its own as in a
 * deployment. The server is the compiled one (dist/src/main.js, as
 * `npm start` runs it, NODE_ENV=production, MULU_WORKERS at its default, one
 * worker per core, MULU_WEBHOOK_ALLOW_PRIVATE=1 for the local receiver); the
 * receiver (webhook-receiver.ts) verifies the signature of one POST in 10 (WEBHOOK_VERIFY_EVERY) in another process
 * (at the nice value `--receiver-nice`, default 0: it stands for a receiver on another machine, and a
 * nice value above 0 keeps it from taking the cores from the server, as it would not there);
 * this process sends the ingestion (ingestSupervisionRecords, 2,000-record
 * batches, `senders` one after another each, each batch on a new connection
 * so that the batches alternate between the workers) and writes `rate` events a
 * second straight into the outbox (transactions of 50, one statement each,
 * as a mutation's commit writes them), on an embedded PostgreSQL of its own
 * (or DATABASE_URL).
 *
 * Phases, after a warm-up of both (5 s of ingestion while events are
 * dispatched, then 5 s alone): `rounds` + 1 phases of ingestion alone and
 * `rounds` while events are written and dispatched, `seconds` each,
 * interleaved (alone, mixed, alone, ..., alone; each mixed phase's events
 * all delivered before the next phase starts); the slowdown is judged on the
 * medians, with the spread of each kind and each mixed phase against its
 * neighbours. Then the delivery of 10,000 queued events; an idle pause.
 * Each phase prints its throughput and the CPU seconds of every process
 * (the server's workers one by one, PostgreSQL, the receiver, this process)
 * and the server's peak RSS, with the load average: the machine is shared,
 * so the CPU seconds say what a phase costs when the wall clock says mostly
 * how busy the machine was. The figures also go to bench-results-webhooks.json.
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request as httpRequest } from 'node:http';
import { createInterface } from 'node:readline';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { creditCodeCheckCharacter } from '../../src/modules/departments/credit-code';
import { emitEvents, NotificationEventType } from '../../src/modules/notifications/notification-event';
import { createSqlPool } from '../../src/modules/notifications/sql-pool';
import { machineLoad } from './peer-postgraphile';
import { benchIdentities, startServer, stopServer } from './run';
import { cpuSeconds, peakRssMb, postgresCpuSeconds, resetPeakRss, serverProcesses } from './runner';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
/** Seconds of each measured phase. */
const SECONDS = arg('seconds', 6);
/** Mixed phases; one more alone phase than mixed ones, interleaved. */
const ROUNDS = arg('rounds', 3);
const RATE = arg('rate', 1000);
const SENDERS = arg('senders', 1);
const RECEIVER_NICE = arg('receiver-nice', 0);
const BATCH = 2000;
const EVENTS_PER_TX = 50;
const QUEUED = 10_000;
const IDLE_SECONDS = 5;
const WARM_UP_SECONDS = 5;
const RESULTS_FILE = 'bench-results-webhooks.json';
/** `--pg-statements`: PostgreSQL's time by statement over the run (pg_stat_statements; the embedded database only). */
const PG_STATEMENTS = process.argv.includes('--pg-statements');

/** Starts the receiver in a process of its own; resolves with its URL once it listens. */
async function startReceiver(secret: string): Promise<{ child: ChildProcess; url: string }> {
  const command = [process.execPath, require.resolve('ts-node/dist/bin'), '--swc', resolve(__dirname, 'webhook-receiver.ts')];
  // nice(1) execs the command in its own process: the pid stays the receiver's, every thread at the nice value.
  const [file, ...args] = RECEIVER_NICE > 0 ? ['nice', '-n', String(RECEIVER_NICE), ...command] : command;
  const child = spawn(file, args, {
    env: { ...process.env, WEBHOOK_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.once('exit', (code) => reject(new Error(`The receiver exited with code ${code}.`)));
    createInterface({ input: child.stdout! }).once('line', resolveUrl);
  });
  return { child, url };
}

interface Counts {
  received: number;
  unique: number;
  /** Signatures checked: one POST in WEBHOOK_VERIFY_EVERY (webhook-receiver.ts). */
  verified: number;
  badSignatures: number;
}

interface CpuReading {
  workers: Map<number, number>;
  postgres: number;
  receiver: number;
  bench: number;
}

interface PhaseCost {
  /** CPU seconds by process over the phase; `workers` by pid (the primary included, which serves nothing). */
  workers: { pid: number; seconds: number }[];
  server: number;
  postgres: number;
  receiver: number;
  bench: number;
  peakRssMb: number | null;
  load: string;
}

/** What was started, stopped on the way out whether the run succeeded or not. */
const started: { server?: ChildProcess; receiver?: ChildProcess; stopDb?: () => Promise<void>; dataDir?: string } = {};

async function cleanUp(): Promise<void> {
  if (started.server) await stopServer(started.server);
  started.receiver?.kill('SIGTERM');
  await started.stopDb?.();
  if (started.dataDir) rmSync(started.dataDir, { recursive: true, force: true });
}

async function main() {
  let url = process.env.DATABASE_URL;
  let postmaster: () => number | undefined = () => undefined;
  if (!url) {
    // .data/ is git-ignored and absent from a fresh clone.
    mkdirSync(resolve('.data'), { recursive: true });
    started.dataDir = mkdtempSync(join(resolve('.data'), 'bench-webhooks-'));
    const db = await startEmbeddedPostgres(started.dataDir, {
      supervise: false,
      settings: PG_STATEMENTS ? ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all'] : [],
    });
    started.stopDb = () => db.stop();
    url = db.url;
    postmaster = () => db.pid();
  }
  const secret = `whsec_${randomBytes(24).toString('base64url')}`;
  const receiver = await startReceiver(secret);
  started.receiver = receiver.child;
  const identities = await benchIdentities();
  const server = await startServer(url, { ...identities.env, MULU_WEBHOOK_ALLOW_PRIVATE: '1' });
  started.server = server.child;
  const serverPid = server.child.pid!;
  const db = createSqlPool(url, 2);
  const counts = async (): Promise<Counts> => (await fetch(receiver.url)).json() as Promise<Counts>;

  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: identities.authorization.write },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  /**
   * A request on a connection of its own (closed after the answer): the primary hands each new connection
   * to the next worker in turn, so the ingestion's batches alternate between the workers, the one that runs
   * the dispatcher included. On one kept-alive connection the whole ingestion went to whichever worker
   * accepted it, with or without the dispatcher beside it: a coin flip between runs.
   */
  const gqlOnNewConnection = (query: string, variables: Record<string, unknown>): Promise<any> => {
    const payload = JSON.stringify({ query, variables });
    return new Promise((resolveData, reject) => {
      const request = httpRequest(
        server.url,
        {
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: identities.authorization.write },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: any; errors?: unknown[] };
            if (body.errors) reject(new Error(JSON.stringify(body.errors)));
            else resolveData(body.data);
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
  };

  const cpu = (): CpuReading => {
    const pg = postmaster();
    return {
      workers: new Map(serverProcesses(serverPid).map((pid) => [pid, cpuSeconds(pid, true)])),
      postgres: pg ? postgresCpuSeconds(pg) : 0,
      receiver: cpuSeconds(receiver.child.pid!, true),
      bench: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    };
  };
  const phase = () => {
    resetPeakRss(serverPid);
    const start = cpu();
    return (): PhaseCost => {
      const end = cpu();
      const workers = [...end.workers].map(([pid, s]) => ({ pid, seconds: round2(s - (start.workers.get(pid) ?? 0)) }));
      return {
        workers,
        server: round2(workers.reduce((sum, w) => sum + w.seconds, 0)),
        postgres: round2(end.postgres - start.postgres),
        receiver: round2(end.receiver - start.receiver),
        bench: round2(end.bench - start.bench),
        peakRssMb: peakRssMb(serverPid),
        load: machineLoad(),
      };
    };
  };

  // A district with one department of 100 sub-items.
  const first17 = '114105050000000001';
  const code = first17.slice(0, 17) + creditCodeCheckCharacter(first17.slice(0, 17));
  for (const region of [
    { code: '410000', name: '河南省' },
    { code: '410500', name: '安阳市' },
    { code: '410505', name: '殷都区' },
  ]) {
    await gql(`mutation($i: CreateRegionInput!) { createRegion(input: $i) { code } }`, { i: region });
  }
  await gql(`mutation($i: CreateDepartmentInput!) { createDepartment(input: $i) { id } }`, {
    i: { creditCode: code, name: '殷都区市场监督管理局', regionCode: '410505' },
  });
  await gql(`mutation($i: CreateSupervisionMainItemInput!) { createSupervisionMainItem(input: $i) { __typename } }`, {
    i: { departmentCreditCode: code, code: 'M1', name: '主项', legalBasis: '《行政处罚法》' },
  });
  const subItems = Array.from({ length: 100 }, (_, i) => `S${i}`);
  for (const s of subItems) {
    await gql(`mutation($i: CreateSupervisionSubItemInput!) { createSupervisionSubItem(input: $i) { __typename } }`, {
      i: { departmentCreditCode: code, code: s, mainItemCode: 'M1', category: 'INSPECTION', name: s },
    });
  }
  await gql(`mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret } }`, {
    i: { url: receiver.url, events: ['DIRECTORY_PUBLISHED'], secret },
  });

  let batchNo = 0;
  const ingestFor = async (seconds: number) => {
    const end = Date.now() + seconds * 1000;
    const started = performance.now();
    let records = 0;
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (Date.now() < end) {
          const n = batchNo++;
          const batch = Array.from({ length: BATCH }, (_, i) => ({
            source: 'bench',
            externalId: `${n}-${i}`,
            subItemCode: subItems[(n + i) % subItems.length],
            occurredAt: '2026-11-01T08:00:00Z',
          }));
          const data = await gqlOnNewConnection(`mutation($input: IngestSupervisionRecordsInput!) { ingestSupervisionRecords(input: $input) { accepted } }`, {
            input: { departmentCreditCode: code, records: batch },
          });
          records += data.ingestSupervisionRecords.accepted;
        }
      }),
    );
    return records / ((performance.now() - started) / 1000);
  };

  // Events written at RATE per second, in transactions of EVENTS_PER_TX (DIRECTORY_PUBLISHED of the department); resolves with how many.
  let seq = 0;
  const writeEvents = (seconds: number): Promise<number> => {
    const end = Date.now() + seconds * 1000;
    const started = Date.now();
    let written = 0;
    return (async () => {
      while (Date.now() < end) {
        const due = Math.floor(((Date.now() - started) / 1000) * RATE) - written;
        if (due < EVENTS_PER_TX) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        const from = seq;
        seq += EVENTS_PER_TX;
        await db.transaction((execute) =>
          emitEvents(
            execute,
            Array.from({ length: EVENTS_PER_TX }, (_, i) => ({
              type: NotificationEventType.DIRECTORY_PUBLISHED,
              departments: [code],
              data: { directory: { code: `BENCH-${from + i}`, name: 'bench' }, department: { creditCode: code, name: '殷都区市场监督管理局' } },
            })),
          ),
        );
        written += EVENTS_PER_TX;
      }
      return written;
    })();
  };
  const waitForDeliveries = async (n: number) => {
    while ((await counts()).unique < n) await new Promise((r) => setTimeout(r, 20));
  };

  const log = (line: string) => console.log(`${line} (load average ${machineLoad()})`);
  log(
    `Server pid ${serverPid} (workers ${serverProcesses(serverPid).slice(1).join(', ')}), receiver pid ${receiver.child.pid}${RECEIVER_NICE > 0 ? ` at nice ${RECEIVER_NICE}` : ''}, ${SENDERS} sender(s)`,
  );
  // Both paths warmed as they will be measured: the ingestion, and the dispatch of events written meanwhile
  // (without it the dispatcher's first seconds, its code not yet optimised, fall in a mixed phase).
  log(`Warm-up: ingestion while ${RATE} events/s are written and dispatched (${WARM_UP_SECONDS} s), then alone (${WARM_UP_SECONDS} s) ...`);
  const warmUpStart = (await counts()).unique;
  const warmUpEvents = writeEvents(WARM_UP_SECONDS);
  await ingestFor(WARM_UP_SECONDS);
  await waitForDeliveries(warmUpStart + (await warmUpEvents));
  await ingestFor(WARM_UP_SECONDS);

  // Alone and mixed phases interleaved, alone first and last (A M A M ... A): a drift of the machine or of
  // the database over the run (tables growing, caches warming, another process) falls on both kinds alike,
  // which one alone phase before and one after did not ensure (they once differed by 11 %).
  const alone: { recordsPerSecond: number; cost: PhaseCost }[] = [];
  const mixed: { recordsPerSecond: number; cost: PhaseCost; written: number; deliveredDuring: number; drainMs: number }[] = [];
  const runAlone = async () => {
    const done = phase();
    const recordsPerSecond = await ingestFor(SECONDS);
    const cost = done();
    alone.push({ recordsPerSecond, cost });
    log(`  alone ${alone.length}: ${recordsPerSecond.toFixed(0)} records/s; server ${cost.server} s, PostgreSQL ${cost.postgres} s CPU`);
  };
  const runMixed = async () => {
    const atStart = (await counts()).unique;
    const done = phase();
    const writing = writeEvents(SECONDS);
    const recordsPerSecond = await ingestFor(SECONDS);
    const written = await writing;
    const cost = done();
    const deliveredDuring = (await counts()).unique - atStart;
    // Every event of the phase delivered before the next alone phase starts, the time that takes not counted.
    const drainStart = performance.now();
    await waitForDeliveries(atStart + written);
    const drainMs = performance.now() - drainStart;
    mixed.push({ recordsPerSecond, cost, written, deliveredDuring, drainMs });
    log(
      `  mixed ${mixed.length}: ${recordsPerSecond.toFixed(0)} records/s while ${written} events were written and ${deliveredDuring} delivered` +
        ` (the rest within ${drainMs.toFixed(0)} ms); server ${cost.server} s, PostgreSQL ${cost.postgres} s, receiver ${cost.receiver} s CPU`,
    );
  };
  log(`${ROUNDS + 1} phases of ingestion alone and ${ROUNDS} while ${RATE} events/s are written and dispatched, ${SECONDS} s each, interleaved ...`);
  for (let round = 0; round < ROUNDS; round++) {
    await runAlone();
    await runMixed();
  }
  await runAlone();

  // Dispatch alone: QUEUED events queued at once (the queueing not timed), time to deliver them all.
  log(`Dispatch alone: ${QUEUED} events queued at once ...`);
  const mark = (await counts()).unique;
  for (let i = 0; i < QUEUED; i += 500) {
    await db.transaction((execute) =>
      emitEvents(
        execute,
        Array.from({ length: 500 }, (_, j) => ({ type: NotificationEventType.DIRECTORY_PUBLISHED, departments: [code], data: { n: i + j } })),
      ),
    );
  }
  let done = phase();
  const burstStart = performance.now();
  await waitForDeliveries(mark + QUEUED);
  const burstSeconds = (performance.now() - burstStart) / 1000;
  const burstCost = done();

  // Idle: nothing queued, nothing sent; what the dispatcher's waiting costs.
  await new Promise((r) => setTimeout(r, 1000));
  done = phase();
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const idleCost = done();

  // Results are recorded in batches: give the last one a moment before counting.
  await new Promise((r) => setTimeout(r, 500));
  const [{ n: notSucceeded }] = await db.execute(`select count(*)::int as n from webhook_delivery where status <> 'SUCCEEDED'`);
  const final = await counts();
  // How the delivery rows were rewritten: a heap-only (HOT) update adds no index entries.
  const [table] = await db.execute(
    `select n_tup_ins::int as inserts, n_tup_upd::int as updates, n_tup_hot_upd::int as "hotUpdates",
            pg_relation_size('webhook_delivery')::bigint / 1024 as "heapKb", pg_indexes_size('webhook_delivery')::bigint / 1024 as "indexKb"
       from pg_stat_user_tables where relname = 'webhook_delivery'`,
  );
  let statements: { query: string; calls: number; ms: number; rows: number }[] = [];
  if (PG_STATEMENTS) {
    await db.execute(`create extension if not exists pg_stat_statements`);
    statements = await db.execute(
      `select left(regexp_replace(query, '\\s+', ' ', 'g'), 160) as query, calls::int, round(total_exec_time)::int as ms, rows::int
         from pg_stat_statements order by total_exec_time desc limit 15`,
    );
  }

  const aloneRates = alone.map((p) => p.recordsPerSecond);
  const mixedRates = mixed.map((p) => p.recordsPerSecond);
  const aloneMedian = median(aloneRates);
  const mixedMedian = median(mixedRates);
  const slowdown = (mixedMedian - aloneMedian) / aloneMedian;
  // Each mixed phase against the mean of the alone phases on either side of it.
  const paired = mixed.map((m, i) => (m.recordsPerSecond - (aloneRates[i] + aloneRates[i + 1]) / 2) / ((aloneRates[i] + aloneRates[i + 1]) / 2));
  const spread = (xs: number[]) => (Math.max(...xs) - Math.min(...xs)) / median(xs);
  const written = mixed.reduce((sum, m) => sum + m.written, 0);
  const deliveredDuring = mixed.reduce((sum, m) => sum + m.deliveredDuring, 0);
  const mixedSeconds = SECONDS * mixed.length;
  const meanCost = (phases: { cost: PhaseCost }[], key: 'server' | 'postgres' | 'receiver' | 'bench') =>
    phases.reduce((sum, p) => sum + p.cost[key], 0) / phases.length;
  // The CPU the events added to a phase of ingestion: the mean mixed phase less the mean alone one.
  const extra = (key: 'server' | 'postgres' | 'receiver' | 'bench') => meanCost(mixed, key) - meanCost(alone, key);
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const cost = (c: PhaseCost) =>
    `server ${c.server} s (${c.workers.map((w) => `${w.pid}: ${w.seconds}`).join(', ')}), PostgreSQL ${c.postgres} s, receiver ${c.receiver} s, bench ${c.bench} s; server peak RSS ${c.peakRssMb} MB; load ${c.load}`;
  const perEvent = (c: PhaseCost, events: number) =>
    `${((c.server * 1000) / events).toFixed(3)} ms server + ${((c.postgres * 1000) / events).toFixed(3)} ms PostgreSQL + ${((c.receiver * 1000) / events).toFixed(3)} ms receiver`;
  const rates = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
  console.log(`
| measure | value |
| --- | --- |
| ingestion alone, ${alone.length} phases in order | ${rates(aloneRates)} records/s (median ${aloneMedian.toFixed(0)}, spread ${pct(spread(aloneRates))}) |
| ingestion while dispatching, ${mixed.length} phases in order | ${rates(mixedRates)} records/s (median ${mixedMedian.toFixed(0)}, spread ${pct(spread(mixedRates))}) |
| **ingestion while dispatching vs alone (medians)** | **${pct(slowdown)}** |
| each mixed phase vs the alone phases on either side | ${paired.map(pct).join(', ')} (median ${pct(median(paired))}) |
| events written during the mixed phases | ${written} in ${mixedSeconds} s (${(written / mixedSeconds).toFixed(0)}/s) |
| delivered during those phases | ${deliveredDuring} (${(deliveredDuring / mixedSeconds).toFixed(0)}/s); the rest within ${Math.max(...mixed.map((m) => m.drainMs)).toFixed(0)} ms after each |
| dispatch alone: ${QUEUED} queued events delivered | in ${burstSeconds.toFixed(2)} s (${(QUEUED / burstSeconds).toFixed(0)}/s) at 10 concurrent |
| dispatch alone, CPU a delivery | ${perEvent(burstCost, QUEUED)} |
| CPU the events added to a ${SECONDS} s phase of ingestion (mean mixed - mean alone) | server ${extra('server').toFixed(2)} s, PostgreSQL ${extra('postgres').toFixed(2)} s, receiver ${extra('receiver').toFixed(2)} s, event writer (bench) ${extra('bench').toFixed(2)} s |
| deliveries not SUCCEEDED at the end | ${notSucceeded} |
| POSTs received (includes at-least-once repeats) | ${final.received} for ${final.unique} events; ${final.verified} signatures verified (1 POST in ${process.env.WEBHOOK_VERIFY_EVERY ?? 10}), ${final.badSignatures} bad |
| webhook_delivery rows written, updates (of them heap-only), size | ${table.inserts}, ${table.updates} (${table.hotUpdates} HOT), heap ${table.heapKb} kB, indexes ${table.indexKb} kB |

CPU seconds by phase:
${[...alone.map((p, i) => ({ name: `ingestion alone ${i + 1}`, ...p })), ...mixed.map((p, i) => ({ name: `ingestion while dispatching ${i + 1}`, ...p }))]
  .map((p) => `- ${p.name} (${SECONDS} s, ${p.recordsPerSecond.toFixed(0)} records/s): ${cost(p.cost)}`)
  .join('\n')}
- dispatch alone (${burstSeconds.toFixed(1)} s): ${cost(burstCost)}
- idle (${IDLE_SECONDS} s): ${cost(idleCost)}
${statements.length > 0 ? `\nPostgreSQL time by statement over the whole run (pg_stat_statements):\n${statements.map((st) => `- ${st.ms} ms, ${st.calls} calls, ${st.rows} rows: ${st.query}`).join('\n')}\n` : ''}`);
  writeFileSync(
    RESULTS_FILE,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        options: { seconds: SECONDS, rounds: ROUNDS, rate: RATE, senders: SENDERS, receiverNice: RECEIVER_NICE },
        ingestion: {
          alone: aloneRates.map(Math.round),
          mixed: mixedRates.map(Math.round),
          aloneMedian: Math.round(aloneMedian),
          mixedMedian: Math.round(mixedMedian),
          slowdownOfMedians: round4(slowdown),
          slowdownPaired: paired.map(round4),
          aloneSpread: round4(spread(aloneRates)),
          mixedSpread: round4(spread(mixedRates)),
        },
        dispatch: {
          writtenPerSecond: Math.round(written / mixedSeconds),
          deliveredPerSecondDuring: Math.round(deliveredDuring / mixedSeconds),
          drainMs: mixed.map((m) => Math.round(m.drainMs)),
          burst: { events: QUEUED, seconds: round2(burstSeconds), perSecond: Math.round(QUEUED / burstSeconds) },
          cpuMsPerDelivery: {
            server: round4((burstCost.server * 1000) / QUEUED),
            postgres: round4((burstCost.postgres * 1000) / QUEUED),
            receiver: round4((burstCost.receiver * 1000) / QUEUED),
          },
          notSucceeded,
          received: final.received,
          unique: final.unique,
          verified: final.verified,
          badSignatures: final.badSignatures,
          deliveryTable: table,
        },
        statements,
        phases: {
          alone: alone.map((p) => ({ recordsPerSecond: Math.round(p.recordsPerSecond), ...p.cost })),
          mixed: mixed.map((p) => ({ recordsPerSecond: Math.round(p.recordsPerSecond), written: p.written, deliveredDuring: p.deliveredDuring, ...p.cost })),
          burst: burstCost,
          idle: idleCost,
        },
      },
      null,
      2,
    ),
  );
  console.log(`Figures written to ${RESULTS_FILE}.`);
  await db.close();
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round4 = (x: number) => Math.round(x * 10000) / 10000;
const round2 = (x: number) => Math.round(x * 100) / 100;

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanUp());
