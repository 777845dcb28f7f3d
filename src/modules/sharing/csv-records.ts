import type { Readable } from 'node:stream';
import { badInput } from '../../core/errors';

/** Longest record (in characters) the reader holds while waiting for its end: far over any row Mulu stores (row-check.ts). */
export const MAX_CSV_RECORD_CHARS = 1024 * 1024;

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

/** One record of a CSV file: its number (the header is 1; empty lines are not counted) and its cells. */
export interface CsvRecord {
  record: number;
  cells: string[];
}

/**
 * Reads the records of a UTF-8 CSV body as it arrives (RFC 4180: comma
 * separated, fields in double quotes may hold commas, line breaks and
 * doubled quotes; LF or CRLF line ends; a byte order mark and empty lines
 * skipped). Each chunk is parsed in one pass with no per-character
 * allocation; the records it completes are yielded together, so a load
 * pays one await a chunk, not one a row. Refuses (BAD_USER_INPUT, with the
 * record's number) a quote inside an unquoted field, text after a closing
 * quote, a quote never closed, and a record longer than MAX_CSV_RECORD_CHARS.
 */
export async function* csvRecords(body: Readable): AsyncGenerator<CsvRecord[]> {
  body.setEncoding('utf8');
  let rest = '';
  let counted = 0;
  let first = true;
  for await (const chunk of body as AsyncIterable<string>) {
    let text = rest ? rest + chunk : chunk;
    if (first && text.length) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const { records, consumed } = parse(text, false, counted);
    counted += records.length;
    rest = consumed < text.length ? text.slice(consumed) : '';
    if (rest.length > MAX_CSV_RECORD_CHARS) {
      throw badInput(
        `Row ${counted + 1} of the CSV file is longer than ${MAX_CSV_RECORD_CHARS.toLocaleString('en')} characters${rest.charCodeAt(0) === QUOTE || rest.includes(',"') ? ': is a double quote left open?' : '.'} Nothing was stored.`,
      );
    }
    if (records.length) yield records;
  }
  if (rest) {
    const { records } = parse(first && rest.charCodeAt(0) === 0xfeff ? rest.slice(1) : rest, true, counted);
    if (records.length) yield records;
  }
}

/**
 * Parses the complete records of `text`. Not `final`: a record without its
 * line end may continue in the next chunk, so it is left unconsumed.
 */
function parse(text: string, final: boolean, counted: number): { records: CsvRecord[]; consumed: number } {
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = 0;
  let consumed = 0;
  const fail = (reason: string): never => {
    throw badInput(`Row ${counted + records.length + 1} of the CSV file: ${reason} Nothing was stored.`);
  };
  records: while (i < n) {
    const start = i;
    // An empty line (LF, or CRLF): skipped, not counted.
    const c0 = text.charCodeAt(i);
    if (c0 === LF || c0 === CR) {
      i++;
      consumed = i;
      continue;
    }
    const cells: string[] = [];
    for (;;) {
      if (i < n && text.charCodeAt(i) === QUOTE) {
        let value = '';
        let from = i + 1;
        for (;;) {
          const q = text.indexOf('"', from);
          if (q === -1 || (q === n - 1 && !final)) {
            if (!final) break records;
            fail('a double quote is never closed.');
          }
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += text.slice(from, q + 1);
            from = q + 2;
            continue;
          }
          value += text.slice(from, q);
          i = q + 1;
          break;
        }
        cells.push(value);
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === COMMA || c === LF || c === CR) break;
          if (c === QUOTE)
            fail(
              'a double quote inside a value that does not start with one; a value holding a quote is written in double quotes, the quote doubled ("a ""b"" c").',
            );
          j++;
        }
        if (j === n && !final) break records;
        cells.push(text.slice(i, j));
        i = j;
      }
      // After a field: a comma, a line end, or the end of the text.
      if (i >= n) {
        if (!final) break records;
        records.push({ record: counted + records.length + 1, cells });
        consumed = n;
        break records;
      }
      const c = text.charCodeAt(i);
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c === LF || c === CR) {
        i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
        records.push({ record: counted + records.length + 1, cells });
        consumed = i;
        continue records;
      }
      fail(`text after a closing double quote (a value in quotes ends at its closing quote, before the comma).`);
    }
    // Unreachable: the loop above leaves only through break or continue.
    consumed = start;
  }
  return { records, consumed };
}
