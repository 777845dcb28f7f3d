import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { print } from 'graphql';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportCommand } from '../../../src/cli/export';
import { importCommand } from '../../../src/cli/import';
import { snapshotCommand } from '../../../src/cli/snapshot';
import { SYSTEM_VIEWER } from '../../../src/core/viewer';
import type { RequestContext } from '../../../src/core/request-context';
import { RegionPageQuery } from '../../../src/web/queries';
import { createDepartment, createRegions, creditCode, readReportTable, split } from '../../support/builders';
import { http } from '../../support/http';
import { reportPercent } from '../../support/report-percent';
import { runMutations, ingest } from '../../support/supervision-builders';
import { startTestServer, type TestServer } from '../../support/test-server';
import { SUPERVISION_CATEGORY_COLUMNS, supervisionLayout, YINDU_REGIONS } from '../../support/yindu';

/**
 * Both shared tables rebuilt as a reviewer new to Mulu would, from the docs
 * alone: departments by GraphQL; supervision items as each department's
 * steward sends its spreadsheet (POST /imports/supervision-items, CSV or
 * XLSX, Chinese labels and terms) and records by ingestSupervisionRecords;
 * directories with the import command (drafts), published and mounted by
 * GraphQL; the month captured with the snapshot command. Then read back
 * through the export command, /reports (CSV and XLSX) and the dashboard's
 * own query (src/web/queries.ts). appendix-export.test.ts builds the same
 * tables through the mutations alone.
 */

const CATEGORY_TERM: Record<string, string> = { INSPECTION: '行政检查', PENALTY: '行政处罚', COERCION: '行政强制', OTHER: '其他' };
const resources = readReportTable('resources.csv');
const supervision = readReportTable('supervision.csv');
const sum = (rows: Record<string, string>[], column: string) => rows.reduce((total, row) => total + Number(row[column]), 0);
const printed = (n: number, d: number) => {
  const p = reportPercent(n, d);
  return p === null ? '-' : `${p}%`;
};

/** The rows each table must print: the shared table's rows, then the other table's departments (no rate: last, by name), then the totals. */
function expectedResources(): string[][] {
  const rated = resources.map((r) => [r.department, r.published_directories, r.mounted_directories, r.data_volume, `${r.mount_rate_pct}%`, '0', '0', '0', '0']);
  const unrated = supervision.map((r) => r.department).sort();
  const published = sum(resources, 'published_directories');
  const mounted = sum(resources, 'mounted_directories');
  return [
    ...rated,
    ...unrated.map((name) => [name, '0', '0', '0', '-', '0', '0', '0', '0']),
    ['合计', String(published), String(mounted), String(sum(resources, 'data_volume')), printed(mounted, published), '0', '0', '0', '0'],
  ];
}

function expectedSupervision(): string[][] {
  const counts = [
    'main_items',
    'main_covered',
    ...SUPERVISION_CATEGORY_COLUMNS.flatMap(({ column }) => [`${column}_items`, `${column}_covered`, `${column}_records`]),
  ];
  const row = (name: string, value: (column: string) => number) => {
    const [mains, covered, ...categories] = counts.map(value);
    const subItems = SUPERVISION_CATEGORY_COLUMNS.reduce((total, { column }) => total + value(`${column}_items`), 0);
    const coveredSubItems = SUPERVISION_CATEGORY_COLUMNS.reduce((total, { column }) => total + value(`${column}_covered`), 0);
    return [name, String(mains), String(covered), printed(covered, mains), ...categories.map(String), printed(coveredSubItems, subItems)];
  };
  const rated = supervision.map((r) => {
    const printedRow = row(r.department, (column) => Number(r[column]));
    // The report's own rates, to the digit: the rebuilt counts must print them.
    expect([printedRow[3], printedRow[printedRow.length - 1]]).toEqual([`${r.main_rate_pct}%`, `${r.sub_rate_pct}%`]);
    return printedRow;
  });
  const unrated = resources.map((r) => r.department).sort();
  return [...rated, ...unrated.map((name) => row(name, () => 0)), row('合计', (column) => sum(supervision, column))];
}

async function xlsxOf(rows: string[][]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('监管事项');
  for (const row of rows) sheet.addRow(row);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

async function xlsxRows(body: Buffer): Promise<string[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(body as unknown as ArrayBuffer);
  const rows: string[][] = [];
  workbook.worksheets[0].eachRow((row) => rows.push((row.values as unknown[]).slice(1).map(String)));
  return rows;
}

const csvRows = (body: Buffer | string) => parse(body.toString().replace(/^\uFEFF/, '')) as string[][];

describe('the appendix tables rebuilt through the import files and the commands', () => {
  let api: TestServer;
  const dir = mkdtempSync(join(tmpdir(), 'mulu-appendix-import-'));
  const ctx = (): RequestContext => ({ em: api.orm.em.fork(), viewer: SYSTEM_VIEWER });

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, YINDU_REGIONS);
    // Appendix 5: each department's steward sends its items file (every other one as XLSX), then its records.
    for (const [d, row] of supervision.entries()) {
      const code = creditCode('410505', 100 + d);
      await createDepartment(api, { creditCode: code, name: row.department, regionCode: '410505' });
      const { mainItems, subItems } = supervisionLayout(row, d);
      const rows = [['部门统一社会信用代码', '主项编码', '主项名称', '设定依据', '子项编码', '子项名称', '子项类别']];
      const named = new Set<string>();
      // The main item's name and legal basis on its first row only, as the docs allow; a main item without sub-items on a row of its own.
      const first = (mainCode: string) => (named.has(mainCode) ? ['', ''] : (named.add(mainCode), [`主项 ${mainCode}`, '《行政处罚法》']));
      for (const item of subItems)
        rows.push([code, item.mainItemCode, ...first(item.mainItemCode), item.code, `子项 ${item.code}`, CATEGORY_TERM[item.category]]);
      for (const main of mainItems) if (!named.has(main.code)) rows.push([code, main.code, ...first(main.code), '', '', '']);
      const xlsx = d % 2 === 1;
      const steward = await api.signToken({ role: 'STEWARD', department: code });
      const response = await http(api, '/imports/supervision-items', {
        token: steward,
        method: 'POST',
        body: xlsx ? await xlsxOf(rows) : `\uFEFF${rows.map((r) => r.join(',')).join('\r\n')}\r\n`,
        contentType: xlsx ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv',
      });
      expect([response.status, response.json().errors]).toEqual([200, []]);
      const records = subItems.flatMap((item) =>
        Array.from({ length: item.records }, (_, r) => ({
          subItemCode: item.code,
          source: 'henan-zhifa',
          externalId: `${item.code}-${r}`,
          occurredAt: '2023-06-10T02:00:00Z',
        })),
      );
      if (records.length) expect(await ingest(api, code, records)).toMatchObject({ accepted: records.length, rejected: [] });
    }
    // Appendix 4: the import command registers the directories (drafts); GraphQL publishes them and mounts the data.
    for (const [d, row] of resources.entries()) {
      const code = creditCode('410505', 200 + d);
      await createDepartment(api, { creditCode: code, name: row.department, regionCode: '410505' });
      const published = Number(row.published_directories);
      const directories = Array.from({ length: published }, (_, i) => `ZY-${d}-${i}`);
      const file = join(dir, `directories-${d}.csv`);
      writeFileSync(
        file,
        [
          '部门统一社会信用代码,目录编码,目录名称,资源格式,共享类型,更新周期,信息项名称,信息项数据类型',
          ...directories.map((c) => `${code},${c},资源 ${c},数据库,无条件共享,每月,名称,字符型`),
        ].join('\n'),
      );
      expect(await importCommand(ctx(), ['--kind', 'directories', '--file', file])).toMatchObject({ failed: false });
      await runMutations(
        api,
        'publishDirectory',
        'DirectoryTransitionInput',
        directories.map((c) => ({ directory: { code: c } })),
      );
      const volumes = split(Number(row.data_volume), Number(row.mounted_directories));
      await runMutations(
        api,
        'mountDataset',
        'MountDatasetInput',
        volumes.map((recordCount, i) => ({ directory: { code: directories[i] }, kind: 'TABLE', locator: `ods.${directories[i]}`, recordCount })),
      );
    }
    expect(await snapshotCommand(ctx(), ['--period', '2023-06'])).toBe('Captured 2023-06: 19 departments, 3 regions.');
  }, 120_000);
  afterAll(() => api.close());

  it('prints every cell of both tables, to the digit, through the export command and /reports as CSV and XLSX', async () => {
    for (const [table, expected] of [
      ['resources', expectedResources()],
      ['supervision', expectedSupervision()],
    ] as const) {
      const out = join(dir, `${table}.csv`);
      await exportCommand(ctx(), ['--region', '410505', '--period', '2023-06', '--table', table, '--format', 'csv', '--out', out]);
      expect(csvRows(readFileSync(out)).slice(1)).toEqual(expected);
      const csv = await http(api, `/reports/410505/2023-06/${table}.csv`);
      expect(csv.body.equals(readFileSync(out))).toBe(true);
      expect((await xlsxRows((await http(api, `/reports/410505/2023-06/${table}.xlsx`)).body)).slice(1)).toEqual(expected);
    }
  });

  it("shows the same rows, totals and ranks in the dashboard's query", async () => {
    const data = await api.ok(print(RegionPageQuery), { code: '410505', period: '2023-06', rows: 100, belowNames: 30 });
    const report = data.region.report;
    const totals = expectedResources().at(-1)!;
    expect(report.region.figures.mount).toMatchObject({
      publishedDirectories: Number(totals[1]),
      mountedDirectories: Number(totals[2]),
      dataVolume: Number(totals[3]),
    });
    expect(`${report.region.figures.mount.mountRatePercent}%`).toBe(totals[4]);
    const supervisionTotals = expectedSupervision().at(-1)!;
    expect([report.region.figures.supervision.mainCoverageRatePercent, report.region.figures.supervision.subCoverageRatePercent].map((p) => `${p}%`)).toEqual([
      supervisionTotals[3],
      supervisionTotals.at(-1),
    ]);
    const appendix4 = (report.appendix4 as { name: string; figures: { mount: Record<string, unknown> } }[]).map((u) => [
      u.name,
      String(u.figures.mount.publishedDirectories),
      String(u.figures.mount.mountedDirectories),
      String(u.figures.mount.dataVolume),
      u.figures.mount.mountRatePercent === null ? '-' : `${String(u.figures.mount.mountRatePercent)}%`,
    ]);
    expect(appendix4).toEqual(
      expectedResources()
        .slice(0, -1)
        .map((row) => row.slice(0, 5)),
    );
    const appendix5 = (report.appendix5 as { name: string; figures: { supervision: Record<string, string | null> } }[]).map((u) => [
      u.name,
      u.figures.supervision.mainCoverageRatePercent,
      u.figures.supervision.subCoverageRatePercent,
    ]);
    expect(appendix5).toEqual(
      expectedSupervision()
        .slice(0, -1)
        .map((row) => [row[0], ...[row[3], row.at(-1)!].map((p) => (p === '-' ? null : p.replace('%', '')))]),
    );
    // Mount-rate ranks among the 8 rated departments: 100.00% twice (司法局 before 教育局 by name), then in the table's order.
    const mountRanks = (report.ranking as { name: string; ranks: { metric: string; rank: number | null; of: number }[] }[]).map((u) => [
      u.name,
      u.ranks.find((r) => r.metric === 'MOUNT_RATE')!.rank,
      u.ranks.find((r) => r.metric === 'MOUNT_RATE')!.of,
    ]);
    expect(mountRanks.slice(0, 3)).toEqual([
      ['殷都区司法局', 1, 8],
      ['殷都区教育局', 2, 8],
      ['殷都区人社局', 3, 8],
    ]);
    expect(mountRanks.slice(8).every(([, rank, of]) => rank === null && of === 8)).toBe(true);
    expect(report.belowThreshold).toEqual([
      {
        metric: 'MOUNT_RATE',
        departmentCount: 2,
        departments: [
          { code: creditCode('410505', 207), name: '殷都区交通局' },
          { code: creditCode('410505', 206), name: '殷都区民政局' },
        ],
      },
    ]);
  });
});
