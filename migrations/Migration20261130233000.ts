import { Migration } from '@mikro-orm/migrations';

/**
 * A claimed delivery is leased in a column of its own (`leased_until`, in no
 * index) instead of by moving its `next_attempt_at` (in the due index): the
 * claim, one of the three writes of every delivery, changes no indexed
 * column and PostgreSQL can make it a heap-only update (HOT), with no new
 * entry in any of the table's three indexes. A fillfactor of 70 leaves room
 * in each page for the new versions of its rows, which HOT needs.
 *
 * Deliveries leased before this migration (a dispatcher ran when it was
 * applied) keep their lease in next_attempt_at and are due again when it
 * ends, as before.
 */
export class Migration20261130233000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "webhook_delivery" add column "leased_until" timestamptz null;`);
    // Pages written from now on; existing ones keep theirs until rewritten.
    this.addSql(`alter table "webhook_delivery" set (fillfactor = 70);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "webhook_delivery" reset (fillfactor);`);
    this.addSql(`alter table "webhook_delivery" drop column "leased_until";`);
  }
}
