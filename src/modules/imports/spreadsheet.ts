import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { badInput } from '../../graphql/errors';
import type { ImportColumn } from './import-columns';

export type SheetFormat = 'csv' | 'xlsx';

/** One data row: its row number in the file (the header is row 1) and its cells by column key. */
export interface SheetRow {
  row: number;
  cells: Record<string, string>;
}

export const MAX_IMPORT_ROWS = 100_000;

/** XLSX files are zip archives: they start with "PK\x03\x04". */
export function detectFormat(body: Buffer, contentType?: string): SheetFormat {
  if (body.length >= 4 && body.readUInt32BE(0) === 0x504b0304) return 'xlsx';
  if (contentType && /spreadsheetml|excel/i.test(contentType)) throw badInput('The file is not a valid XLSX workbook.');
  return 'csv';
}

async function readCells(body: Buffer, format: SheetFormat): Promise<{ cells: string[][]; rowNumbers: number[] }> {
  if (format === 'csv') {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      throw badInput('The CSV file is not UTF-8 text. Spreadsheet programs on Chinese Windows save CSV as GBK by default: save it as "CSV UTF-8", or upload the XLSX workbook.');
    }
    let records: string[][];
    try {
      records = parse(body, { bom: true, relax_column_count: true, skip_empty_lines: false, trim: false }) as string[][];
    } catch (error) {
      throw badInput(`The CSV file cannot be read: ${(error as Error).message}`);
    }
    return { cells: records, rowNumbers: records.map((_, i) => i + 1) };
  }
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(body as unknown as ArrayBuffer);
  } catch {
    throw badInput('The XLSX file cannot be read; save it again from the spreadsheet program as an Excel workbook (.xlsx).');
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw badInput('The XLSX workbook has no worksheet.');
  const cells: string[][] = [];
  const rowNumbers: number[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const values: string[] = [];
    row.eachCell({ includeEmpty: true }, (cell, column) => {
      values[column - 1] = cell.text ?? '';
    });
    cells.push(Array.from(values, (v) => v ?? ''));
    rowNumbers.push(rowNumber);
  });
  return { cells, rowNumbers };
}

/**
 * Reads the first sheet of a CSV (UTF-8, with or without BOM) or XLSX file:
 * the first row names the columns (Chinese label or English key, any order,
 * unknown columns refused), every later non-empty row is data.
 */
export async function readSheet(body: Buffer, format: SheetFormat, columns: ImportColumn[]): Promise<SheetRow[]> {
  if (body.length === 0) throw badInput('The file is empty.');
  const { cells, rowNumbers } = await readCells(body, format);
  if (cells.length === 0) throw badInput('The file has no header row.');
  const header = cells[0].map((h) => h.trim());
  const keys = header.map((h) => columns.find((c) => c.label === h || c.key === h.toLowerCase())?.key ?? null);
  const unknown = header.filter((h, i) => h && keys[i] === null);
  if (unknown.length) throw badInput(`Unknown column(s) ${unknown.map((u) => `"${u}"`).join(', ')}; the columns are ${columns.map((c) => `${c.label} (${c.key})`).join(', ')}.`);
  const missing = columns.filter((c) => c.required && !keys.includes(c.key));
  if (missing.length) throw badInput(`Missing column(s): ${missing.map((c) => `${c.label} (${c.key})`).join(', ')}. Download the template for the columns.`);
  const twice = keys.filter((k, i) => k && keys.indexOf(k) !== i);
  if (twice.length) throw badInput(`Column ${twice[0]} appears twice.`);
  const rows: SheetRow[] = [];
  for (let i = 1; i < cells.length; i++) {
    const values = cells[i];
    if (values.every((v) => !v || !v.trim())) continue;
    const row: Record<string, string> = {};
    keys.forEach((key, c) => {
      if (key) row[key] = (values[c] ?? '').trim();
    });
    rows.push({ row: rowNumbers[i], cells: row });
  }
  if (rows.length === 0) throw badInput('The file has a header but no data rows.');
  if (rows.length > MAX_IMPORT_ROWS) throw badInput(`The file has ${rows.length} rows; import at most ${MAX_IMPORT_ROWS} at a time.`);
  return rows;
}
