import { Readable } from 'node:stream';
import { createInflateRaw, crc32 } from 'node:zlib';
import { badInput, isBadCompressedData, tooLarge } from './errors';

/**
 * What reading an uploaded workbook may hold: an import's limits
 * (modules/imports/import-limits.ts) and a bulk load's
 * (modules/sharing/sharing.routes.ts) are both of this shape.
 */
export interface XlsxLimits {
  /** Characters in one cell: Excel's own limit. */
  maxCellChars: number;
  /** Bytes the parts that are read (the first sheet, shared strings, styles) may inflate to. */
  maxUncompressedBytes: number;
}

/** The largest XLSX upload, imports and hosted datasets alike: a workbook is read whole, its table of contents being at its end. */
export const MAX_XLSX_UPLOAD_BYTES = 60 * 1024 * 1024;

/**
 * The caps of an XLSX upload unless configured otherwise: Excel's longest
 * cell, and 100 MB inflated (import-limits.ts says why for imports).
 */
export const DEFAULT_XLSX_LIMITS: Readonly<XlsxLimits> = { maxCellChars: 32_767, maxUncompressedBytes: 100 * 1024 * 1024 };

/** One file in a zip archive, as its central directory describes it. */
interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc: number;
  localOffset: number;
}

/** Files an XLSX workbook of a few sheets holds; thousands mean something else. */
const MAX_ENTRIES = 10_000;

/** Said of any upload that is not a readable workbook. */
/**
 * A cell's whole number as the text it shows when its format is zeros only
 * ("000000"): how stewards keep the leading zeros of codes, postcodes and
 * area codes typed into a number cell (Excel drops them from the value, and
 * the format puts them back on screen). What they typed and see is
 * "000123", not 123; a number item reads the text as the same number. Any
 * other value, or format, as it is.
 */
export function shownDigits(value: unknown, numFmt: string | undefined): unknown {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || !numFmt || !/^0{2,}$/.test(numFmt)) return value;
  return String(value).padStart(numFmt.length, '0');
}

/**
 * A formula's number result in a cell formatted as a date (`=TODAY()`,
 * `=A2+30`, `=DATE(2026,1,5)`) as the date it shows, as a date typed in such
 * a cell is read: exceljs's streaming reader turns only the latter into a
 * Date, and the former came out as its serial (46027). The date format and
 * the serial's epoch are exceljs's own rule for typed dates (1900 or 1904
 * date system). Any other value as it is.
 */
export function formulaDate(value: unknown, numFmt: string | undefined, date1904: boolean): unknown {
  if (!value || typeof value !== 'object' || !('formula' in value || 'sharedFormula' in value)) return value;
  const result = (value as { result?: unknown }).result;
  if (typeof result !== 'number' || !Number.isFinite(result) || !numFmt) return value;
  // Text in quotes and [brackets] (colours, locales, elapsed time) is not the format's date letters.
  if (!/[ymdhMsb]/.test(numFmt.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, ''))) return value;
  return { ...value, result: new Date(Math.round((result - 25569 + (date1904 ? 1462 : 0)) * 86_400_000)) };
}

export const NOT_XLSX = 'The XLSX file cannot be read; save it again from the spreadsheet program as an Excel workbook (.xlsx).';
const megabytes = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

/** The archive's table of contents, from the end of the file; a malformed or ZIP64 archive is refused. */
function centralDirectory(zip: Buffer): ZipEntry[] {
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) throw badInput(NOT_XLSX);
  const count = zip.readUInt16LE(end + 10);
  const size = zip.readUInt32LE(end + 12);
  const offset = zip.readUInt32LE(end + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff)
    throw tooLarge('The XLSX file is a ZIP64 archive, which only workbooks of several gigabytes need; an upload holds far less.');
  if (count > MAX_ENTRIES) throw tooLarge(`The XLSX file holds ${count} parts; a workbook holds a few dozen.`);
  if (offset + size > end) throw badInput(NOT_XLSX);
  const entries: ZipEntry[] = [];
  let at = offset;
  for (let n = 0; n < count; n++) {
    if (at + 46 > end || zip.readUInt32LE(at) !== 0x02014b50) throw badInput(NOT_XLSX);
    const nameLength = zip.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    if (next > end) throw badInput(NOT_XLSX);
    entries.push({
      method: zip.readUInt16LE(at + 10),
      crc: zip.readUInt32LE(at + 16),
      compressedSize: zip.readUInt32LE(at + 20),
      uncompressedSize: zip.readUInt32LE(at + 24),
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
      localOffset: zip.readUInt32LE(at + 42),
    });
    at = next;
  }
  return entries;
}

/** An entry's compressed bytes, found through its local header. */
function compressedData(zip: Buffer, entry: ZipEntry): Buffer {
  const at = entry.localOffset;
  if (at + 30 > zip.length || zip.readUInt32LE(at) !== 0x04034b50) throw badInput(NOT_XLSX);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  if (start + entry.compressedSize > zip.length) throw badInput(NOT_XLSX);
  return zip.subarray(start, start + entry.compressedSize);
}

/**
 * The first visible worksheet in the workbook's own order (its first
 * `<sheet>` not hidden), or the lowest-numbered one. Visible: the first tab a
 * steward sees on opening the file, whereas a hidden sheet (a lookup list
 * behind a drop-down, old data set aside) is one they do not see and would
 * not think was read. Not the active sheet: a file saved while another tab
 * was open would then be read from that tab.
 */
function firstSheetName(names: Set<string>, workbookXml: string | undefined, relsXml: string | undefined): string | undefined {
  const tabs = workbookXml?.match(/<(?:\w+:)?sheet\b[^>]*>/g) ?? [];
  const visible = tabs.find((tab) => !/\bstate="(?:hidden|veryHidden)"/.test(tab)) ?? tabs[0];
  const rId = visible ? /\br:id="([^"]+)"/.exec(visible)?.[1] : undefined;
  if (rId && relsXml) {
    for (const relationship of relsXml.match(/<(?:\w+:)?Relationship\b[^>]*>/g) ?? []) {
      if (/\bId="([^"]+)"/.exec(relationship)?.[1] !== rId) continue;
      const target = /\bTarget="([^"]+)"/.exec(relationship)?.[1];
      if (!target) break;
      const path = target.startsWith('/') ? target.slice(1) : `xl/${target}`;
      if (names.has(path)) return path;
    }
  }
  const sheets = [...names].filter((name) => /^xl\/worksheets\/[^/]+\.xml$/.test(name));
  return sheets.sort((a, b) => a.length - b.length || a.localeCompare(b))[0];
}

/**
 * Inflates one entry as a stream and counts: past its declared size (an
 * archive that lies about its sizes, as zip bombs do), past what the whole
 * import may inflate to, or with a run of text between two tags longer than
 * any cell may be, it is refused at once. What is read is thrown away,
 * except for `keep` small entries (the workbook and its relationships).
 */
async function inspect(zip: Buffer, entry: ZipEntry, limits: XlsxLimits, budget: { used: number }, keep: boolean): Promise<string | undefined> {
  if (entry.method !== 0 && entry.method !== 8)
    throw badInput(`The XLSX file uses a compression method (${entry.method}) spreadsheet programs do not write; save it again as an Excel workbook (.xlsx).`);
  const data = compressedData(zip, entry);
  const source = Readable.from([data], { objectMode: false });
  const stream = entry.method === 8 ? source.pipe(createInflateRaw()) : source;
  // Text between two tags: a cell's characters, escaped (&amp; is five bytes, a Chinese character three).
  const longestRun = limits.maxCellChars * 8 + 1024;
  const kept: Buffer[] = [];
  let inflated = 0;
  let run = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      inflated += chunk.length;
      budget.used += chunk.length;
      if (inflated > entry.uncompressedSize)
        throw tooLarge(
          `The XLSX file is not what it says: its part ${entry.name} declares ${entry.uncompressedSize} bytes but inflates to more. It was refused unread.`,
        );
      if (budget.used > limits.maxUncompressedBytes)
        throw tooLarge(
          `The XLSX file inflates to more than ${megabytes(limits.maxUncompressedBytes)}; an upload may inflate to at most that. Split it into several files.`,
        );
      for (let i = 0; ;) {
        const tag = chunk.indexOf(0x3c, i);
        run += (tag < 0 ? chunk.length : tag) - i;
        if (run > longestRun) throw tooLarge(`The XLSX file has a cell longer than ${limits.maxCellChars} characters, the most a cell may hold.`);
        if (tag < 0) break;
        run = 0;
        i = tag + 1;
      }
      if (keep) kept.push(chunk);
    }
  } catch (error) {
    if (isBadCompressedData(error)) throw badInput(NOT_XLSX);
    throw error;
  } finally {
    source.destroy();
    if (stream !== source) stream.destroy();
  }
  return keep ? Buffer.concat(kept).toString('utf8') : undefined;
}

function localHeader(name: Buffer, method: number, crc: number, compressedSize: number, uncompressedSize: number): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(0x0800, 6); // names are UTF-8
  header.writeUInt16LE(method, 8);
  header.writeUInt32LE(crc, 14);
  header.writeUInt32LE(compressedSize, 18);
  header.writeUInt32LE(uncompressedSize, 22);
  header.writeUInt16LE(name.length, 26);
  return header;
}

function centralHeader(name: Buffer, method: number, crc: number, compressedSize: number, uncompressedSize: number, localOffset: number): Buffer {
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(20, 6);
  header.writeUInt16LE(0x0800, 8);
  header.writeUInt16LE(method, 10);
  header.writeUInt32LE(crc, 16);
  header.writeUInt32LE(compressedSize, 20);
  header.writeUInt32LE(uncompressedSize, 24);
  header.writeUInt16LE(name.length, 28);
  header.writeUInt32LE(localOffset, 42);
  return header;
}

/** Zip parts, as (name, method, crc, sizes, compressed bytes), written into one new archive. */
function archive(parts: { name: string; method: number; crc: number; uncompressedSize: number; data: Buffer }[]): Buffer[] {
  const out: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const name = Buffer.from(part.name, 'utf8');
    const local = localHeader(name, part.method, part.crc, part.data.length, part.uncompressedSize);
    central.push(centralHeader(name, part.method, part.crc, part.data.length, part.uncompressedSize, offset), name);
    out.push(local, name, part.data);
    offset += local.length + name.length + part.data.length;
  }
  const size = central.reduce((sum, b) => sum + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(offset, 16);
  return [...out, ...central, end];
}

const stored = (name: string, text: string) => {
  const data = Buffer.from(text, 'utf8');
  return { name, method: 0, crc: crc32(data), uncompressedSize: data.length, data };
};

/**
 * Checks an XLSX upload before any spreadsheet parser sees it, and returns
 * the archive the parser may read: only the parts that reading the first
 * sheet needs (relationships, workbook, styles, shared strings, the sheet
 * as `sheet1.xml`), in the order a streaming reader wants them, each one
 * verified by inflating it under the caps. Refused: sizes declared beyond
 * the cap (at once, from the table of contents), parts that inflate beyond
 * what they declare or the cap (while inflating, before the rest is read),
 * text runs longer than a cell, unknown compression, malformed archives.
 */
export async function checkedWorkbook(zip: Buffer, limits: XlsxLimits): Promise<Readable> {
  const entries = centralDirectory(zip);
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  const budget = { used: 0 };
  const small = async (name: string) => {
    const entry = byName.get(name);
    return entry ? inspect(zip, entry, limits, budget, true) : undefined;
  };
  const rels = await small('xl/_rels/workbook.xml.rels');
  const workbook = await small('xl/workbook.xml');
  const sheetName = firstSheetName(new Set(byName.keys()), workbook, rels);
  if (!sheetName) throw badInput('The XLSX workbook has no worksheet.');
  const large = [byName.get('xl/styles.xml'), byName.get('xl/sharedStrings.xml'), byName.get(sheetName)];
  const declared = budget.used + large.reduce((sum, entry) => sum + (entry?.uncompressedSize ?? 0), 0);
  if (declared > limits.maxUncompressedBytes) {
    throw tooLarge(
      `The XLSX file inflates to ${megabytes(declared)}; an upload may inflate to at most ${megabytes(limits.maxUncompressedBytes)}. Split it into several files.`,
    );
  }
  for (const entry of large) if (entry) await inspect(zip, entry, limits, budget, false);
  const copy = (entry: ZipEntry | undefined, name: string) =>
    entry ? [{ name, method: entry.method, crc: entry.crc, uncompressedSize: entry.uncompressedSize, data: compressedData(zip, entry) }] : [];
  const parts = [
    ...(rels !== undefined
      ? copy(byName.get('xl/_rels/workbook.xml.rels'), 'xl/_rels/workbook.xml.rels')
      : [stored('xl/_rels/workbook.xml.rels', '<Relationships/>')]),
    ...copy(byName.get('xl/workbook.xml'), 'xl/workbook.xml'),
    ...copy(large[0], 'xl/styles.xml'),
    ...(large[1] ? copy(large[1], 'xl/sharedStrings.xml') : [stored('xl/sharedStrings.xml', '<sst/>')]),
    ...copy(large[2], 'xl/worksheets/sheet1.xml'),
  ];
  return Readable.from(archive(parts));
}
