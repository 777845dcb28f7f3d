import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import autocannon from 'autocannon';
import { creditCodeCheckCharacter } from '../../src/modules/departments/credit-code';
import { connect } from './database';
import { summarise } from './runner';

/**
 * Data sharing scenarios (issue 13), run by `npm run bench -- --scale S --sharing`
 * (or `--only sharing`): a hosted dataset of ROWS rows is loaded through
 * POST /mounts/{id}/rows as streamed CSV, then a granted consumer reads pages
 * of 100 rows at 10 clients and exports the whole dataset as CSV, while the
 * server's peak memory is watched.
 */
export const SHARING_ROWS = 1_000_000;

export interface SharingResult {
  rows: number;
  load: { seconds: number; rowsPerSecond: number };
  page: { clients: number; requests: number; p50: number; p95: number; p99: number; errors: number };
  export: { seconds: number; rowsPerSecond: number; bytes: number };
  peakRssMb: number;
  tableMb: number;
  bytesPerRow: number;
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

/** Peak resident memory of a process (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : NaN;
}

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

export async function runSharingBench(options: {
  url: string;
  serverPid: number;
  databaseUrl: string;
  adminAuthorization: string;
  /** Signs a steward token of a department. */
  stewardToken: (creditCode: string) => Promise<string>;
  rows?: number;
  seconds: number;
  log: (line: string) => void;
}): Promise<SharingResult> {
  const rows = options.rows ?? SHARING_ROWS;
  const base = options.url.replace(/\/graphql$/, '');
  const gql = async (query: string, variables: Record<string, unknown> = {}, authorization = options.adminAuthorization) => {
    const response = await fetch(options.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data;
  };
  const db = await connect(options.databaseUrl);
  const region = (await db.query(`select code from region order by length(code) desc, code limit 1`)).rows[0]?.code as string | undefined;
  await db.end();
  if (!region) throw new Error('The database has no region.');
  const stamp = Date.now().toString(36);
  const provider = creditCode(Number.parseInt(stamp.slice(-5), 36) % 100_000);
  const consumer = creditCode((Number.parseInt(stamp.slice(-5), 36) % 100_000) + 100_000);
  await gql(`mutation($a: CreateDepartmentInput!, $b: CreateDepartmentInput!) { a: createDepartment(input: $a) { id } b: createDepartment(input: $b) { id } }`, {
    a: { creditCode: provider, name: `基准提供部门 ${stamp}`, regionCode: region },
    b: { creditCode: consumer, name: `基准使用部门 ${stamp}`, regionCode: region },
  });
  const code = `BENCH-SHARE-${stamp}`;
  await gql(`mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { id } }`, {
    input: { code, name: '低保发放明细（基准）', departmentCreditCode: provider, resourceFormat: 'DATABASE', shareType: 'UNCONDITIONAL', updateCycle: 'MONTHLY', informationItems: ITEMS },
  });
  await gql(`mutation($code: String!) { publishDirectory(input: { directory: { code: $code } }) { status } }`, { code });
  const mountId = (await gql(`mutation($code: String!) { mountDataset(input: { directory: { code: $code }, kind: TABLE, locator: "hosted", hosted: true }) { id } }`, { code })).mountDataset.id as string;
  const consumerAuth = `Bearer ${await options.stewardToken(consumer)}`;
  await gql(`mutation($code: String!) { requestSubscription(input: { directory: { code: $code }, purpose: "基准" }) { status } }`, { code }, consumerAuth);

  options.log(`  loading ${rows.toLocaleString('en')} rows as streamed CSV through POST /mounts/{id}/rows ...`);
  const started = performance.now();
  const response = await fetch(`${base}/mounts/${mountId}/rows?mode=replace`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', authorization: options.adminAuthorization },
    body: Readable.toWeb(Readable.from(csvLines(rows))) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  const loaded = (await response.json()) as { recordCount?: number; error?: unknown };
  const loadSeconds = (performance.now() - started) / 1000;
  if (loaded.recordCount !== rows) throw new Error(`The load failed: ${JSON.stringify(loaded)}`);
  options.log(`  load: ${loadSeconds.toFixed(1)} s, ${Math.round(rows / loadSeconds).toLocaleString('en')} rows/s`);

  const query = JSON.stringify({ query: `query($code: String!, $after: String) { directory(code: $code) { rows(first: 100, after: $after) { edges { node { rowNumber values } } } } }`, variables: { code } });
  const latencies: number[] = [];
  let graphqlErrors = 0;
  let instance!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolveRun, reject) => {
    instance = autocannon(
      {
        url: options.url,
        connections: 10,
        pipelining: 1,
        duration: options.seconds,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: consumerAuth },
            body: query,
            onResponse: (status: number, body: string) => {
              if (status !== 200 || body.includes('"errors"')) graphqlErrors++;
            },
          } as autocannon.Request,
        ],
      },
      (error, result) => (error ? reject(error) : resolveRun(result)),
    );
  });
  instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  const page = await done;
  const summary = summarise(latencies);
  const pageResult = { clients: 10, requests: latencies.length, p50: summary.p50, p95: summary.p95, p99: summary.p99, errors: page.errors + graphqlErrors };
  options.log(`  page of 100 rows, 10 clients: ${pageResult.requests} requests, p50 ${pageResult.p50} ms, p95 ${pageResult.p95} ms, p99 ${pageResult.p99} ms, errors ${pageResult.errors}`);

  const exportStarted = performance.now();
  const csv = await fetch(`${base}/directories/${encodeURIComponent(code)}/rows.csv`, { headers: { authorization: consumerAuth } });
  let bytes = 0;
  for await (const chunk of csv.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
  const exportSeconds = (performance.now() - exportStarted) / 1000;
  if (csv.status !== 200) throw new Error(`The export failed with HTTP ${csv.status}.`);
  options.log(`  CSV export: ${exportSeconds.toFixed(1)} s, ${Math.round(rows / exportSeconds).toLocaleString('en')} rows/s, ${(bytes / 2 ** 20).toFixed(0)} MB`);

  const after = await connect(options.databaseUrl);
  const size = Number((await after.query(`select sum(pg_total_relation_size(c.oid))::bigint as bytes from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'dataset_row'::regclass`)).rows[0].bytes);
  await after.end();
  const result: SharingResult = {
    rows,
    load: { seconds: Number(loadSeconds.toFixed(2)), rowsPerSecond: Math.round(rows / loadSeconds) },
    page: pageResult,
    export: { seconds: Number(exportSeconds.toFixed(2)), rowsPerSecond: Math.round(rows / exportSeconds), bytes },
    peakRssMb: peakRssMb(options.serverPid),
    tableMb: Math.round(size / 2 ** 20),
    bytesPerRow: Math.round(size / rows),
  };
  options.log(`  server peak RSS ${result.peakRssMb} MB; dataset_row ${result.tableMb} MB with its index (${result.bytesPerRow} bytes a row)`);
  options.log(`  targets: load >= 50,000 rows/s ${result.load.rowsPerSecond >= 50_000 ? 'met' : 'MISSED'}; page p95 < 20 ms ${pageResult.p95 < 20 && pageResult.errors === 0 ? 'met' : 'MISSED'}; export >= 100,000 rows/s ${result.export.rowsPerSecond >= 100_000 ? 'met' : 'MISSED'}; peak RSS < 400 MB ${result.peakRssMb < 400 ? 'met' : 'MISSED'}`);
  return result;
}
