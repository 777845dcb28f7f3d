import { Migration } from '@mikro-orm/migrations';
import { identifierCode } from '../src/core/text';

/** The longest item code the columns hold (varchar(64), counted in characters). */
const CODE_LENGTH = 64;

/**
 * Main and sub-item codes are identifier codes on every path now
 * (identifierCode in src/core/text.ts: full-width folded by NFKC, 〇 made
 * 0, trimmed, upper-cased). Before, the import file and record batches kept a code as
 * typed while the mutations upper-cased it, so a sub-item registered as
 * `jc-001` (kept JC-001) refused the records sent for `jc-001`, and one
 * imported as `jc-001` those sent for `JC-001`. The codes already stored
 * are brought to the same form, so that the next import of the same file
 * finds its items instead of adding them again. A code whose new form is
 * taken in its department (`jc-001` beside `JC-001`: two items that were
 * meant as one) is left as it is, for its steward to merge, as is one whose
 * new form is empty or too long for the column; nothing else refers to items
 * by code (records and sub-items hold ids).
 *
 * The new form is made by identifierCode itself, not by SQL: PostgreSQL's
 * btrim removes spaces only (not a tab, a line break or a zero-width space,
 * which trimText removes) and its upper() follows the database's locale
 * (ASCII only under C; ß stays ß where JavaScript makes SS), so a code
 * brought to form in SQL could still differ from the one every path
 * looks up.
 */
export class Migration20261201180000 extends Migration {
  override async up(): Promise<void> {
    for (const table of ['supervision_main_item', 'supervision_sub_item']) {
      const rows = (await this.execute(`select id, department_id, code from "${table}"`)) as { id: number; department_id: number; code: string }[];
      const key = (department: number, code: string) => `${department}\u0000${code}`;
      const taken = new Set(rows.map((row) => key(row.department_id, row.code)));
      const sharing = new Map<string, number>();
      const kept = rows.map((row) => identifierCode(row.code));
      rows.forEach((row, i) => sharing.set(key(row.department_id, kept[i]), (sharing.get(key(row.department_id, kept[i])) ?? 0) + 1));
      const changes = rows
        .map((row, i) => ({ id: row.id, code: kept[i], department: row.department_id, was: row.code }))
        .filter(
          (change) =>
            change.code !== change.was &&
            change.code !== '' &&
            [...change.code].length <= CODE_LENGTH &&
            sharing.get(key(change.department, change.code)) === 1 &&
            !taken.has(key(change.department, change.code)),
        );
      if (changes.length === 0) continue;
      await this.execute(`update "${table}" t set "code" = v.code from json_to_recordset(?::json) as v(id int, code text) where t.id = v.id`, [
        JSON.stringify(changes.map(({ id, code }) => ({ id, code }))),
      ]);
    }
  }

  override async down(): Promise<void> {
    // The codes as they were typed are not kept; upper-cased codes name the same items.
  }
}
