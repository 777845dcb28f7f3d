/**
 * `npm run bench:report`: renders the scenario tables of docs/performance.md
 * from the benchmark's results (bench-results-<scale>.json, written by
 * `npm run bench`), so the tables are never typed by hand. Each table sits
 * between two markers:
 *
 *     <!-- bench-table:province (anything else up to the end of the comment) -->
 *     ...
 *     <!-- /bench-table:province -->
 *
 * and is replaced by the runs of bench-results-province.json; a table whose
 * results file is absent is left as it is. Prose around the tables is not
 * touched.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

type Stats = { mean: number } | null;

/** The fields of a benchmark run (test/bench/runner.ts, ScenarioRun) that the table shows. */
export interface RunRow {
  scenario: string;
  clients: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number };
  errors: { total: number };
  sqlStatements: Stats;
  sqlStatementsWhenCached: Stats;
  cache: { hits: number; misses: number } | null;
  serverPeakRssMb: number | null;
  unitsPerSecond?: number;
  unit?: string;
  verified?: string;
  floor?: { latencyMs: { p50: number; p95: number } };
  ratioToFloor?: { p50: number; p95: number };
  alongside?: { unitsPerSecond: number; unit: string; verified: string };
}

const HEADER = [
  'scenario',
  'clients',
  'req/s',
  'p50',
  'p95',
  'p99',
  'errors',
  'SQL/request computed / cached',
  'floor p50',
  'floor p95',
  'API/floor p50',
  'peak RSS MB',
  'answers from the cache',
];
/** Columns aligned left (text); the others are numbers, aligned right. */
const TEXT_COLUMNS = new Set([0, HEADER.length - 1]);

const number = (value: number, decimals: number) => value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
const whole = (value: number) => number(value, 0);
const statements = (stats: Stats) => (stats ? String(Math.round(stats.mean * 10) / 10) : null);

function cells(run: RunRow): string[] {
  const scenario = run.unitsPerSecond !== undefined ? `${run.scenario} (${whole(run.unitsPerSecond)} ${run.unit}/s, counters ${run.verified})` : run.scenario;
  const computed = statements(run.sqlStatements);
  const cached = statements(run.sqlStatementsWhenCached);
  const sql = cached === null ? (computed ?? '-') : `${computed ?? '-'} / ${cached}`;
  const answers = run.cache ? `${whole(run.cache.hits)} of ${whole(run.cache.hits + run.cache.misses)}` : '';
  const alongside = run.alongside
    ? `; ${whole(run.alongside.unitsPerSecond)} ${run.alongside.unit}/s ingested alongside, counters ${run.alongside.verified}`
    : '';
  return [
    scenario,
    String(run.clients),
    number(run.requestsPerSecond, 1),
    number(run.latencyMs.p50, 1),
    number(run.latencyMs.p95, 1),
    number(run.latencyMs.p99, 1),
    String(run.errors.total),
    sql,
    run.floor ? number(run.floor.latencyMs.p50, 2) : '-',
    run.floor ? number(run.floor.latencyMs.p95, 2) : '-',
    run.ratioToFloor ? number(run.ratioToFloor.p50, 2) : '-',
    run.serverPeakRssMb === null ? '-' : String(run.serverPeakRssMb),
    answers + alongside,
  ];
}

/**
 * The scenario table of a results file's runs, in run order, with its
 * columns padded as `prettier --write` pads them (text left, numbers right),
 * so that `prettier --check` accepts the document as rendered.
 */
export function renderScenarioTable(runs: RunRow[]): string {
  const rows = [HEADER, ...runs.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(3, ...rows.map((row) => row[i].length)));
  const pad = (cell: string, i: number) => (TEXT_COLUMNS.has(i) ? cell.padEnd(widths[i]) : cell.padStart(widths[i]));
  const line = (row: string[]) => `| ${row.map(pad).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (TEXT_COLUMNS.has(i) ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(HEADER), rule, ...rows.slice(1).map(line)].join('\n');
}

/** The names of the tables marked in a document, in order. */
export function markedTables(doc: string): string[] {
  return [...doc.matchAll(/<!-- bench-table:([\w-]+)(?=[\s:])[^>]*-->/g)].map((match) => match[1]);
}

/** The document with the table between the markers of `name` replaced; an error if the markers are missing. */
export function replaceTable(doc: string, name: string, table: string): string {
  const open = new RegExp(`<!-- bench-table:${name}(?=[\\s:])[^>]*-->`).exec(doc);
  const close = `<!-- /bench-table:${name} -->`;
  const end = open ? doc.indexOf(close, open.index) : -1;
  if (!open || end < 0) throw new Error(`<!-- bench-table:${name} --> ... ${close} not found`);
  return `${doc.slice(0, open.index + open[0].length)}\n\n${table}\n\n${doc.slice(end)}`;
}

function main(): void {
  const path = process.argv[2] ?? 'docs/performance.md';
  let doc = readFileSync(path, 'utf8');
  for (const name of markedTables(doc)) {
    const file = `bench-results-${name}.json`;
    if (!existsSync(file)) {
      console.log(`${name}: ${file} not found, table left as it is`);
      continue;
    }
    const { runs } = JSON.parse(readFileSync(file, 'utf8')) as { runs: RunRow[] };
    doc = replaceTable(doc, name, renderScenarioTable(runs));
    console.log(`${name}: ${runs.length} runs from ${file}`);
  }
  writeFileSync(path, doc);
}

if (require.main === module) main();
