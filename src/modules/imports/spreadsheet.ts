import { Readable } from 'node:stream';
import { cleanText, isIdentifierName, titleRowHint, trimEdges, trimText } from '../../core/text';
import ExcelJS from 'exceljs';
import { parse, CsvError } from 'csv-parse';
import { notTextOf } from '../../core/charset';
import { badInput, MuluError, tooLarge } from '../../core/errors';
import type { ImportColumn } from './import-columns';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from './import-limits';
import { checkedWorkbook, NOT_XLSX, shownDigits } from '../../core/xlsx-archive';

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

export const MAX_IMPORT_ROWS = DEFAULT_IMPORT_LIMITS.maxRows;

/** XLSX files are zip archives: they start with "PK\x03\x04". */
export function detectFormat(body: Buffer, contentType?: string): SheetFormat {
  if (body.length >= 4 && body.readUInt32BE(0) === 0x504b0304) return 'xlsx';
  if (contentType && /spreadsheetml|excel/i.test(contentType)) throw badInput('The file is not a valid XLSX workbook.');
  return 'csv';
}

/** One row of the file as text cells, with its row number. */
interface Record_ {
  row: number;
  values: string[];
}

/** The body in slices, so a parser works through it a piece at a time and the event loop keeps turning. */
function* slices(body: Buffer, size = 64 * 1024): Generator<Buffer> {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}

const tooWide = (row: number, cells: number, limits: ImportLimits) =>
  tooLarge(`Row ${row} has ${cells} cells; a file may have at most ${limits.maxColumns} columns.`);

async function* csvRecords(body: Buffer, limits: ImportLimits, charset: string): AsyncGenerator<Record_> {
  // Decoded by the rule of every steward's file (core/charset.ts); the whole file at once, as an import is all or nothing.
  let text: Buffer;
  try {
    const decoded = new TextDecoder(charset, { fatal: true }).decode(body);
    text = charset === 'utf-8' ? body : Buffer.from(decoded, 'utf8');
  } catch {
    throw badInput(`The CSV file is ${notTextOf(charset)}`);
  }
  // Rows of any width are read (readSheet reports those wider than the header), up to the column cap; a line may not hold more than every column at its longest.
  const parser = Readable.from(slices(text)).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: false, trim: false, max_record_size: limits.maxCellChars * limits.maxColumns }),
  );
  let row = 0;
  try {
    for await (const values of parser as AsyncIterable<string[]>) {
      row++;
      if (values.length > limits.maxColumns) throw tooWide(row, values.length, limits);
      yield { row, values };
    }
  } catch (error) {
    if (error instanceof CsvError) {
      if (error.code === 'CSV_MAX_RECORD_SIZE')
        throw tooLarge(
          `Row ${row + 1} of the CSV file is longer than ${limits.maxColumns} cells of ${limits.maxCellChars} characters, the most a row may hold.`,
        );
      throw badInput(`The CSV file cannot be read: ${error.message}`);
    }
    throw error;
  } finally {
    parser.destroy();
  }
}

async function* xlsxRecords(body: Buffer, limits: ImportLimits): AsyncGenerator<Record_> {
  // Checked and cut down to the parts the first sheet needs, before the parser sees any of it (core/xlsx-archive.ts).
  const archive = await checkedWorkbook(body, limits);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(archive, {
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    worksheets: 'emit',
    entries: 'ignore',
  });
  try {
    for await (const sheet of reader) {
      for await (const row of sheet) {
        if (!row.hasValues) continue;
        if (row.cellCount > limits.maxColumns) throw tooWide(row.number, row.cellCount, limits);
        const values: string[] = [];
        row.eachCell({ includeEmpty: true }, (cell, column) => {
          // A code typed as a number in a cell formatted "000000" is the text it shows (core/xlsx-archive.ts).
          values[column - 1] = typeof cell.value === 'number' ? String(shownDigits(cell.value, cell.numFmt)) : (cell.text ?? '');
        });
        yield { row: row.number, values: Array.from(values, (v) => v ?? '') };
      }
      // The first sheet only (the archive holds no other).
      return;
    }
  } catch (error) {
    if (error instanceof MuluError) throw error;
    throw badInput(NOT_XLSX);
  } finally {
    archive.destroy();
  }
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
 * Reads the first sheet of a CSV (UTF-8 or the `charset` its content type
 * declares, with or without BOM) or XLSX file
 * as a stream, within `limits` (import-limits.ts): the first row names the
 * columns (Chinese label or English key, any order, unknown columns
 * refused), every later non-empty row is data. A row with cells past the
 * header's columns is a row error, never silently cut. Only the header's
 * columns of each row are kept, and a file over a cap is refused (413) as
 * soon as the row that passes it is read.
 */
export async function readSheet(
  body: Buffer,
  format: SheetFormat,
  columns: ImportColumn[],
  limits: ImportLimits = DEFAULT_IMPORT_LIMITS,
  charset = 'utf-8',
): Promise<Sheet> {
  if (body.length === 0) throw badInput('The file is empty.');
  const records = format === 'csv' ? csvRecords(body, limits, charset) : xlsxRecords(body, limits);
  let header: string[] | undefined;
  let keys: (string | null)[] = [];
  let headerCells = 0;
  let namedColumns = 0;
  const rows: SheetRow[] = [];
  const rowErrors: SheetRowError[] = [];
  for await (const { row: rowNumber, values } of records) {
    const long = values.findIndex((v) => v.length > limits.maxCellChars);
    if (long >= 0)
      throw tooLarge(`Row ${rowNumber}, column ${columnLetter(long)} holds ${values[long].length} characters; a cell may hold at most ${limits.maxCellChars}.`);
    if (!header) {
      header = values.map((h) => h.trim());
      keys = header.map((h) => columns.find((c) => c.label === h || c.key === h.toLowerCase())?.key ?? null);
      const unknown = header.filter((h, i) => h && keys[i] === null);
      if (unknown.length)
        throw badInput(
          `Unknown column(s) ${unknown.map((u) => `"${u}"`).join(', ')}; the columns are ${columns.map((c) => `${c.label} (${c.key})`).join(', ')}.${titleRowHint(header)}`,
        );
      const missing = columns.filter((c) => c.required && !keys.includes(c.key));
      if (missing.length)
        throw badInput(`Missing column(s): ${missing.map((c) => `${c.label} (${c.key})`).join(', ')}. Download the template for the columns.`);
      const twice = keys.filter((k, i) => k && keys.indexOf(k) !== i);
      if (twice.length) throw badInput(`Column ${twice[0]} appears twice.`);
      headerCells = values.length;
      namedColumns = header.reduce((last, h, i) => (h ? i + 1 : last), 0);
      continue;
    }
    if (values.every(isBlank)) continue;
    if (rows.length + rowErrors.length >= limits.maxRows)
      throw tooLarge(`The file has more than ${limits.maxRows} rows; import at most ${limits.maxRows} at a time.`);
    const reason = misfit(values, format, headerCells, namedColumns);
    if (reason) {
      rowErrors.push({ row: rowNumber, reason });
      continue;
    }
    const cells: Record<string, string> = {};
    try {
      // The same text hygiene as GraphQL input (core/text.ts): control characters refused, NFC; a code column
      // keeps the invisible characters inside, which its form refuses, where a name loses them (trimText).
      keys.forEach((key, c) => {
        if (key) cells[key] = (isIdentifierName(key) ? trimEdges : trimText)(cleanText(values[c] ?? '', key));
      });
    } catch (error) {
      rowErrors.push({ row: rowNumber, reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    rows.push({ row: rowNumber, cells });
  }
  if (!header) throw badInput('The file has no header row.');
  if (rows.length + rowErrors.length === 0) throw badInput('The file has a header but no data rows.');
  return { rows, rowErrors };
}
