import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { currentPeriod } from '../../../src/modules/reports/period';
import { addDirectory, createDepartment, createRegions, creditCode, mount, readReportTable } from '../../support/builders';
import { http } from '../../support/http';
import { reportPercent } from '../../support/report-percent';
import { startTestServer, type TestServer } from '../../support/test-server';
import { buildYinduResources, buildYinduSupervision, YINDU_REGIONS } from '../../support/yindu';

/** The export's Chinese headers (docs/api.md, "Appendix exports") against the shared tables' English columns. */
const RESOURCES_COLUMNS: Record<string, string> = {
  部门: 'department',
  已发布资源目录数: 'published_directories',
  已挂载资源目录数: 'mounted_directories',
  资源数据总量: 'data_volume',
  资源挂载率: 'mount_rate_pct',
  // Use of hosted data (issue 13): none in this build, so zero.
  资源被使用次数: 'usage_requests_provided',
  资源被使用数据量: 'usage_rows_provided',
  资源使用次数: 'usage_requests_made',
  资源使用数据量: 'usage_rows_received',
};
const NO_USAGE = { usage_requests_provided: '0', usage_rows_provided: '0', usage_requests_made: '0', usage_rows_received: '0' };
const SUPERVISION_COLUMNS: Record<string, string> = {
  部门: 'department',
  主项数: 'main_items',
  主项覆盖数: 'main_covered',
  主项覆盖率: 'main_rate_pct',
  ...Object.fromEntries(
    [
      ['行政检查', 'inspection'],
      ['行政处罚', 'penalty'],
      ['行政强制', 'coercion'],
      ['其他', 'other'],
    ].flatMap(([label, column]) => [
      [`${label}子项数`, `${column}_items`],
      [`${label}子项覆盖数`, `${column}_covered`],
      [`${label}汇聚数`, `${column}_records`],
    ]),
  ),
  子项覆盖率: 'sub_rate_pct',
};

function parseCsv(body: Buffer): string[][] {
  const text = body.toString('utf8');
  expect(text.startsWith('\uFEFF')).toBe(true);
  return parse(text.slice(1), { relax_column_count: false }) as string[][];
}

async function parseXlsx(body: Buffer): Promise<string[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(body as unknown as ArrayBuffer);
  const sheet = workbook.worksheets[0];
  const rows: string[][] = [];
  sheet.eachRow((row) => rows.push((row.values as unknown[]).slice(1).map((v) => String(v))));
  return rows;
}

/**
 * Maps an exported table back to the shared CSV's columns: rates lose their
 * "%"; the last row is the totals row (合计), returned apart.
 */
function toSharedColumns(rows: string[][], columns: Record<string, string>) {
  const [header, ...body] = rows;
  expect(header).toEqual(Object.keys(columns));
  const records = body.map((row) => Object.fromEntries(row.map((cell, i) => [columns[header[i]], cell.replace(/%$/, '')])));
  return { departments: records.slice(0, -1), total: records[records.length - 1] };
}

const sumOf = (rows: Record<string, string>[], column: string) => String(rows.reduce((total, row) => total + Number(row[column]), 0));

async function checkTable(
  api: TestServer,
  table: string,
  expected: Record<string, string>[],
  columns: Record<string, string>,
  rates: Record<string, [string, string]>,
  token: string,
) {
  for (const format of ['csv', 'xlsx'] as const) {
    const response = await http(api, `/reports/410505/2023-06/${table}.${format}`, { token });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toContain(`410505-2023-06-${table}.${format}`);
    const rows = format === 'csv' ? parseCsv(response.body) : await parseXlsx(response.body);
    const { departments, total } = toSharedColumns(rows, columns);
    // Every cell of every department row, in the report's order.
    expect(departments).toEqual(expected);
    // The totals row: sums of the counts, rates recomputed from the sums.
    const counts = Object.values(columns).filter((c) => c !== 'department' && !c.endsWith('_pct'));
    const expectedTotal: Record<string, string> = { department: '合计', ...Object.fromEntries(counts.map((c) => [c, sumOf(expected, c)])) };
    for (const [column, [numerator, denominator]] of Object.entries(rates)) {
      const n = numerator.split('+').reduce((s, c) => s + Number(expectedTotal[c]), 0);
      const d = denominator.split('+').reduce((s, c) => s + Number(expectedTotal[c]), 0);
      expectedTotal[column] = reportPercent(n, d)!;
    }
    expect(total).toEqual(expectedTotal);
  }
}

describe('appendix 4 (resources) export reproduces the Yindu table', () => {
  let api: TestServer;
  let viewerToken: string;
  const rows = readReportTable('resources.csv');

  beforeAll(async () => {
    api = await startTestServer();
    // Built from the last row to the first: the rows come out in the report's order only if the export sorts them.
    await buildYinduResources(api, rows, { reversed: true });
    viewerToken = await api.signToken({ role: 'VIEWER' });
  });
  afterAll(() => api.close());

  it('exports the live figures of the current month only; a past month needs its snapshot', async () => {
    const response = await http(api, '/reports/410505/2023-06/resources.csv', { token: viewerToken });
    expect(response.status).toBe(404);
    expect(response.json().error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('no snapshot of 2023-06') });
  });

  it('exports CSV and XLSX whose every cell matches resources.csv, with a totals row', async () => {
    await api.ok(`mutation { captureSnapshot(input: { period: "2023-06" }) { period } }`);
    await checkTable(
      api,
      'resources',
      rows.map((row) => ({ ...row, ...NO_USAGE })),
      RESOURCES_COLUMNS,
      { mount_rate_pct: ['mounted_directories', 'published_directories'] },
      viewerToken,
    );
  });

  it('finds the region by its code typed full-width or with a space after, as GraphQL does, and names the file by the code as kept', async () => {
    const plain = await http(api, '/reports/410505/2023-06/resources.csv', { token: viewerToken });
    const wide = await http(api, `/reports/${encodeURIComponent('４１０５０５ ')}/2023-06/resources.csv`, { token: viewerToken });
    expect(wide.status).toBe(200);
    expect(wide.body.equals(plain.body)).toBe(true);
    expect(wide.headers.get('content-disposition')).toBe(plain.headers.get('content-disposition'));
  });

  it('answers clear JSON errors: 401 without or with a bad token, 404 for an unknown region, 400 for a bad table or period', async () => {
    const anonymous = await http(api, '/reports/410505/2023-06/resources.csv', { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json().error.code).toBe('UNAUTHENTICATED');
    expect((await http(api, '/reports/410505/2023-06/resources.csv', { token: 'mulu_nonsense' })).status).toBe(401);
    const unknown = await http(api, '/reports/419999/2023-06/resources.csv');
    expect([unknown.status, unknown.json().error.code]).toEqual([404, 'NOT_FOUND']);
    const badTable = await http(api, '/reports/410505/2023-06/budget.csv');
    expect([badTable.status, badTable.json().error.code]).toEqual([400, 'BAD_USER_INPUT']);
    expect((await http(api, '/reports/410505/2023-06/resources.pdf')).status).toBe(400);
    const badPeriod = await http(api, '/reports/410505/2023-13/resources.csv');
    expect(badPeriod.status).toBe(400);
    expect(badPeriod.json().error.message).toContain('YYYY-MM');
  });
});

describe('appendix 5 (supervision) export reproduces the Yindu table', () => {
  let api: TestServer;
  const rows = readReportTable('supervision.csv');

  beforeAll(async () => {
    api = await startTestServer();
    // Built from the last row to the first, as appendix 4.
    await buildYinduSupervision(api, rows, undefined, { reversed: true });
    await api.ok(`mutation { captureSnapshot(input: { period: "2023-06" }) { period } }`);
  });
  afterAll(() => api.close());

  it('exports CSV and XLSX whose every cell matches supervision.csv, in the report order, with a totals row', async () => {
    await checkTable(
      api,
      'supervision',
      rows,
      SUPERVISION_COLUMNS,
      {
        main_rate_pct: ['main_covered', 'main_items'],
        sub_rate_pct: ['inspection_covered+penalty_covered+coercion_covered+other_covered', 'inspection_items+penalty_items+coercion_items+other_items'],
      },
      await api.signToken({ role: 'VIEWER' }),
    );
  });
});

describe('exported department names cannot run as spreadsheet formulas', () => {
  let api: TestServer;
  const names = ['=HYPERLINK("http://example.com/x","殷都区")', '+殷都区审计局', '-殷都区统计局', '@殷都区档案馆'];

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, YINDU_REGIONS);
    for (const [i, name] of names.entries()) {
      const code = creditCode('410505', i + 1);
      await createDepartment(api, { creditCode: code, name, regionCode: '410505' });
      // Mount rates 4/4, 3/4, 2/4, 1/4: the rows come out in the order of the names.
      for (let d = 0; d < 4; d++) {
        const directory = await addDirectory(api, code, `F-${i}-${d}`);
        if (d < 4 - i) await mount(api, directory, 10);
      }
    }
  });
  afterAll(() => api.close());

  it('writes them with a leading single quote in CSV, and as they are in XLSX (typed text)', async () => {
    const path = `/reports/410505/${currentPeriod()}/resources`;
    const csv = await http(api, `${path}.csv`);
    expect(csv.status).toBe(200);
    expect(
      parseCsv(csv.body)
        .slice(1)
        .map((row) => row[0]),
    ).toEqual([...names.map((name) => `'${name}`), '合计']);
    const xlsx = await http(api, `${path}.xlsx`);
    expect((await parseXlsx(xlsx.body)).slice(1).map((row) => row[0])).toEqual([...names, '合计']);
  });
});

describe("the live figures' export, beside the current month's snapshot", () => {
  let api: TestServer;
  const department = creditCode('410505', 1);

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, YINDU_REGIONS);
    await createDepartment(api, { creditCode: department, name: '殷都区民政局', regionCode: '410505' });
    await mount(api, await addDirectory(api, department, 'L-1'), 10);
    await addDirectory(api, department, 'L-2');
  });
  afterAll(() => api.close());

  it('exports, as "live", the figures Region.report shows without a period, which move on after the month is captured', async () => {
    const month = currentPeriod();
    // Captured at 1 of 2 mounted; then the second directory is mounted.
    await api.ok(`mutation($period: String!) { captureSnapshot(input: { period: $period }) { period } }`, { period: month });
    await mount(api, 'L-2', 5);
    const percentOf = async (period: string | null) =>
      (
        await api.ok(
          `query($period: String) { region(code: "410505") { report(period: $period) { source region { figures { mount { mountRatePercent } } } } } }`,
          { period },
        )
      ).region.report;
    expect(await percentOf(null)).toEqual({ source: 'LIVE', region: { figures: { mount: { mountRatePercent: '100.00' } } } });
    expect(await percentOf(month)).toEqual({ source: 'SNAPSHOT', region: { figures: { mount: { mountRatePercent: '50.00' } } } });

    const live = await http(api, '/reports/410505/live/resources.csv');
    expect(live.status).toBe(200);
    expect(live.headers.get('content-disposition')).toContain(`410505-${month}-live-resources.csv`);
    expect(parseCsv(live.body).slice(1)).toEqual([
      ['殷都区民政局', '2', '2', '15', '100.00%', '0', '0', '0', '0'],
      ['合计', '2', '2', '15', '100.00%', '0', '0', '0', '0'],
    ]);
    const captured = await http(api, `/reports/410505/${month}/resources.csv`);
    expect(parseCsv(captured.body).slice(1).at(-1)).toEqual(['合计', '2', '1', '10', '50.00%', '0', '0', '0', '0']);
  });
});
