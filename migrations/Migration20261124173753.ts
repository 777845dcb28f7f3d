import { Migration } from '@mikro-orm/migrations';

/**
 * A covering index for the catalogue search: a region's directories whose
 * name or code holds a text, in id order, are found in the index alone.
 * (The generated diff also proposed dropping the snapshot-unit foreign key
 * and the live-subscription unique index, which the entities do not model;
 * both are kept.)
 */
export class Migration20261124173753 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "resource_directory_search_index" on "resource_directory" ("department_id", "id") include ("status", "share_type", "name", "code");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "resource_directory_search_index";`);
  }
}
