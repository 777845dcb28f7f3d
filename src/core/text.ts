import { badInput } from './errors';

/**
 * Text hygiene: the one function every text a caller sends goes through,
 * GraphQL arguments and input fields (src/graphql/input-hygiene.ts) and the
 * REST and import paths alike.
 */

/** Control characters other than tab and newline (C0, DEL, C1). A carriage return before a newline is folded away first. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;

/** Half of a UTF-16 pair without its other half (with the u flag, a proper pair is one code point and does not match). */
const LONE_SURROGATE = /\p{Cs}/u;

const describe = (char: string) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Identifier codes (directory, main and sub-item, credit and region codes)
 * are compared case-insensitively: Mulu keeps them upper-case, so `mz-abc`
 * finds, and collides with, `MZ-ABC`. Named `code`, `…Code` (GraphQL) or
 * `…_code` (an import file's columns).
 */
export const isIdentifierName = (name: string) => name === 'code' || /(Code|_code)$/.test(name);

/**
 * Whitespace and the characters that show as nothing: soft hyphen, zero-width
 * space and joiners, direction marks and embeddings, word joiner, byte-order
 * mark, the Hangul fillers. A name of nothing else reads as blank, and
 * "殷都区民政局" with a zero-width space after it looks like the name without.
 */
const SHOWS_AS_NOTHING = '\\u00AD\\u115F\\u1160\\u180E\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u206F\\u3164\\uFEFF\\uFFA0';
const INVISIBLE = `\\s${SHOWS_AS_NOTHING}`;
const SHOWS_AS_NOTHING_ANYWHERE = new RegExp(`[${SHOWS_AS_NOTHING}]`, 'g');
const INVISIBLE_EDGES = new RegExp(`^[${INVISIBLE}]+|[${INVISIBLE}]+$`, 'g');
const INVISIBLE_INSIDE = new RegExp(`[${INVISIBLE}]`);

const INVISIBLE_FIRST = new RegExp(`^[${INVISIBLE}]`);

/** Whether `text` is not empty but holds nothing that shows (white space and invisible characters only): a value typed blank. */
export const isBlankText = (text: string): boolean => INVISIBLE_FIRST.test(text) && trimText(text) === '';

/** Whether `text` holds white space (a line break too) or a character that shows as nothing: a code with one looks like another code. */
export const holdsSpaceOrInvisible = (text: string): boolean => INVISIBLE_INSIDE.test(text);

/** Whitespace and invisible characters at either end removed: how an identifier code is trimmed, keeping those inside for its form's check to refuse. */
export const trimEdges = (text: string): string => text.replace(INVISIBLE_EDGES, '');

/**
 * `String.prototype.trim`, also removing invisible characters at either end,
 * and the characters that show as nothing anywhere (not the spaces inside):
 * what every service does to a name or other text a person typed before it
 * checks it is not blank, stores it or compares it. Removed, not refused:
 * Windows puts the direction controls U+202A..U+202C around a telephone
 * number copied from its contacts, which a steward pastes into a name or a
 * purpose. Kept, a direction override left open (U+202E) showed the rest of
 * a name reversed on every page and export that shows it ("局政民" reads
 * "民政局"), and a zero-width joiner inside made "殷都区人社局" a second
 * department of its region beside "殷都区人社局". Codes keep them, to be
 * refused by their form (identifierCode, trimEdges).
 */
export const trimText = (text: string): string => trimEdges(text).replace(SHOWS_AS_NOTHING_ANYWHERE, '');

/**
 * An identifier code as Mulu keeps and compares it, on every path that
 * receives one (GraphQL arguments, import files, record batches, the
 * directory and region codes of REST URLs):
 * compatibility characters folded (NFKC: the full-width digits, letters and
 * hyphens a Chinese input method types become ASCII, an ideographic space
 * a space), the ideographic zero 〇 (typed for 0 in Chinese numbers, and
 * which NFKC keeps) made 0, trimmed (trimText: invisible characters at
 * either end too) and upper-cased. So `jc-001`,
 * `ＪＣ－００１`, `JC-〇〇1` and `JC-001` are one code. A rule of its own
 * because paths that each kept their own form made one code two: a
 * sub-item registered as `jc-001` (kept JC-001) refused the records sent
 * for `jc-001` (kept as typed).
 */
export function identifierCode(text: string): string {
  return trimEdges(text.normalize('NFKC').replace(/〇/g, '0')).toUpperCase();
}

/**
 * Returns `value` fit to store and compare, or refuses it with
 * BAD_USER_INPUT naming `field`: control characters other than tab and
 * newline are refused (a NUL cannot even be stored), CRLF becomes LF, broken
 * UTF-16 (a lone surrogate) is refused, and the text is normalised to
 * Unicode NFC, so "é" and "e\u0301" are one name. An identifier code is also
 * made what identifierCode makes it.
 */
export function cleanText(value: string, field: string, options: { identifier?: boolean } = {}): string {
  let text = value.includes('\r\n') ? value.replace(/\r\n/g, '\n') : value;
  const control = CONTROL.exec(text);
  if (control)
    throw badInput(`${field} contains the control character ${describe(control[0])} at position ${control.index + 1}; only tab and newline are allowed.`, {
      field,
    });
  if (LONE_SURROGATE.test(text)) throw badInput(`${field} is not valid Unicode text (it holds a lone surrogate).`, { field });
  text = text.normalize('NFC');
  return options.identifier ? identifierCode(text) : text;
}

/** The earliest and latest date a caller may send (dates of the data, not of clocks gone wrong). */
export const EARLIEST_DATE = new Date('1900-01-01T00:00:00Z');
export const LATEST_DATE = new Date('2100-12-31T23:59:59Z');
/** Fields dating something that has happened: at most a day after the server's clock (clock differences). */
export const PAST_EVENT_FIELDS = new Set(['occurredAt', 'refreshedAt']);
const DAY_MS = 24 * 3600 * 1000;

/** Refuses a date outside 1900..2100, and an event's date (PAST_EVENT_FIELDS) more than a day ahead, with BAD_USER_INPUT naming `field`. */
export function checkDate(value: Date, field: string, name: string, now = Date.now()): Date {
  const time = value.getTime();
  if (Number.isNaN(time)) throw badInput(`${field} is not a valid date.`, { field });
  if (time < EARLIEST_DATE.getTime() || time > LATEST_DATE.getTime())
    throw badInput(`${field} ${value.toISOString()} is out of range: dates run from 1900 to 2100.`, { field });
  if (PAST_EVENT_FIELDS.has(name) && time > now + DAY_MS)
    throw badInput(`${field} ${value.toISOString()} is in the future; it must be at most one day after now.`, { field });
  return value;
}

/**
 * A column's name as it is matched to an item's: compatibility characters
 * folded (NFKC: full-width letters and digits, the ideographic space, and
 * one Unicode form for accented letters, which a Mac writes decomposed),
 * then trimText (spaces and invisible characters at either end, the
 * characters that show as nothing anywhere). So "\u3000姓名 ", "ＩＤ" and
 * "ID" name the items 姓名 and ID, and "金\u200D额" the item 金额; the row
 * is stored under the item's own name. Two items of one directory may not
 * share it (checkInformationItems), or the same header would name one item
 * on one route and the other on another.
 */
export const columnKey = (name: string): string => trimText(name.normalize('NFKC'));

/**
 * Completes the refusal of a header row with unknown columns when that row
 * is most likely a title above the header (one cell holding text, the
 * others empty: "殷都区低保对象名册", often merged across the table), as
 * stewards' sheets and the CSV files saved from them often start. Mulu does
 * not guess which later row is the header: a row of names can be a data row
 * too, and a wrong guess would load the header as data. Empty otherwise.
 */
export function titleRowHint(header: readonly string[]): string {
  const named = header.filter((cell) => cell.trim());
  // A lone cell holding semicolons or tabs is a file of other separators, said by the reader.
  if (named.length !== 1 || /[;\t]/.test(named[0])) return '';
  return ` The first row holding a value is the header, and this one holds "${named[0].trim()}" alone: is it a title above the header? Delete the rows above the header row, so that it is the first.`;
}
