import { Migration } from '@mikro-orm/migrations';

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
 * meant as one) is left as it is, for its steward to merge; nothing else
 * refers to items by code (records and sub-items hold ids).
 */
export class Migration20261201180000 extends Migration {
  override async up(): Promise<void> {
    for (const table of ['supervision_main_item', 'supervision_sub_item']) {
      this.addSql(`update "${table}" t set "code" = n.kept
         from (select id, upper(btrim(replace(normalize("code", NFKC), '〇', '0'))) as kept,
                      count(*) over (partition by department_id, upper(btrim(replace(normalize("code", NFKC), '〇', '0')))) as sharing
                 from "${table}") n
        where t.id = n.id and n.sharing = 1 and t."code" <> n.kept;`);
    }
  }

  override async down(): Promise<void> {
    // The codes as they were typed are not kept; upper-cased codes name the same items.
  }
}
