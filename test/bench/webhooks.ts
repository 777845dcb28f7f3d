/**
 * `npx ts-node --swc test/bench/webhooks.ts [--seconds 20] [--rate 1000]`:
 * webhook dispatch beside ingestion. One process holds the server (with its
 * dispatcher at 10 concurrent deliveries), a local receiver answering 200, and
 * an event source writing `rate` events per second through the outbox (in
 * transactions of 50, as mutations would); an embedded PostgreSQL (or
 * DATABASE_URL) holds the data. It measures supervision-record ingestion
 * (ingestSupervisionRecords, 2,000-record batches, one after another) alone,
 * then while events are written and dispatched, then alone again, and prints
 * records per second, events written and delivered per second, and how long
 * the queue took to drain. The machine is shared: numbers vary between runs.
 */
import 'reflect-metadata';
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startServer } from '../../src/app';
import { initOrm } from '../../src/db/orm';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { createAuthenticator } from '../../src/modules/auth/authenticator';
import { emitEvents, NotificationEventType } from '../../src/modules/notifications/notification-event';
import { creditCodeCheckCharacter } from '../../src/modules/departments/credit-code';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 20);
const RATE = arg('rate', 1000);
const BATCH = 2000;
const EVENTS_PER_TX = 50;
const ADMIN = 'bench-admin-token-0123456789abcdef';

async function main() {
  let dataDir: string | undefined;
  let stopDb = async () => {};
  let url = process.env.DATABASE_URL;
  if (!url) {
    // .data/ is git-ignored and absent from a fresh clone.
    mkdirSync(resolve('.data'), { recursive: true });
    dataDir = mkdtempSync(join(resolve('.data'), 'bench-webhooks-'));
    const db = await startEmbeddedPostgres(dataDir);
    url = db.url;
    stopDb = () => db.stop();
  }
  const orm = await initOrm(url);

  let delivered = 0;
  const receiver = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      delivered++;
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const server = await startServer(orm, 0, createAuthenticator({ adminToken: ADMIN, anonymousStats: false }), {
    webhooks: { allowPrivate: true, concurrency: 10 },
  });
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
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
  await gql(`mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret } }`, { i: { url: receiverUrl, events: ['DIRECTORY_PUBLISHED'] } });

  let batchNo = 0;
  const ingestFor = async (seconds: number) => {
    const end = Date.now() + seconds * 1000;
    const started = performance.now();
    let records = 0;
    while (Date.now() < end) {
      const n = batchNo++;
      const records_ = Array.from({ length: BATCH }, (_, i) => ({
        source: 'bench',
        externalId: `${n}-${i}`,
        subItemCode: subItems[(n + i) % subItems.length],
        occurredAt: '2026-11-01T08:00:00Z',
      }));
      const data = await gql(`mutation($input: IngestSupervisionRecordsInput!) { ingestSupervisionRecords(input: $input) { accepted } }`, {
        input: { departmentCreditCode: code, records: records_ },
      });
      records += data.ingestSupervisionRecords.accepted;
    }
    return records / ((performance.now() - started) / 1000);
  };

  // Events written at RATE per second, in transactions of EVENTS_PER_TX (DIRECTORY_PUBLISHED of the department).
  let written = 0;
  const writeEvents = (seconds: number) => {
    const end = Date.now() + seconds * 1000;
    const started = Date.now();
    return (async () => {
      while (Date.now() < end) {
        const due = Math.floor(((Date.now() - started) / 1000) * RATE) - written;
        if (due < EVENTS_PER_TX) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        await orm.em.fork().transactional((em) =>
          emitEvents(
            em,
            Array.from({ length: EVENTS_PER_TX }, (_, i) => ({
              type: NotificationEventType.DIRECTORY_PUBLISHED,
              departments: [code],
              data: { directory: { code: `BENCH-${written + i}`, name: 'bench' }, department: { creditCode: code, name: '殷都区市场监督管理局' } },
            })),
          ),
        );
        written += EVENTS_PER_TX;
      }
    })();
  };

  console.log(`Warm-up ingestion (5 s) ...`);
  await ingestFor(5);
  console.log(`Ingestion alone (${SECONDS} s) ...`);
  const before = await ingestFor(SECONDS);
  console.log(`Ingestion while ${RATE} events/s are written and dispatched (${SECONDS} s) ...`);
  const deliveredAtStart = delivered;
  const writing = writeEvents(SECONDS);
  const during = await ingestFor(SECONDS);
  await writing;
  const deliveredDuring = delivered - deliveredAtStart;
  const drainStart = performance.now();
  while (delivered - deliveredAtStart < written) await new Promise((r) => setTimeout(r, 20));
  const drainMs = performance.now() - drainStart;
  console.log(`Ingestion alone again (${SECONDS} s) ...`);
  const after = await ingestFor(SECONDS);

  // Dispatch alone: 10,000 events queued at once, time to deliver them all.
  const queued = 10_000;
  const mark = delivered;
  for (let i = 0; i < queued; i += 500) {
    await orm.em.fork().transactional((em) =>
      emitEvents(
        em,
        Array.from({ length: 500 }, (_, j) => ({ type: NotificationEventType.DIRECTORY_PUBLISHED, departments: [code], data: { n: i + j } })),
      ),
    );
  }
  const burstStart = performance.now();
  while (delivered - mark < queued) await new Promise((r) => setTimeout(r, 20));
  const burstSeconds = (performance.now() - burstStart) / 1000;
  const failed = await orm.em.getConnection().execute(`select count(*)::int as n from webhook_delivery where status <> 'SUCCEEDED'`);

  const baseline = (before + after) / 2;
  console.log(`
| measure | value |
| --- | --- |
| ingestion alone, before | ${before.toFixed(0)} records/s |
| ingestion while dispatching | ${during.toFixed(0)} records/s |
| ingestion alone, after | ${after.toFixed(0)} records/s |
| ingestion while dispatching vs alone (mean of before and after) | ${(((during - baseline) / baseline) * 100).toFixed(1)} % |
| events written during ingestion | ${written} in ${SECONDS} s (${(written / SECONDS).toFixed(0)}/s) |
| delivered during that window | ${deliveredDuring} (${(deliveredDuring / SECONDS).toFixed(0)}/s); the rest within ${drainMs.toFixed(0)} ms after |
| dispatch alone: ${queued} queued events delivered | in ${burstSeconds.toFixed(2)} s (${(queued / burstSeconds).toFixed(0)}/s) at 10 concurrent |
| deliveries not SUCCEEDED at the end | ${failed[0].n} |
| POSTs received (includes at-least-once repeats) | ${delivered} |
`);
  await server.stop();
  await new Promise<void>((r) => receiver.close(() => r()));
  await orm.close(true);
  await stopDb();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
