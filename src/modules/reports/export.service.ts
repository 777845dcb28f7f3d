import ExcelJS from 'exceljs';
import { badInput, notFound } from '../../core/errors';
import { percent } from '../../core/numbers';
import type { RequestContext } from '../../core/request-context';
import { identifierCode } from '../../core/text';
import { SUPERVISION_CATEGORIES, SupervisionCategory } from '../supervision/supervision.entity';
import { coveredSubItemsOf, sortInReportOrder, subItemsOf } from './report-figures';
import { ReportUnitKind, type UnitFigures } from './report-snapshot.entity';
import { currentPeriod, isLivePeriod, LIVE_PERIOD } from './period';
import { reportService } from './report.service';
import type { UnitWithFigures } from './unit-figures.service';
import { EMPTY_USAGE_FIGURES } from '../sharing/usage.service';

/** The appendix tables of the monthly report. */
export const APPENDIX_TABLES = ['resources', 'supervision'] as const;
export type AppendixTable = (typeof APPENDIX_TABLES)[number];
export const EXPORT_FORMATS = ['csv', 'xlsx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** A cell as printed: counts as numbers, rates as "62.39%" text, "-" for a rate that does not exist. */
export type Cell = string | number;

export interface ExportTable {
  /** e.g. "附件4 殷都区资源目录挂载情况（2023-06）": the sheet's title. */
  title: string;
  /** Sheet name in the workbook (at most 31 characters). */
  sheetName: string;
  header: string[];
  /** Department rows in the report's order, then the totals row (合计). */
  rows: Cell[][];
}

const CATEGORY_LABEL: Record<SupervisionCategory, string> = {
  [SupervisionCategory.INSPECTION]: '行政检查',
  [SupervisionCategory.PENALTY]: '行政处罚',
  [SupervisionCategory.COERCION]: '行政强制',
  [SupervisionCategory.OTHER]: '其他',
};

/** Column headers as the report prints them (docs/api.md, "Appendix exports"), then the use of hosted data (docs/data-sharing.md). */
export const RESOURCES_HEADER = [
  '部门',
  '已发布资源目录数',
  '已挂载资源目录数',
  '资源数据总量',
  '资源挂载率',
  '资源被使用次数',
  '资源被使用数据量',
  '资源使用次数',
  '资源使用数据量',
];
export const SUPERVISION_HEADER = [
  '部门',
  '主项数',
  '主项覆盖数',
  '主项覆盖率',
  ...SUPERVISION_CATEGORIES.flatMap((c) => [`${CATEGORY_LABEL[c]}子项数`, `${CATEGORY_LABEL[c]}子项覆盖数`, `${CATEGORY_LABEL[c]}汇聚数`]),
  '子项覆盖率',
];
export const TOTAL_LABEL = '合计';

const printed = (numerator: number, denominator: number): string => {
  const p = percent(numerator, denominator);
  return p === null ? '-' : `${p}%`;
};

function resourcesRow(name: string, f: UnitFigures): Cell[] {
  const m = f.mount;
  // Use of hosted data (docs/data-sharing.md): months captured before it was counted have none.
  const u = f.usage ?? EMPTY_USAGE_FIGURES;
  return [
    name,
    m.publishedDirectories,
    m.mountedDirectories,
    m.dataVolume,
    printed(m.mountedDirectories, m.publishedDirectories),
    u.provided.requests,
    u.provided.rowsDelivered,
    u.used.requests,
    u.used.rowsDelivered,
  ];
}

function supervisionRow(name: string, f: UnitFigures): Cell[] {
  const s = f.supervision;
  const categories = SUPERVISION_CATEGORIES.flatMap((category) => {
    const c = s.byCategory.find((x) => x.category === category)!;
    return [c.subItems, c.coveredSubItems, c.records];
  });
  return [name, s.mainItems, s.coveredMainItems, printed(s.coveredMainItems, s.mainItems), ...categories, printed(coveredSubItemsOf(f), subItemsOf(f))];
}

export function requireTable(value: string): AppendixTable {
  if (!(APPENDIX_TABLES as readonly string[]).includes(value))
    throw badInput(`There is no appendix table "${value}"; use one of ${APPENDIX_TABLES.join(', ')}.`);
  return value as AppendixTable;
}

export function requireFormat(value: string): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(value)) throw badInput(`Exports are written as ${EXPORT_FORMATS.join(' or ')}, not "${value}".`);
  return value as ExportFormat;
}

/** Builds an appendix table from units (pure: no database). */
export function buildTable(table: AppendixTable, regionName: string, period: string, region: UnitWithFigures, departments: UnitWithFigures[]): ExportTable {
  const rowOf = table === 'resources' ? resourcesRow : supervisionRow;
  return {
    title: table === 'resources' ? `附件4 ${regionName}资源发布情况（${period}）` : `附件5 ${regionName}监管数据情况（${period}）`,
    sheetName: table === 'resources' ? '资源发布情况' : '监管数据情况',
    header: table === 'resources' ? RESOURCES_HEADER : SUPERVISION_HEADER,
    rows: [...sortInReportOrder(table, departments).map((d) => rowOf(d.name, d.figures)), rowOf(TOTAL_LABEL, region.figures)],
  };
}

/**
 * Text a spreadsheet program would run as a formula when it opens the CSV
 * (CSV injection): text starting with =, +, -, @, a tab or a carriage
 * return. "-" alone, the printed missing rate, is no formula.
 */
const formulaLike = (text: string) => /^[=+\-@\t\r]/.test(text) && text !== '-';

function csvField(cell: Cell): string {
  // A leading single quote makes a spreadsheet program keep the cell as text.
  // Counts are numbers (a negative count stays a number); only text is guarded.
  const text = typeof cell === 'string' && formulaLike(cell) ? `'${cell}` : String(cell);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * CSV as spreadsheet programs open Chinese text: UTF-8 with a byte-order
 * mark, CRLF line ends; text that would be read as a formula starts with a
 * single quote. (XLSX needs no guard: its text cells are typed as strings.)
 */
export function toCsv(header: string[], rows: Cell[][]): Buffer {
  const lines = [header, ...rows].map((row) => row.map(csvField).join(','));
  return Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`, 'utf8');
}

/**
 * Spreadsheet programs keep 15 significant digits of a number, and their
 * General format shows one of 12 digits or more in E notation (a data
 * volume of 999999999999912 as 1E+15). So a count is a number in the "0"
 * format, shown in full, while it has at most 15 digits, and text of its
 * digits beyond (as a count past 2^53 already is): every figure reads to
 * the last digit.
 */
const SPREADSHEET_DIGITS = 15;
function addXlsxRow(sheet: ExcelJS.Worksheet, row: Cell[]) {
  const added = sheet.addRow(row.map((cell) => (typeof cell === 'number' && String(cell).length > SPREADSHEET_DIGITS ? String(cell) : cell)));
  added.eachCell((cell) => {
    if (typeof cell.value === 'number') cell.numFmt = '0';
  });
}

/**
 * One worksheet: the header row (bold, frozen), then the rows; counts as
 * numbers (see addXlsxRow), rates as text. `textColumns` formats every column as text, so
 * that codes typed into a template keep their digits (no 1.14E+17).
 */
export async function toXlsx(sheetName: string, header: string[], rows: Cell[][], title?: string, textColumns = false): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Mulu';
  if (title) workbook.title = title;
  const sheet = workbook.addWorksheet(sheetName, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.addRow(header).font = { bold: true };
  for (const row of rows) addXlsxRow(sheet, row);
  sheet.columns.forEach((column, i) => {
    column.width = Math.max(10, ...[header[i], ...rows.map((r) => r[i])].map((v) => String(v ?? '').length * 2));
    if (textColumns) column.numFmt = '@';
  });
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

export interface ExportFile {
  fileName: string;
  contentType: string;
  body: Buffer;
}

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export const exportService = {
  /** An appendix table of a region and month, as the report prints it. Any signed-in caller may export. */
  async table(ctx: RequestContext, regionCode: string, period: string, table: AppendixTable): Promise<ExportTable> {
    const { region, side } = await reportService.unitsOf(ctx, regionCode, period);
    const regionUnit = side.units.find((u) => u.kind === ReportUnitKind.REGION && u.key === region.code);
    if (!regionUnit) throw notFound(`Region ${region.code} (${region.name}) was not in the snapshot of ${side.period}.`);
    const departments = side.units.filter((u) => u.kind === ReportUnitKind.DEPARTMENT);
    return buildTable(table, regionUnit.name, side.period, regionUnit, departments);
  },

  /** An appendix table as a CSV or XLSX file, named `{region}-{period}-{table}.{format}` (GET /reports/..., npm run export). */
  async file(ctx: RequestContext, regionCode: string, period: string, table: AppendixTable, format: ExportFormat): Promise<ExportFile> {
    const built = await this.table(ctx, regionCode, period, table);
    const body = format === 'csv' ? toCsv(built.header, built.rows) : await toXlsx(built.sheetName, built.header, built.rows, built.title);
    // Named by the code as found (unitsOf), not as typed in the URL; the live figures by their month and "live", apart
    // from the month's snapshot.
    const when = isLivePeriod(period) ? `${currentPeriod()}-${LIVE_PERIOD}` : period;
    return { fileName: `${identifierCode(regionCode)}-${when}-${table}.${format}`, contentType: CONTENT_TYPES[format], body };
  },
};
