import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { finished, PassThrough, pipeline, Readable, Transform } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { MikroORM } from '@mikro-orm/postgresql';
import ExcelJS from 'exceljs';
import { Router, type Request, type Response } from 'express';
import { declaredCharset, notTextOf } from '../../core/charset';
import { badInput, MuluError, tooLarge } from '../../core/errors';
import { checkedWorkbook, DEFAULT_XLSX_LIMITS, MAX_XLSX_UPLOAD_BYTES, NOT_XLSX, formulaDate, shownDigits } from '../../core/xlsx-archive';
import { fromGlobalId, rowIdOfKey } from '../../graphql/global-id';
import { authenticateFirst, contentDisposition, contextHandler, jsonFallbacks, withContext } from '../../http/rest';
import { cutWhenStalled, DEFAULT_SEND_STALL_MS } from '../../http/send-stall';
import type { Authenticator } from '../auth/authenticator';
import { requireViewer } from '../../core/permissions';
import { LoadMode, SharingRoute } from './dataset.entity';
import { csvRecords, MAX_CSV_RECORD_CHARS } from './csv-records';
import { datasetService, type SourceRow } from './dataset.service';
import { deliveryService } from './delivery.service';
import type { RowChecker } from './row-check';

type BodyFormat = 'csv' | 'ndjson' | 'xlsx';

const flag = (value: unknown) => typeof value === 'string' && ['1', 'true', 'yes'].includes(value.toLowerCase());

/** A mount named by its global ID (as GraphQL gives it) or its number. */
function mountIdOf(raw: string): number {
  const n = rowIdOfKey(raw);
  if (n !== null) return n;
  const { type, key } = fromGlobalId(raw);
  const id = rowIdOfKey(key);
  if (type !== 'Mount' || id === null) throw badInput(`"${raw}" is not the ID of a Mount.`);
  return id;
}

function formatOf(req: Request): BodyFormat {
  const query = typeof req.query.format === 'string' ? req.query.format.toLowerCase() : null;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const format = query ?? (/spreadsheetml|excel/.test(type) ? 'xlsx' : /ndjson|jsonl|x-json-stream/.test(type) ? 'ndjson' : /csv/.test(type) ? 'csv' : null);
  if (format !== 'csv' && format !== 'ndjson' && format !== 'xlsx') {
    throw badInput(
      'Send the rows as the request body with content type text/csv (UTF-8, header row of item names), application/x-ndjson (one JSON object a line) or the XLSX content type (first sheet, header row of item names).',
    );
  }
  return format;
}

/**
 * The request's body as its content-encoding says to read it: gzip and
 * deflate decoded as they arrive (as /imports and /graphql accept them),
 * none as it is, any other refused. A body that is not what its encoding
 * says is the caller's error (sendError, src/http/rest.ts).
 */
export function decodedBody(req: Request): Readable {
  const encoding = String(req.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  // Unencoded, a pass-through all the same: the request's own stream stays bytes (a reader's setEncoding would make its
  // chunks text), as a decoder's do.
  const plain = encoding === '' || encoding === 'identity';
  const decoder = plain ? new PassThrough() : encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : null;
  if (!decoder)
    throw new MuluError('UNSUPPORTED_MEDIA_TYPE', `The content-encoding "${encoding}" is not supported; send the rows uncompressed, gzip or deflate.`);
  // Data that is not what the encoding says ends the decoding (the rows' reader gets the error; this listener keeps it
  // from being unhandled, and zlib may emit a second one as the stream ends), and the rest of the body is drained so
  // that the answer reaches the caller. A client gone mid-upload ends the decoding.
  decoder.on('error', () => {
    req.unpipe(decoder);
    req.resume();
  });
  // finished() also answers for a request already closed (a client gone while it was authenticated): a 'close'
  // listener added now would never run, and the decoder, fed nothing and never ended, would hold the load (its
  // connection and bulk-lane slot) for good.
  finished(req, { writable: false }, (error) => {
    if (error) decoder.destroy(new Error('The client closed the connection before the body ended.'));
  });
  return req.pipe(decoder);
}

/**
 * The text of a CSV or NDJSON body as UTF-8 bytes: a body in another
 * charset decoded as it arrives (a character cut between chunks too), a
 * UTF-8 one as it is (its bytes that are not UTF-8 are row errors).
 */
export function utf8Text(body: Readable, charset: string): Readable {
  if (charset === 'utf-8') return body;
  const decoder = new TextDecoder(charset);
  const decoded = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      done(null, Buffer.from(decoder.decode(chunk, { stream: true }), 'utf8'));
    },
    flush(done) {
      done(null, Buffer.from(decoder.decode(), 'utf8'));
    },
  });
  return pipeline(body, decoded, () => undefined);
}

/**
 * The body passed through a SHA-256 of its bytes as decoded (the rows' text
 * or workbook, whatever the content-encoding): an idempotent retry carries
 * the same rows, though a client that compresses each attempt anew sends
 * other bytes (gzip's header holds the time it was written), so a load under
 * a used key is told apart from its retry (datasetService.load). `digest`
 * asked before the rows were read (a replay) lets the rest of the body pass
 * through the hash unparsed.
 */
function hashedBody(body: Readable): { body: Readable; digest: () => Promise<string> } {
  const hash = createHash('sha256');
  const hashed = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const whole = new Promise<string>((resolve, reject) => {
    // A failure of the decoding (or a client gone) also reaches the reader of `hashed`, as it reached the decoder's.
    pipeline(body, hashed, (error) => error && reject(error));
    hashed.once('end', () => resolve(hash.digest('hex')));
  });
  whole.catch(() => undefined); // a load whose digest is never asked (it failed first)
  return {
    body: hashed,
    digest: () => {
      hashed.resume(); // read already (nothing left), or a replay: the rest passes, unparsed
      return whole;
    },
  };
}

/**
 * Rows of a CSV body as they arrive, a chunk's rows at a time: the header
 * names the items; each later record is a row (the header is row 1), handed
 * on as its cells for RowChecker.checkCells. `charset` is the one the body
 * was decoded from (core/charset.ts), named when its bytes were not of it.
 */
export async function* csvRows(body: Readable, header: (columns: string[]) => void, charset = 'utf-8'): AsyncGenerator<SourceRow[]> {
  const notText = `This row is ${notTextOf(charset)}`;
  let columns: string[] | null = null;
  for await (const records of csvRecords(body)) {
    const rows: SourceRow[] = [];
    for (const { record, cells } of records) {
      if (!columns) {
        // A header that is not text of its charset would only show as unknown columns of replacement characters.
        if (cells.some((c) => c.includes('\uFFFD'))) throw badInput(`The header row is ${notTextOf(charset)} Nothing was stored.`);
        columns = cells.map((c) => c.trim());
        header(columns);
        continue;
      }
      // A row of separators only (",,,"), which spreadsheet programs write for rows that were formatted but hold nothing:
      // no row, as an empty line is not (and as an XLSX row of empty cells is not).
      if (cells.every((value) => value === '')) continue;
      if (cells.length > columns.length && cells.slice(columns.length).some((v) => v.trim())) {
        rows.push({
          row: record,
          unreadable: `This row has ${cells.length} cells but the header names ${columns.length} columns; a value holding a comma must be in double quotes.`,
        });
        continue;
      }
      rows.push(cells.some((value) => value.includes('\uFFFD')) ? { row: record, unreadable: notText } : { row: record, cells });
    }
    if (rows.length) yield rows;
  }
  if (!columns) throw badInput('The file is empty: it needs a header row naming the information items.');
}

/** Longest NDJSON line (in bytes) the reader holds while waiting for its end: as CSV's longest record (csv-records.ts), in UTF-8. */
export const MAX_NDJSON_LINE_BYTES = 4 * MAX_CSV_RECORD_CHARS;

/**
 * The body's bytes as they arrive, refused (BAD_USER_INPUT) once a line runs
 * past MAX_NDJSON_LINE_BYTES: readline holds a line whole until its end, so
 * a body of one endless line (a few kilobytes gzipped) would otherwise grow
 * one string until the process runs out of memory.
 */
async function* cappedLines(body: Readable): AsyncGenerator<Buffer> {
  let run = 0; // bytes since the last line end
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const lastEnd = Math.max(chunk.lastIndexOf(10), chunk.lastIndexOf(13));
    if (lastEnd < 0) run += chunk.length;
    else {
      const firstEnd = [chunk.indexOf(10), chunk.indexOf(13)].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b));
      if (run + firstEnd > MAX_NDJSON_LINE_BYTES) run += firstEnd;
      else run = chunk.length - lastEnd - 1;
    }
    if (run > MAX_NDJSON_LINE_BYTES)
      throw badInput(`A line of the NDJSON body is longer than ${MAX_NDJSON_LINE_BYTES / 1024 / 1024} MB: one JSON object a line. Nothing was stored.`);
    yield chunk;
  }
}

/** Rows of an NDJSON body decoded from `charset`: one JSON object a line (line numbers from 1; blank lines skipped). */
export async function* ndjsonRows(body: Readable, charset = 'utf-8'): AsyncGenerator<SourceRow> {
  const notText = `This row is ${notTextOf(charset)}`;
  let row = 0;
  for await (const line of createInterface({ input: Readable.from(cappedLines(body)), crlfDelay: Infinity })) {
    row++;
    if (!line.trim()) continue;
    // Bytes that are not of the charset were read as U+FFFD (no JSON escape writes that character itself): refused as in CSV.
    if (line.includes('\uFFFD')) {
      yield { row, unreadable: notText };
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      yield { row, unreadable: 'This line is not JSON.' };
      continue;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value))
      yield { row, unreadable: 'This line is not a JSON object keyed by information item name.' };
    else yield { row, values: value as Record<string, unknown> };
  }
}

/**
 * Why a cell holds no value but looks empty when read: an error (#DIV/0!,
 * #N/A, #REF!) as its value, or a formula without a saved result (exceljs's
 * streaming reader drops a formula's error result; a file written by a
 * program that does not calculate has none). Null for any other cell.
 */
function cellError(value: ExcelJS.CellValue): string | null {
  if (!value || typeof value !== 'object' || value instanceof Date) return null;
  if ('error' in value) return `the spreadsheet error ${String(value.error)}`;
  if (!('formula' in value || 'sharedFormula' in value)) return null;
  const result = (value as { result?: ExcelJS.CellValue }).result;
  if (result === undefined || (typeof result === 'number' && Number.isNaN(result)))
    return `a formula (${'formula' in value ? value.formula : value.sharedFormula}) without a saved value: its result is an error (#DIV/0!, #N/A, ...) or was never calculated`;
  return cellError(result);
}

/**
 * Significant digits of a spreadsheet's number: Excel computes and shows 15,
 * but saves a formula's result with the binary double's 17 (=0.1+0.2 is
 * saved as 0.30000000000000004, shown as 0.3).
 */
const SHEET_NUMBER_DIGITS = 15;

/**
 * A cell's value as a row value: text, number (a fraction to the 15 digits
 * Excel shows), boolean or date; formulas by their result (the value Excel saved).
 */
function cellValue(value: ExcelJS.CellValue): unknown {
  if (value === null || value === undefined) return null;
  // A whole number is saved as typed (Excel keeps 15 digits of it when it is typed; another program's is exact).
  if (typeof value === 'number') return Number.isInteger(value) ? value : Number(value.toPrecision(SHEET_NUMBER_DIGITS));
  if (value instanceof Date || typeof value !== 'object') return value;
  if ('result' in value) return cellValue(value.result as ExcelJS.CellValue);
  if ('richText' in value) return value.richText.map((part) => part.text).join('');
  if ('text' in value) return String(value.text);
  return null;
}

/** The whole body, refused (413) as soon as it passes `limit`; what follows is left unread. */
function wholeBody(body: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      body.off('data', onData);
      body.pause();
      reject(tooLarge(`The XLSX file is larger than ${limit / 1024 / 1024} MB; send the rows as CSV or NDJSON, or in several workbooks.`));
    };
    body.on('data', onData);
    body.once('end', () => resolve(Buffer.concat(chunks)));
    body.once('error', reject);
    // A client gone mid-upload: settled all the same (after 'end' this changes nothing), so nothing waits on it.
    body.once('close', () => reject(badInput('The upload stopped before the whole workbook arrived.')));
  });
}

/**
 * Rows of the first sheet of an XLSX body: the first row names the items.
 * The workbook is checked as an import's is (core/xlsx-archive.ts) before
 * exceljs reads it: a zip bomb or a cell of hundreds of megabytes is
 * refused while it inflates, not held by the parser (shared strings of a
 * few hundred kilobytes uploaded cached 330 MB for every 50 MB inflated).
 * A body that is not a workbook (empty, cut short, another kind of file)
 * fails inside exceljs and its unzipper with errors of their own
 * (FILE_ENDED, an invalid signature): the file's fault, never a 500.
 */
export async function* xlsxRows(body: Readable, header: (columns: string[]) => void): AsyncGenerator<SourceRow> {
  // As much as an import may hold (core/xlsx-archive.ts); the table of contents is at the end, so the body is read whole first.
  const workbook = await checkedWorkbook(await wholeBody(body, MAX_XLSX_UPLOAD_BYTES), DEFAULT_XLSX_LIMITS);
  try {
    yield* sheetRows(workbook, header);
  } catch (error) {
    if (error instanceof MuluError) throw error;
    throw badInput(NOT_XLSX);
  }
}

async function* sheetRows(body: Readable, header: (columns: string[]) => void): AsyncGenerator<SourceRow> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(body, {
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'cache',
    worksheets: 'emit',
    entries: 'emit',
  });
  let columns: string[] | null = null;
  // The workbook's date system, read with workbook.xml before the sheet (as exceljs reads typed dates by it).
  const date1904 = () => (reader as unknown as { properties?: { model?: { date1904?: boolean } } }).properties?.model?.date1904 === true;
  for await (const sheet of reader) {
    for await (const row of sheet as unknown as AsyncIterable<ExcelJS.Row>) {
      const cells = (row.values as ExcelJS.CellValue[]).slice(1);
      if (!columns) {
        const names = cells.map((c) => String(cellValue(c) ?? '').trim());
        while (names.length && !names[names.length - 1]) names.pop();
        // A row above the header that holds nothing (formatted, or a cell emptied) is not the header.
        if (!names.length) continue;
        columns = names;
        header(columns);
        continue;
      }
      if (cells.every((c) => cellValue(c) === null || cellValue(c) === '')) continue;
      if (cells.slice(columns.length).some((c) => cellValue(c) !== null && cellValue(c) !== '')) {
        yield { row: row.number, unreadable: `This row has a value beyond the ${columns.length} columns the header names.` };
        continue;
      }
      const errorAt = cells.findIndex((c) => cellError(c) !== null);
      if (errorAt >= 0) {
        // Read as empty, a required item's error would say it is missing and an optional one would be stored empty.
        yield { row: row.number, unreadable: `Column ${columns[errorAt] ?? errorAt + 1} holds ${cellError(cells[errorAt])}, not a value.` };
        continue;
      }
      // Without a prototype, a column called __proto__ is kept as a value (RowChecker reads own keys only).
      const values: Record<string, unknown> = Object.create(null);
      columns.forEach((name, c) => {
        const { numFmt } = row.getCell(c + 1);
        values[name] = shownDigits(cellValue(formulaDate(cells[c], numFmt, date1904()) as ExcelJS.CellValue), numFmt);
      });
      yield { row: row.number, values };
    }
    break;
  }
  if (!columns) throw badInput('The workbook is empty: its first sheet needs a header row naming the information items.');
}

/**
 * `POST /mounts/{mountId}/rows?mode=append|replace&idempotencyKey=...&acceptPartial=true`:
 * the rows as the body (CSV, NDJSON or XLSX), read as they arrive and copied
 * into the dataset in one transaction, through the same service as
 * appendDatasetRows (docs/data-sharing.md).
 */
export function mountsRouter(orm: MikroORM, authenticator: Authenticator): Router {
  const router = Router();
  router.post(
    '/:mountId/rows',
    authenticateFirst(orm, authenticator, (ctx) => requireViewer(ctx)),
    contextHandler(async (req, res, ctx) => {
      const mountId = mountIdOf(String(req.params.mountId));
      const mode = String(req.query.mode ?? 'append').toLowerCase();
      if (mode !== 'append' && mode !== 'replace') throw badInput(`mode is append or replace, not "${mode}".`);
      const format = formatOf(req);
      // The header is checked against the directory once the mount is known; the service calls back with its checker.
      let checker: RowChecker | null = null;
      let pendingHeader: string[] | null = null;
      const header = (columns: string[]) => {
        if (checker) checker.checkHeader(columns);
        else pendingHeader = columns;
      };
      const idempotencyKey =
        typeof req.query.idempotencyKey === 'string'
          ? req.query.idempotencyKey
          : typeof req.headers['idempotency-key'] === 'string'
            ? req.headers['idempotency-key']
            : null;
      // A CSV or NDJSON body's text as UTF-8 (its declared charset decoded), hashed as such: a retry sends the same bytes.
      const charset = format === 'xlsx' ? 'utf-8' : declaredCharset(req.headers['content-type']);
      const decoded = utf8Text(decodedBody(req), charset);
      // Only a load under a key is ever compared: the others' bytes are not hashed.
      const hashed = idempotencyKey !== null ? hashedBody(decoded) : null;
      const body = hashed?.body ?? decoded;
      const digest = hashed?.digest;
      const source = format === 'csv' ? csvRows(body, header, charset) : format === 'ndjson' ? ndjsonRows(body, charset) : xlsxRows(body, header);
      const report = await datasetService.load(ctx, {
        mountId,
        mode: mode === 'replace' ? LoadMode.REPLACE : LoadMode.APPEND,
        route: SharingRoute.BULK,
        idempotencyKey,
        acceptPartial: flag(req.query.acceptPartial),
        checkColumns: (c) => {
          checker = c;
          if (pendingHeader) c.checkHeader(pendingHeader);
        },
        rows: source,
        bodyDigest: digest ? async () => `${format}\n${await digest()}` : undefined,
      });
      // A replay reads no row: the rest of the body is drained (past the decoder, which nothing reads), so the connection
      // serves again; its digest has read it already unless the first load was stored without one.
      if (report.replayed) {
        req.unpipe();
        body.destroy();
        req.resume();
      }
      const { load } = report;
      res.json({
        mountId: load.mountId,
        version: load.version,
        mode: load.mode,
        idempotencyKey: load.idempotencyKey ?? null,
        rowsLoaded: load.rowsLoaded,
        rowsRejected: load.rowsRejected,
        recordCount: load.recordCount,
        rejected: load.rejected,
        replayed: report.replayed,
      });
    }),
  );
  jsonFallbacks(router);
  return router;
}

/** `GET /directories/{code}/rows.csv` and `.ndjson`: the whole current dataset, streamed, for those it is shared with. */
export function directoriesRouter(orm: MikroORM, authenticator: Authenticator, stallMs = DEFAULT_SEND_STALL_MS): Router {
  const router = Router();
  router.get(
    '/:code/rows.:format',
    withContext(orm, authenticator, async (req: Request, res: Response, ctx) => {
      const format = String(req.params.format);
      if (format !== 'csv' && format !== 'ndjson') throw badInput(`Rows are exported as rows.csv or rows.ndjson, not rows.${format}.`);
      // A download whose client stopped reading is cut, which ends its COPY (a pooled connection, a transaction without the statement timeout).
      cutWhenStalled(res, stallMs);
      try {
        await deliveryService.export(ctx, { code: String(req.params.code) }, format, (fileName) => {
          res.setHeader('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
          res.setHeader('content-disposition', contentDisposition(fileName));
          // Spreadsheet programs read UTF-8 CSV with Chinese text correctly only after a byte order mark.
          if (format === 'csv') res.write('\uFEFF');
          return res;
        });
      } catch (error) {
        // Once rows were sent, no error document can follow them: the connection is cut, so the client sees a broken download.
        if (res.headersSent) {
          res.destroy();
          return;
        }
        throw error;
      }
    }),
  );
  jsonFallbacks(router);
  return router;
}
