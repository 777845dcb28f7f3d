import { markedTables, renderScenarioTable, replaceTable, type RunRow } from './report';

/** Two runs as `npm run bench` writes them (bench-results-<scale>.json), trimmed to what the table reads. */
const READ: RunRow = {
  scenario: 'province dashboard during ingestion',
  clients: 10,
  requestsPerSecond: 1458.46,
  latencyMs: { p50: 3.91, p95: 14.8, p99: 77.94 },
  errors: { total: 0 },
  sqlStatements: { mean: 8 },
  sqlStatementsWhenCached: { mean: 1 },
  cache: { hits: 14533, misses: 52 },
  serverPeakRssMb: 329,
  floor: { latencyMs: { p50: 2.214, p95: 4.678 } },
  ratioToFloor: { p50: 1.756, p95: 3.1 },
  alongside: { unitsPerSecond: 22500, unit: 'records', verified: 'ok' },
};
const WRITE: RunRow = {
  scenario: 'ingestion',
  clients: 1,
  requestsPerSecond: 5.9,
  latencyMs: { p50: 163.4, p95: 1049.94, p99: 1057.1 },
  errors: { total: 0 },
  sqlStatements: { mean: 10 },
  sqlStatementsWhenCached: null,
  cache: null,
  serverPeakRssMb: 326,
  unitsPerSecond: 29450,
  unit: 'records',
  verified: 'ok',
};

describe('bench:report', () => {
  it('renders the runs as the scenario table of docs/performance.md, aligned as Prettier aligns it', () => {
    const table = renderScenarioTable([READ, WRITE]).split('\n');
    const cellsOf = (line: string) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
    expect(cellsOf(table[0])[7]).toBe('SQL/request computed / cached');
    expect(table[1]).toMatch(/^\| -+ \| -+: \|/);
    expect(cellsOf(table[2])).toEqual([
      'province dashboard during ingestion',
      '10',
      '1,458.5',
      '3.9',
      '14.8',
      '77.9',
      '0',
      '8 / 1',
      '2.21',
      '4.68',
      '1.76',
      '329',
      '14,533 of 14,585; 22,500 records/s ingested alongside, counters ok',
    ]);
    expect(cellsOf(table[3])).toEqual([
      'ingestion (29,450 records/s, counters ok)',
      '1',
      '5.9',
      '163.4',
      '1,049.9',
      '1,057.1',
      '0',
      '10',
      '-',
      '-',
      '-',
      '326',
      '',
    ]);
    // Every line as wide as the header: the columns are aligned.
    expect(new Set(table.map((line) => line.length)).size).toBe(1);
  });

  it('replaces only what lies between the markers of each table', () => {
    const doc = [
      'Prose before.',
      '<!-- bench-table:district: rendered by npm run bench:report -->',
      '| old | table |',
      '<!-- /bench-table:district -->',
      'Prose after.',
      '<!-- bench-table:province -->',
      '<!-- /bench-table:province -->',
    ].join('\n');
    expect(markedTables(doc)).toEqual(['district', 'province']);
    const table = renderScenarioTable([WRITE]);
    const updated = replaceTable(doc, 'district', table);
    expect(updated).toBe(doc.replace('| old | table |', `\n${table}\n`));
    // Rendering again changes nothing.
    expect(replaceTable(updated, 'district', table)).toBe(updated);
    expect(() => replaceTable(doc, 'city', table)).toThrow('<!-- bench-table:city --> ... <!-- /bench-table:city --> not found');
    // A name is matched whole: province is not province-sharing.
    const sharing = '<!-- bench-table:province-sharing -->\n<!-- /bench-table:province-sharing -->';
    expect(markedTables(sharing)).toEqual(['province-sharing']);
    expect(() => replaceTable(sharing, 'province', table)).toThrow('not found');
  });
});
