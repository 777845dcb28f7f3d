import { badInput } from '../../core/errors';
import type { InformationItem } from '../catalogue/directory.entity';
import { ItemValueType } from '../catalogue/directory.entity';
import { parseValue, valueTypeOf } from '../catalogue/item-value-type';
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

const listOf = (items: CheckedItem[]) => items.map((i) => i.name).join(', ');

/**
 * Checks rows against a directory's information items: known names only,
 * values of each item's value type, required items present, no row larger
 * than MAX_ROW_BYTES. A good row comes back as the JSON text stored.
 */
export class RowChecker {
  readonly items: CheckedItem[];
  private readonly byName: Map<string, CheckedItem>;

  constructor(items: InformationItem[]) {
    this.items = items.map((item) => ({ name: item.name, type: valueTypeOf(item), required: item.required === true }));
    this.byName = new Map(this.items.map((item) => [item.name, item]));
  }

  /** The columns of a file: each must name an item, once; required items must be there. Refuses the whole file otherwise. */
  checkHeader(columns: string[]): void {
    const unknown = columns.filter((c) => !this.byName.has(c));
    if (unknown.length) throw badInput(`Unknown column(s) ${unknown.map((c) => `"${c}"`).join(', ')}; the directory's information items are: ${listOf(this.items)}. Nothing was stored.`);
    const twice = columns.find((c, i) => columns.indexOf(c) !== i);
    if (twice) throw badInput(`Column "${twice}" appears twice. Nothing was stored.`);
    const missing = this.items.filter((i) => i.required && !columns.includes(i.name));
    if (missing.length) throw badInput(`Missing required column(s): ${listOf(missing)}. Nothing was stored.`);
  }

  /**
   * Checks one row (its number for error messages); returns the JSON text to
   * store, or null after adding its errors to `errors` (counted in full,
   * listed up to MAX_REPORTED_ERRORS).
   */
  check(values: Record<string, unknown>, row: number, errors: RowError[]): string | null {
    const out: Record<string, unknown> = {};
    let failed = false;
    const fail = (column: string | null, reason: string) => {
      failed = true;
      if (errors.length < MAX_REPORTED_ERRORS) errors.push({ row, column, reason });
    };
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      fail(null, 'A row must be an object keyed by information item name.');
      return null;
    }
    for (const key of Object.keys(values)) {
      if (!this.byName.has(key)) fail(key, `Unknown column "${key}"; the directory's information items are: ${listOf(this.items)}.`);
    }
    for (const item of this.items) {
      const parsed = parseValue(item.type, values[item.name]);
      if (!parsed.ok) fail(item.name, `${item.name}: ${parsed.reason}.`);
      else if (parsed.value === null) {
        if (item.required) fail(item.name, `${item.name} is required.`);
      } else out[item.name] = parsed.value;
    }
    if (failed) return null;
    const json = JSON.stringify(out);
    // Bytes only matter when the text could be over the limit (a UTF-8 character is at most 3 bytes per UTF-16 unit).
    if (json.length * 3 > MAX_ROW_BYTES && Buffer.byteLength(json) > MAX_ROW_BYTES) {
      fail(null, `The row is ${Buffer.byteLength(json)} bytes; a row may hold at most ${MAX_ROW_BYTES} bytes.`);
      return null;
    }
    return json;
  }
}
