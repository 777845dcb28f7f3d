/**
 * `npm run bench:webhooks -- [--seconds 20] [--rate 1000] [--senders 1]`
 * (builds the server, then `ts-node --swc test/bench/webhooks.ts`): webhook
 * dispatch beside ingestion, with each part in a process of its own as in a
 * deployment. The server is the compiled one (dist/src/main.js, as
 * `npm start` runs it, NODE_ENV=production, MULU_WORKERS at its default, one
 * worker per core, MULU_WEBHOOK_ALLOW_PRIVATE=1 for the local receiver); the
 * receiver (webhook-receiver.ts) verifies each signature in another process;
 * this process sends the ingestion (ingestSupervisionRecords, 2,000-record
 * batches, `senders` one after another each) and writes `rate` events a
 * second straight into the outbox (transactions of 50, one statement each,
 * as a mutation's commit writes them), on an embedded PostgreSQL of its own
 * (or DATABASE_URL).
 *
 * Phases, after a warm-up of both (5 s of ingestion while events are
 * dispatched): ingestion alone, then while events are written and dispatched,
 * then alone again; the delivery of 10,000 queued events; an idle pause.
 * Each phase prints its throughput and the CPU seconds of every process
 * (the server's workers one by one, PostgreSQL, the receiver, this process)
 * and the server's peak RSS, with the load average: the machine is shared,
 * so the CPU seconds say what a phase costs when the wall clock says mostly
 * how busy the machine was.
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
const SECONDS = arg('seconds', 20);
const RATE = arg('rate', 1000);
const SENDERS = arg('senders', 1);
const BATCH = 2000;
const EVENTS_PER_TX = 50;
const QUEUED = 10_000;
const IDLE_SECONDS = 5;

/** Starts the receiver in a process of its own; resolves with its URL once it listens. */
async function startReceiver(secret: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [require.resolve('ts-node/dist/bin'), '--swc', resolve(__dirname, 'webhook-receiver.ts')], {
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
    const db = await startEmbeddedPostgres(started.dataDir, { supervise: false });
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
          const data = await gql(`mutation($input: IngestSupervisionRecordsInput!) { ingestSupervisionRecords(input: $input) { accepted } }`, {
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
  log(`Server pid ${serverPid} (workers ${serverProcesses(serverPid).slice(1).join(', ')}), receiver pid ${receiver.child.pid}, ${SENDERS} sender(s)`);
  // Both paths warmed as they will be measured: the ingestion, and the dispatch of events written meanwhile
  // (without it the dispatcher's first seconds, its code not yet optimised, fall in the mixed phase).
  log(`Warm-up: ingestion while ${RATE} events/s are written and dispatched (5 s) ...`);
  const warmUpStart = (await counts()).unique;
  const warmUpEvents = writeEvents(5);
  await ingestFor(5);
  await waitForDeliveries(warmUpStart + (await warmUpEvents));

  log(`Ingestion alone (${SECONDS} s) ...`);
  let done = phase();
  const before = await ingestFor(SECONDS);
  const beforeCost = done();

  log(`Ingestion while ${RATE} events/s are written and dispatched (${SECONDS} s) ...`);
  const atStart = await counts();
  done = phase();
  const writing = writeEvents(SECONDS);
  const during = await ingestFor(SECONDS);
  const written = await writing;
  const duringCost = done();
  const deliveredDuring = (await counts()).unique - atStart.unique;
  const drainStart = performance.now();
  await waitForDeliveries(atStart.unique + written);
  const drainMs = performance.now() - drainStart;

  log(`Ingestion alone again (${SECONDS} s) ...`);
  done = phase();
  const after = await ingestFor(SECONDS);
  const afterCost = done();

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
  done = phase();
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

  const baseline = (before + after) / 2;
  const cost = (c: PhaseCost) =>
    `server ${c.server} s (${c.workers.map((w) => `${w.pid}: ${w.seconds}`).join(', ')}), PostgreSQL ${c.postgres} s, receiver ${c.receiver} s, bench ${c.bench} s; server peak RSS ${c.peakRssMb} MB; load ${c.load}`;
  const perEvent = (c: PhaseCost, events: number) =>
    `${((c.server * 1000) / events).toFixed(3)} ms server + ${((c.postgres * 1000) / events).toFixed(3)} ms PostgreSQL + ${((c.receiver * 1000) / events).toFixed(3)} ms receiver`;
  // The CPU the events added to the ingestion phase: the "during" phase less the mean of the "alone" ones per second of ingestion.
  const extra = (key: 'server' | 'postgres') => duringCost[key] - (beforeCost[key] + afterCost[key]) / 2;
  console.log(`
| measure | value |
| --- | --- |
| ingestion alone, before | ${before.toFixed(0)} records/s |
| ingestion while dispatching | ${during.toFixed(0)} records/s |
| ingestion alone, after | ${after.toFixed(0)} records/s |
| ingestion while dispatching vs alone (mean of before and after) | ${(((during - baseline) / baseline) * 100).toFixed(1)} % |
| events written during ingestion | ${written} in ${SECONDS} s (${(written / SECONDS).toFixed(0)}/s) |
| delivered during that window | ${deliveredDuring} (${(deliveredDuring / SECONDS).toFixed(0)}/s); the rest within ${drainMs.toFixed(0)} ms after |
| dispatch alone: ${QUEUED} queued events delivered | in ${burstSeconds.toFixed(2)} s (${(QUEUED / burstSeconds).toFixed(0)}/s) at 10 concurrent |
| dispatch alone, CPU a delivery | ${perEvent(burstCost, QUEUED)} |
| CPU the events added during ingestion (vs the mean of the alone phases) | server ${extra('server').toFixed(2)} s, PostgreSQL ${extra('postgres').toFixed(2)} s, receiver ${duringCost.receiver} s, event writer (bench) ${(duringCost.bench - (beforeCost.bench + afterCost.bench) / 2).toFixed(2)} s |
| deliveries not SUCCEEDED at the end | ${notSucceeded} |
| POSTs received (includes at-least-once repeats) | ${final.received} for ${final.unique} events, ${final.badSignatures} bad signatures |

CPU seconds by phase:
- ingestion alone, before (${SECONDS} s): ${cost(beforeCost)}
- ingestion while dispatching (${SECONDS} s): ${cost(duringCost)}
- ingestion alone, after (${SECONDS} s): ${cost(afterCost)}
- dispatch alone (${burstSeconds.toFixed(1)} s): ${cost(burstCost)}
- idle (${IDLE_SECONDS} s): ${cost(idleCost)}
`);
  await db.close();
}

const round2 = (x: number) => Math.round(x * 100) / 100;

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanUp());
