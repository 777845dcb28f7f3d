import { MuluError } from './errors';

/**
 * The one decoding rule for every route that takes a steward's text file
 * (dataset loads in CSV or NDJSON, the catalogue and supervision item
 * imports): UTF-8 unless the content type declares another charset, which
 * is then decoded by its name in the Encoding Standard (TextDecoder), and
 * text that is not what it should be is refused with the same words on
 * every route.
 */

/**
 * The charset a body's content type declares (`text/csv; charset=gbk`), as
 * the Encoding Standard names it: UTF-8 when none is; GBK and GB2312 as
 * GB18030, which holds them (what Excel on Chinese Windows saves); Big5,
 * windows-1252, UTF-16 and the others alike. A name it does not know is
 * refused (415) before a byte is read, rather than stored as mojibake.
 */
export function declaredCharset(contentType: string | undefined): string {
  const declared = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1].toLowerCase() ?? 'utf-8';
  try {
    const encoding = new TextDecoder(declared).encoding;
    return encoding === 'gbk' ? 'gb18030' : encoding;
  } catch {
    throw new MuluError(
      'UNSUPPORTED_MEDIA_TYPE',
      `The charset "${declared}" is not known; send the file as UTF-8 (in Excel: Save As "CSV UTF-8"), or declare its charset by its standard name (charset=gb18030 for a GBK file).`,
    );
  }
}

/**
 * How a file that is not UTF-8 came to be, and what to do: a file sent
 * without a charset is most often GBK from Excel on Chinese Windows.
 */
export const SAVE_AS_UTF8 =
  'Spreadsheet programs on Chinese Windows save CSV as GBK by default: save it as "CSV UTF-8", upload the XLSX workbook, or send a GBK file with the content type text/csv; charset=gb18030.';

/**
 * Completes "This row is ..." or "The header row is ...": text with bytes
 * that are no character of its charset. A file that declared its charset
 * was saved in another one (or is damaged), so it is not told to declare
 * GBK, as an undeclared one is.
 */
export function notTextOf(charset: string): string {
  if (charset === 'utf-8') return `not UTF-8 text. ${SAVE_AS_UTF8}`;
  return `not ${charset} text, the charset its content type declares: some bytes are no character of it. Declare the charset the file was saved in, or save it as "CSV UTF-8" (or upload the XLSX workbook) and send it as text/csv; charset=utf-8.`;
}
