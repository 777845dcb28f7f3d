import { once } from 'node:events';
import type { Client } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { benchDatabase, connect } from './database';
import { parseArgs, parseScale } from './scales';

/**
 * How to store hosted rows, measured (issue 13, docs/data-sharing.md
 * "Storage"): `npm run bench:storage -- [--scale district] [--rows 1000000]`.
 * Loads the same ROWS rows of six items (the sharing benchmark's) into three
 * scratch tables in a schema of their own, dropped afterwards:
 *
 * - `jsonb`: a JSONB object keyed by item name per row (what Mulu stores);
 * - `jsonb array`: a JSONB array of the values, item names once elsewhere;
 * - `typed`: one typed column per item (what a table per dataset would be).
 *
 * Each has the primary key (mount_id, version, row_no), as dataset_row.
 * For each: COPY time, size with its index, a page of 100 rows by keyset at
 * random positions, a page of 100 filtered on an item (equality, selective
 * 1 in 70; range), and a CSV export of every row by COPY. One client, on
 * the database itself (no HTTP): what the storage costs, not the API.
 */
const SCHEMA = 'storage_compare';
const NAMES = ['姓名', '身份证号', '年龄', '补助金额', '发放日期', '在册'];

interface Variant {
  name: string;
  columns: string;
  /** The COPY text of row i (without mount, version and row number). */
  line: (i: number) => string;
  /** Select list of a page (values as the API would hand them on). */
  select: string;
  /** SQL of the item 年龄 as an integer, and of 补助金额 as a number. */
  age: string;
  amount: string;
  /** Select list of the CSV export, one column per item. */
  csv: string;
}

const value = (i: number) => ({
  name: `居民${i}`,
  id: `410505${String(19_500_101_0000 + i).slice(0, 12)}`,
  age: 18 + (i % 70),
  amount: `${(i % 5000) + 0.5}`,
  date: `2024-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`,
  registered: i % 3 !== 0,
});

const VARIANTS: Variant[] = [
  {
    name: 'jsonb',
    columns: 'data jsonb not null',
    line: (i) => {
      const v = value(i);
      return JSON.stringify({ [NAMES[0]]: v.name, [NAMES[1]]: v.id, [NAMES[2]]: v.age, [NAMES[3]]: v.amount, [NAMES[4]]: v.date, [NAMES[5]]: v.registered });
    },
    select: 'data',
    age: `(data->>'年龄')::bigint`,
    amount: `(data->>'补助金额')::numeric`,
    csv: NAMES.map((n) => `data->>'${n}'`).join(', '),
  },
  {
    name: 'jsonb array',
    columns: 'data jsonb not null',
    line: (i) => {
      const v = value(i);
      return JSON.stringify([v.name, v.id, v.age, v.amount, v.date, v.registered]);
    },
    select: 'data',
    age: `(data->>2)::bigint`,
    amount: `(data->>3)::numeric`,
    csv: NAMES.map((_, c) => `data->>${c}`).join(', '),
  },
  {
    name: 'typed',
    columns: 'c0 text, c1 text, c2 bigint, c3 numeric, c4 date, c5 boolean',
    line: (i) => {
      const v = value(i);
      return [v.name, v.id, v.age, v.amount, v.date, v.registered].join('\t');
    },
    select: 'c0, c1, c2, c3, c4, c5',
    age: 'c2',
    amount: 'c3',
    csv: 'c0, c1, c2, c3, c4, c5',
  },
];

function percentile(sorted: number[], p: number): number {
  return Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(2));
}

async function timed(client: Client, sql: string, params: unknown[], times: number): Promise<{ p50: number; p95: number; rows: number }> {
  const ms: number[] = [];
  let rows = 0;
  for (let t = 0; t < times; t++) {
    const started = performance.now();
    const result = await client.query(sql, typeof params[0] === 'function' ? (params[0] as () => unknown[])() : params);
    ms.push(performance.now() - started);
    rows = result.rowCount ?? 0;
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), rows };
}

async function measure(client: Client, variant: Variant, rows: number, log: (line: string) => void) {
  const table = `${SCHEMA}."${variant.name.replace(' ', '_')}"`;
  await client.query(
    `create table ${table} (mount_id int not null, version int not null, row_no bigint not null, ${variant.columns}, primary key (mount_id, version, row_no))`,
  );
  const started = performance.now();
  const stream = client.query(copyFrom(`copy ${table} from stdin`));
  let chunk = '';
  for (let i = 1; i <= rows; i++) {
    chunk += `1\t1\t${i}\t${variant.line(i).replace(/\\/g, '\\\\')}\n`;
    if (chunk.length > 1 << 18) {
      if (!stream.write(chunk)) await once(stream, 'drain');
      chunk = '';
    }
  }
  stream.end(chunk);
  await once(stream, 'finish');
  const loadSeconds = (performance.now() - started) / 1000;
  await client.query(`vacuum analyze ${table}`);
  const size = Number((await client.query(`select pg_total_relation_size($1::regclass) as bytes`, [table])).rows[0].bytes);

  const random = () => [Math.floor(Math.random() * (rows - 100))];
  const page = await timed(
    client,
    `select row_no, ${variant.select} from ${table} where mount_id = 1 and version = 1 and row_no > $1 order by row_no limit 100`,
    [random],
    200,
  );
  // 年龄 = 30 holds 1 row in 70: a page reads some 7,000 rows in key order.
  const eq = await timed(
    client,
    `select row_no, ${variant.select} from ${table} where mount_id = 1 and version = 1 and row_no > $1 and ${variant.age} = 30 order by row_no limit 100`,
    [random],
    50,
  );
  const range = await timed(
    client,
    `select row_no, ${variant.select} from ${table} where mount_id = 1 and version = 1 and row_no > $1 and ${variant.amount} between 100 and 199.5 order by row_no limit 100`,
    [random],
    50,
  );

  const exportStarted = performance.now();
  const out = client.query(copyTo(`copy (select ${variant.csv} from ${table} where mount_id = 1 and version = 1 order by row_no) to stdout with (format csv)`));
  let bytes = 0;
  for await (const part of out as AsyncIterable<Buffer>) bytes += part.length;
  const exportSeconds = (performance.now() - exportStarted) / 1000;

  const result = {
    variant: variant.name,
    rows,
    loadSeconds: Number(loadSeconds.toFixed(2)),
    loadRowsPerSecond: Math.round(rows / loadSeconds),
    sizeMb: Math.round(size / 2 ** 20),
    bytesPerRow: Math.round(size / rows),
    pageMs: { p50: page.p50, p95: page.p95 },
    filterEqMs: { p50: eq.p50, p95: eq.p95 },
    filterRangeMs: { p50: range.p50, p95: range.p95 },
    exportSeconds: Number(exportSeconds.toFixed(2)),
    exportRowsPerSecond: Math.round(rows / exportSeconds),
    exportMb: Math.round(bytes / 2 ** 20),
  };
  log(
    `  ${variant.name.padEnd(12)} load ${result.loadSeconds} s (${result.loadRowsPerSecond.toLocaleString('en')} rows/s), ${result.sizeMb} MB (${result.bytesPerRow} B/row), ` +
      `page p50/p95 ${page.p50}/${page.p95} ms, filter = ${eq.p50}/${eq.p95} ms, range ${range.p50}/${range.p95} ms, CSV export ${result.exportSeconds} s (${result.exportRowsPerSecond.toLocaleString('en')} rows/s)`,
  );
  await client.query(`drop table ${table}`);
  return result;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const scale = parseScale(args.get('scale') ?? 'district');
  const rows = Number(args.get('rows') ?? 1_000_000);
  const database = await benchDatabase(scale);
  const client = await connect(database.url);
  try {
    await client.query(`drop schema if exists ${SCHEMA} cascade`);
    await client.query(`create schema ${SCHEMA}`);
    console.log(`Storage of ${rows.toLocaleString('en')} rows of six items, one client on the database:`);
    const results = [];
    for (const variant of VARIANTS) results.push(await measure(client, variant, rows, console.log));
    console.log(JSON.stringify(results, null, 2));
  } finally {
    await client.query(`drop schema if exists ${SCHEMA} cascade`).catch(() => undefined);
    await client.end();
    await database.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
