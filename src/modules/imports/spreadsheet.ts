import { cleanText } from '../../core/text';
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

/** A data row that cannot be read as the header's columns: reported, and not checked further. */
export interface SheetRowError {
  row: number;
  reason: string;
}

/** What a file holds: its readable data rows, and the rows it could not read. */
export interface Sheet {
  rows: SheetRow[];
  rowErrors: SheetRowError[];
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
      // Rows of any width are read; readSheet reports those wider than the header.
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

/** The spreadsheet name of a column: 0 -> A, 8 -> I, 26 -> AA. */
function columnLetter(index: number): string {
  let letters = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  return letters;
}

const isBlank = (value: string | undefined) => !value || !value.trim();

/**
 * Why a data row does not fit the header, or null. Its cells would land
 * under the wrong columns, or be dropped: in CSV most often a value with an
 * unquoted comma, which moves every later value one column right (the last,
 * perhaps blank, one past the header). A CSV row may not have more cells
 * than the header row, nor a value past the last named column; an XLSX row
 * may not have a value past the last named column.
 */
function misfit(values: string[], format: SheetFormat, headerCells: number, namedColumns: number): string | null {
  const beyond = values.findIndex((v, c) => c >= namedColumns && !isBlank(v));
  if (format === 'csv') {
    if (values.length <= headerCells && beyond < 0) return null;
    return `This row has ${values.length} cells but the header names ${namedColumns} columns. A value containing a comma must be enclosed in double quotes ("城乡低保,特困人员"); otherwise delete the extra cells.`;
  }
  if (beyond < 0) return null;
  const value = values[beyond].trim();
  return `This row has a value in column ${columnLetter(beyond)} ("${value.length > 50 ? `${value.slice(0, 50)}…` : value}"), beyond the ${namedColumns} columns the header names; put every value under a named column, or delete the extra cells.`;
}

/**
 * Reads the first sheet of a CSV (UTF-8, with or without BOM) or XLSX file:
 * the first row names the columns (Chinese label or English key, any order,
 * unknown columns refused), every later non-empty row is data. A row with
 * cells past the header's columns is a row error, never silently cut.
 */
export async function readSheet(body: Buffer, format: SheetFormat, columns: ImportColumn[]): Promise<Sheet> {
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
  const namedColumns = header.reduce((last, h, i) => (h ? i + 1 : last), 0);
  const rows: SheetRow[] = [];
  const rowErrors: SheetRowError[] = [];
  for (let i = 1; i < cells.length; i++) {
    const values = cells[i];
    if (values.every(isBlank)) continue;
    const reason = misfit(values, format, cells[0].length, namedColumns);
    if (reason) {
      rowErrors.push({ row: rowNumbers[i], reason });
      continue;
    }
    const row: Record<string, string> = {};
    try {
      // The same text hygiene as GraphQL input (core/text.ts): control characters refused, NFC.
      keys.forEach((key, c) => {
        if (key) row[key] = cleanText(values[c] ?? '', key).trim();
      });
    } catch (error) {
      rowErrors.push({ row: rowNumbers[i], reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    rows.push({ row: rowNumbers[i], cells: row });
  }
  const count = rows.length + rowErrors.length;
  if (count === 0) throw badInput('The file has a header but no data rows.');
  if (count > MAX_IMPORT_ROWS) throw badInput(`The file has ${count} rows; import at most ${MAX_IMPORT_ROWS} at a time.`);
  return { rows, rowErrors };
}
