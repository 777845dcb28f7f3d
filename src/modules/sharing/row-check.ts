import { badInput } from '../../core/errors';
import { columnKey, isBlankText, titleRowHint } from '../../core/text';
import type { InformationItem } from '../catalogue/directory.entity';
import { ItemValueType } from '../catalogue/directory.entity';
import { LONE_SURROGATE, parseValue, valueTypeOf } from '../catalogue/item-value-type';
import type { RowError } from './dataset.entity';

/** Largest stored row: its JSON, in bytes. A row over it is refused (a field holding a whole document belongs in a FILE mount's file, not a row). */
export const MAX_ROW_BYTES = 32 * 1024;

/** Rejected values reported back per load; the count of rows with errors is always exact. */
export const MAX_REPORTED_ERRORS = 100;

export interface CheckedItem {
  name: string;
  type: ItemValueType;
  required: boolean;
}

/** The JSON text of an item's key, with its colon: a checked row's JSON is written from these. */
const keyText = (name: string) => `${JSON.stringify(name)}:`;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isDigit = (c: number) => c >= 48 && c <= 57;

/** The error of a required text item sent blank: spaces or invisible characters only are no value (a value that is there is kept as loaded). */
const blankRequired = (name: string) => `${name} is required; the value sent is blank (only spaces or invisible characters).`;

/**
 * The stored JSON of a cell in its most common spelling, found without
 * regular expressions or allocations: plain digits for an integer, digits
 * with one point for a decimal, YYYY-MM-DD for a date, 是/否 or true/false.
 * Null when the text is spelt otherwise: parseValue then decides, with its
 * reasons (so the fast path changes no outcome, only the cost).
 */
function fastJson(type: ItemValueType, text: string): string | null {
  const n = text.length;
  switch (type) {
    case ItemValueType.STRING:
      return text.indexOf('\u0000') === -1 && !LONE_SURROGATE.test(text) ? JSON.stringify(text) : null;
    case ItemValueType.INTEGER: {
      // Up to 15 digits is always a safe integer; a leading zero is normalised by parseValue.
      if (n === 0 || n > 15 || (n > 1 && text.charCodeAt(0) === 48)) return null;
      for (let i = 0; i < n; i++) if (!isDigit(text.charCodeAt(i))) return null;
      return text;
    }
    case ItemValueType.DECIMAL: {
      if (n === 0 || n > 38) return null;
      let digits = 0;
      let points = 0;
      for (let i = 0; i < n; i++) {
        const c = text.charCodeAt(i);
        if (isDigit(c)) digits++;
        else if (c === 46) points++;
        else return null;
      }
      return digits > 0 && points <= 1 ? `"${text}"` : null;
    }
    case ItemValueType.DATE: {
      if (n !== 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return null;
      for (const i of [0, 1, 2, 3, 5, 6, 8, 9]) if (!isDigit(text.charCodeAt(i))) return null;
      const year = +text.slice(0, 4);
      const month = +text.slice(5, 7);
      const day = +text.slice(8, 10);
      if (year < 1000 || month < 1 || month > 12 || day < 1) return null;
      const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
      return day <= DAYS_IN_MONTH[month - 1] + (leap ? 1 : 0) ? `"${text}"` : null;
    }
    case ItemValueType.BOOLEAN:
      return text === '是' || text === 'true' ? 'true' : text === '否' || text === 'false' ? 'false' : null;
    default:
      return null;
  }
}

/**
 * A row's value of an item: its own property only. Items may be called
 * toString, constructor or __proto__, and a row without them would otherwise
 * read Object.prototype's members as their values.
 */
const valueOf = (values: Record<string, unknown>, name: string): unknown => (Object.hasOwn(values, name) ? values[name] : undefined);

const listOf = (items: CheckedItem[]) => items.map((i) => i.name).join(', ');

/** What a header of one column that holds a semicolon or a tab most likely is. */
const separatorHint = (columns: string[]) =>
  columns.length === 1 && /[;\t]/.test(columns[0])
    ? ' The header is one column holding semicolons or tabs: Mulu reads comma-separated files only; save the file as "CSV UTF-8 (comma delimited)".'
    : '';

/**
 * Checks rows against a directory's information items: known names only,
 * values of each item's value type, required items present, no row larger
 * than MAX_ROW_BYTES. A good row comes back as the JSON text stored.
 */
export class RowChecker {
  readonly items: CheckedItem[];
  private readonly byName: Map<string, CheckedItem>;
  /** Items by columnKey of their names: a name spelt otherwise (full-width, decomposed, padded) still finds its item. */
  private readonly byKey: Map<string, CheckedItem>;
  private readonly keys: string[];
  /** Per item, its cell in a file's records (checkHeader); -1 when the file has no such column. */
  private cellOf: number[] = [];

  constructor(items: InformationItem[]) {
    this.items = items.map((item) => ({ name: item.name, type: valueTypeOf(item), required: item.required === true }));
    this.byName = new Map(this.items.map((item) => [item.name, item]));
    this.byKey = new Map(this.items.map((item) => [columnKey(item.name), item]));
    this.keys = this.items.map((item) => keyText(item.name));
  }

  /** The item a column or key names (columnKey), or undefined. */
  private itemNamed(name: string): CheckedItem | undefined {
    return this.byName.get(name) ?? this.byKey.get(columnKey(name));
  }

  /** The columns of a file: each must name an item (columnKey), once; required items must be there. Refuses the whole file otherwise. */
  checkHeader(columns: string[]): void {
    const unknown = columns.filter((c) => !this.itemNamed(c));
    if (unknown.length)
      throw badInput(
        `Unknown column(s) ${unknown.map((c) => `"${c}"`).join(', ')}; the directory's information items are: ${listOf(this.items)}.${separatorHint(columns)}${titleRowHint(columns)} Nothing was stored.`,
      );
    const named = columns.map((c) => this.itemNamed(c)!);
    const twice = columns.find((_, i) => named.indexOf(named[i]) !== i);
    if (twice) throw badInput(`Column "${twice}" appears twice (as item ${this.itemNamed(twice)!.name}). Nothing was stored.`);
    const missing = this.items.filter((i) => i.required && !named.includes(i));
    if (missing.length) throw badInput(`Missing required column(s): ${listOf(missing)}. Nothing was stored.`);
    this.cellOf = this.items.map((item) => named.indexOf(item));
  }

  /**
   * Checks one record of a file whose header was checked (checkHeader):
   * the same checks and the same JSON text as check() on the object of its
   * cells, written straight from the cells (a bulk load checks millions).
   */
  checkCells(cells: readonly string[], row: number, errors: RowError[]): string | null {
    let json = '{';
    let failed = false;
    for (let k = 0; k < this.items.length; k++) {
      const item = this.items[k];
      const cell = this.cellOf[k];
      const text = cell >= 0 ? cells[cell] : undefined;
      if (text === '' && !item.required) continue;
      if (item.required && item.type === ItemValueType.STRING && text && isBlankText(text)) {
        failed = true;
        if (errors.length < MAX_REPORTED_ERRORS) errors.push({ row, column: item.name, reason: blankRequired(item.name) });
        continue;
      }
      const fast = text ? fastJson(item.type, text) : null;
      if (fast !== null) {
        json += (json.length > 1 ? ',' : '') + this.keys[k] + fast;
        continue;
      }
      const parsed = parseValue(item.type, text);
      if (!parsed.ok) {
        failed = true;
        if (errors.length < MAX_REPORTED_ERRORS) errors.push({ row, column: item.name, reason: `${item.name}: ${parsed.reason}.` });
      } else if (parsed.value === null) {
        if (item.required) {
          failed = true;
          if (errors.length < MAX_REPORTED_ERRORS) errors.push({ row, column: item.name, reason: `${item.name} is required.` });
        }
      } else {
        json += (json.length > 1 ? ',' : '') + this.keys[k] + JSON.stringify(parsed.value);
      }
    }
    if (failed) return null;
    json += '}';
    return this.sized(json, row, errors);
  }

  /** The row's JSON, or null (with its error) when it is over MAX_ROW_BYTES. */
  private sized(json: string, row: number, errors: RowError[]): string | null {
    // Bytes only matter when the text could be over the limit (a UTF-8 character is at most 3 bytes per UTF-16 unit).
    if (json.length * 3 > MAX_ROW_BYTES && Buffer.byteLength(json) > MAX_ROW_BYTES) {
      if (errors.length < MAX_REPORTED_ERRORS)
        errors.push({ row, column: null, reason: `The row is ${Buffer.byteLength(json)} bytes; a row may hold at most ${MAX_ROW_BYTES} bytes.` });
      return null;
    }
    return json;
  }

  /**
   * Checks one row (its number for error messages); returns the JSON text to
   * store, or null after adding its errors to `errors` (counted in full,
   * listed up to MAX_REPORTED_ERRORS).
   */
  check(values: Record<string, unknown>, row: number, errors: RowError[]): string | null {
    // Without a prototype, an item called __proto__ is written as a key (on {} it would set the prototype and vanish).
    const out: Record<string, unknown> = Object.create(null);
    let failed = false;
    const fail = (column: string | null, reason: string) => {
      failed = true;
      if (errors.length < MAX_REPORTED_ERRORS) errors.push({ row, column, reason });
    };
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      fail(null, 'A row must be an object keyed by information item name.');
      return null;
    }
    // Keys spelt otherwise than their item's name (columnKey) are read under the item's name; twice is an error.
    let byItem: Map<CheckedItem, unknown> | null = null;
    for (const key of Object.keys(values)) {
      if (this.byName.has(key)) continue;
      const item = this.itemNamed(key);
      if (!item) fail(key, `Unknown column "${key}"; the directory's information items are: ${listOf(this.items)}.`);
      else if (Object.hasOwn(values, item.name) || byItem?.has(item)) fail(key, `"${key}" names the item ${item.name} again.`);
      else (byItem ??= new Map()).set(item, valueOf(values, key));
    }
    for (const item of this.items) {
      const value = byItem?.has(item) ? byItem.get(item) : valueOf(values, item.name);
      if (item.required && item.type === ItemValueType.STRING && typeof value === 'string' && isBlankText(value)) {
        fail(item.name, blankRequired(item.name));
        continue;
      }
      const parsed = parseValue(item.type, value);
      if (!parsed.ok) fail(item.name, `${item.name}: ${parsed.reason}.`);
      else if (parsed.value === null) {
        if (item.required) fail(item.name, `${item.name} is required.`);
      } else out[item.name] = parsed.value;
    }
    if (failed) return null;
    return this.sized(JSON.stringify(out), row, errors);
  }
}
