import { Migration } from '@mikro-orm/migrations';

/**
 * A dataset load keeps a digest of what it was asked (acceptPartial and the
 * body as sent), so that a load under an idempotency key already used is
 * answered as a retry only when it is the same request; another one is
 * CONFLICT. Loads stored before keep none and are replayed as before.
 */
export class Migration20261201203000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "dataset_load" add column "request_digest" varchar(64) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "dataset_load" drop column "request_digest";`);
  }
}
