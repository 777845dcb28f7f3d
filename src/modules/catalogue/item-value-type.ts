import { ItemValueType, type InformationItem } from './directory.entity';

/**
 * The free-text data types directories are written with (数据类型 of the
 * cataloguing guideline: 字符型, 数值型, 日期型, ...) and their value types.
 * Keys are lower case without spaces. Text not listed here is a string: an
 * item of an unknown type still holds text, and a steward makes it precise
 * by naming valueType. A Map, not an object: a data type typed as
 * `constructor` or `__proto__` would read Object.prototype's members.
 */
const INFERRED = new Map<string, ItemValueType>();
const words: [ItemValueType, string[]][] = [
  [ItemValueType.STRING, ['字符型', '字符', '字符串', '字符串型', '文本', '文本型', 'string', 'text', 'varchar', 'char', 'c']],
  [ItemValueType.INTEGER, ['整数', '整数型', '整型', '长整型', 'int', 'integer', 'bigint', 'long', 'smallint']],
  [ItemValueType.DECIMAL, ['数值', '数值型', '数字', '数字型', '小数', '小数型', '浮点型', '金额', 'decimal', 'numeric', 'number', 'float', 'double', 'n']],
  [ItemValueType.DATE, ['日期', '日期型', 'date', 'd']],
  [ItemValueType.DATETIME, ['日期时间', '日期时间型', '时间', '时间型', '时间戳', 'datetime', 'timestamp', 't']],
  [ItemValueType.BOOLEAN, ['布尔', '布尔型', '逻辑型', '是否', 'boolean', 'bool']],
];
for (const [type, names] of words) for (const name of names) INFERRED.set(name, type);

/** The value type of an item: the one the steward named, else the one its data type text means, else STRING. */
export function valueTypeOf(item: Pick<InformationItem, 'dataType' | 'valueType'>): ItemValueType {
  return item.valueType ?? INFERRED.get(item.dataType.toLowerCase().replace(/\s+/g, '')) ?? ItemValueType.STRING;
}

/** A checked value, as stored in a dataset row's JSON: decimals as their digits (a string, no binary rounding). */
export type StoredValue = string | number | boolean;

export type ParsedValue = { ok: true; value: StoredValue | null } | { ok: false; reason: string };

/** Half of a UTF-16 pair without its other half (with the u flag, a proper pair is one code point and does not match). */
export const LONE_SURROGATE = /\p{Cs}/u;

const INTEGER = /^[+-]?\d{1,16}$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
/**
 * A date as stewards' files write it: 2026-01-05, 2026-1-5, 2026/1/5 (what
 * Excel on Chinese Windows saves in a CSV) or 2026年1月5日. Groups: year,
 * then month and day of the first two forms or of the third.
 */
const DATE_PART = '(\\d{4})(?:[-/](\\d{1,2})[-/](\\d{1,2})|年(\\d{1,2})月(\\d{1,2})日)';
const DATE = new RegExp(`^${DATE_PART}$`);
/** A date (DATE_PART), then T or spaces, H:MM or HH:MM[:SS[.ffffff]], then Z, an offset or nothing (China Standard Time). */
const DATETIME = new RegExp(`^${DATE_PART}(?:T| +)(\\d{1,2}):(\\d{2})(?::(\\d{2})(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:?\\d{2})?$`);
const TRUE = new Set(['true', '1', '是', 'yes', 'y', 't']);
const FALSE = new Set(['false', '0', '否', 'no', 'n', 'f']);

/** Largest number of digits of a decimal value. */
const MAX_DECIMAL_DIGITS = 38;

const show = (raw: unknown) => {
  // A JSON number too large for a double (1e400) was read as Infinity, which JSON.stringify writes as null.
  const text = typeof raw === 'string' ? raw : typeof raw === 'number' && !Number.isFinite(raw) ? String(raw) : JSON.stringify(raw);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
};

function validDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Year, month and day of a DATE_PART match (its two spellings have groups of their own). */
const dateOf = (m: RegExpExecArray): [number, number, number] => [+m[1], +(m[2] ?? m[4]), +(m[3] ?? m[5])];

/** Day 0 of a workbook's 1900 date system as exceljs reads it: a cell holding only a time of day. */
const EXCEL_DAY_0 = '1899-12-30';

/** China Standard Time, the zone of a date-time written without one (UTC+8, no daylight saving since 1991). */
const CST_OFFSET_MS = 8 * 3600 * 1000;

/**
 * A spreadsheet's date cell (exceljs reads an XLSX date as a Date whose UTC
 * fields are the wall-clock time typed: a workbook holds no zone). Its time
 * is China Standard Time, as a date-time written without a zone in text is;
 * as text it is written as that wall-clock time, without a zone.
 */
function fromSheetDate(type: ItemValueType, date: Date): ParsedValue | string {
  if (Number.isNaN(date.getTime())) return { ok: false, reason: 'is not a valid date' };
  const iso = date.toISOString();
  const time = iso.slice(11, 19);
  // A time cell (08:30) is the fraction of a day after day 0 of the 1900 date system, which exceljs reads as 1899-12-30.
  const timeOnly = iso.startsWith(EXCEL_DAY_0);
  if (type === ItemValueType.STRING) return timeOnly ? time : time === '00:00:00' && iso.endsWith('.000Z') ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${time}`;
  if (timeOnly && (type === ItemValueType.DATE || type === ItemValueType.DATETIME)) return { ok: false, reason: `is a time of day (${time}) without a date` };
  if (type === ItemValueType.DATE) return { ok: true, value: iso.slice(0, 10) };
  if (type === ItemValueType.DATETIME) return { ok: true, value: new Date(date.getTime() - CST_OFFSET_MS).toISOString() };
  return iso;
}

/**
 * Checks one value against a value type and returns it as stored. Text is
 * accepted for every type (CSV cells are text); JSON numbers and booleans
 * where they fit. An empty cell is no value (null). Date-times without a
 * zone are China Standard Time; they are stored in UTC. Text for a type
 * other than STRING is trimmed and its compatibility characters folded
 * (NFKC: the full-width digits, point, minus and colon a Chinese input
 * method types read as ASCII); a STRING is kept exactly as sent. The forms
 * accepted are listed in docs/data-sharing.md ("Values a file may hold").
 */
export function parseValue(type: ItemValueType, raw: unknown): ParsedValue {
  if (raw === null || raw === undefined) return { ok: true, value: null };
  if (raw instanceof Date) {
    const read = fromSheetDate(type, raw);
    if (typeof read !== 'string') return read;
    raw = read;
  }
  // A number beyond ±(2^53 − 1) has lost its last digits before it got here (JSON.parse, or a spreadsheet's number
  // cell, which keeps 15 digits): an identity card or credit code typed as a number is not stored rounded as text.
  if (type === ItemValueType.STRING && typeof raw === 'number' && !(Math.abs(raw) <= Number.MAX_SAFE_INTEGER)) {
    return {
      ok: false,
      reason: `${show(raw)} was sent as a number and has lost digits (a number holds about 15 exactly); send it as text (in a spreadsheet, format the column as text and type it again)`,
    };
  }
  if (typeof raw === 'object') return { ok: false, reason: `must be a single ${type.toLowerCase()} value, not a list or object` };
  if (typeof raw === 'string') {
    if (raw.includes('\u0000')) return { ok: false, reason: 'contains a NUL character (\\u0000), which cannot be stored' };
    // A JSON text may escape half of a UTF-16 pair alone ("\ud800"), which PostgreSQL's jsonb refuses: the whole load failed, naming no row.
    if (LONE_SURROGATE.test(raw))
      return { ok: false, reason: 'is not valid Unicode text (it holds a lone surrogate, \\ud800 to \\udfff), which cannot be stored' };
    if (type !== ItemValueType.STRING) raw = raw.normalize('NFKC').trim();
    if (raw === '') return { ok: true, value: null };
  }
  const text = String(raw);
  switch (type) {
    case ItemValueType.STRING:
      return { ok: true, value: text };
    case ItemValueType.INTEGER: {
      if (typeof raw === 'boolean' || !INTEGER.test(text) || !Number.isSafeInteger(Number(text))) {
        return { ok: false, reason: `"${show(raw)}" is not a whole number (integer, at most ±9007199254740991)` };
      }
      return { ok: true, value: Number(text) };
    }
    case ItemValueType.DECIMAL: {
      // A JSON number is written back as the shortest decimal that reads as it: the one the caller sent. Beyond
      // ±(2^53 − 1) a double no longer holds every unit, so what JSON.parse made of it may not be what was sent
      // (98765432109876543.21 reads as 98765432109876540): refused, as a whole number there is.
      if (typeof raw === 'number' && Math.abs(raw) > Number.MAX_SAFE_INTEGER) {
        return {
          ok: false,
          reason: `${show(raw)} is beyond what a JSON number holds exactly (±9007199254740991); send the decimal as a string of its digits, e.g. "98765432109876543.21"`,
        };
      }
      const digits = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : text;
      if (typeof raw === 'boolean' || !DECIMAL.test(digits) || digits.replace(/[^\d]/g, '').length > MAX_DECIMAL_DIGITS) {
        return { ok: false, reason: `"${show(raw)}" is not a decimal number (digits with an optional point, at most ${MAX_DECIMAL_DIGITS} digits)` };
      }
      return { ok: true, value: digits.replace(/^\+/, '') };
    }
    case ItemValueType.DATE: {
      const m = DATE.exec(text);
      const [y, mo, d] = m ? dateOf(m) : [0, 0, 0];
      if (!m || !validDate(y, mo, d)) return { ok: false, reason: `"${show(raw)}" is not a date (YYYY-MM-DD, YYYY/M/D or YYYY年M月D日)` };
      return { ok: true, value: `${m[1]}-${pad(mo)}-${pad(d)}` };
    }
    case ItemValueType.DATETIME: {
      const m = DATETIME.exec(text);
      const [y, mo, d] = m ? dateOf(m) : [0, 0, 0];
      if (!m || !validDate(y, mo, d) || +m[6] > 23 || +m[7] > 59 || +(m[8] ?? 0) > 59) {
        return {
          ok: false,
          reason: `"${show(raw)}" is not a date and time (YYYY-MM-DDTHH:MM:SS or YYYY/M/D H:MM, with Z or an offset; none means China Standard Time)`,
        };
      }
      const zone = m[10] ? (m[10] === 'Z' ? 'Z' : m[10].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')) : '+08:00';
      const date = new Date(`${m[1]}-${pad(mo)}-${pad(d)}T${pad(+m[6])}:${m[7]}:${m[8] ?? '00'}${(m[9] ?? '').slice(0, 4)}${zone}`);
      if (Number.isNaN(date.getTime())) return { ok: false, reason: `"${show(raw)}" is not a valid date and time` };
      return { ok: true, value: date.toISOString() };
    }
    case ItemValueType.BOOLEAN: {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      const word = text.toLowerCase();
      if (TRUE.has(word)) return { ok: true, value: true };
      if (FALSE.has(word)) return { ok: true, value: false };
      return { ok: false, reason: `"${show(raw)}" is not a yes/no value (true/false, 是/否, 1/0)` };
    }
  }
}

/** The SQL type a stored value of this type is compared as (range and equality filters). */
export const SQL_CAST: Record<ItemValueType, string> = {
  [ItemValueType.STRING]: 'text',
  [ItemValueType.INTEGER]: 'bigint',
  [ItemValueType.DECIMAL]: 'numeric',
  [ItemValueType.DATE]: 'date',
  [ItemValueType.DATETIME]: 'timestamptz',
  [ItemValueType.BOOLEAN]: 'boolean',
};
