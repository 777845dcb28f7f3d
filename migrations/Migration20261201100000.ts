import { Migration } from '@mikro-orm/migrations';

/**
 * The catalogue search's text filter reads lower-cased names and codes from
 * its index. ILIKE in a multi-byte database lower-cases both sides for every
 * row it tests; the filter is now `lower(name) like lower(text)` (the same
 * answer, see directoryFilterSql), and with lower(name) and lower(code) as
 * columns of resource_directory_search_index the index answers it without
 * lower-casing anything. A region's departments are found by an index on
 * (region_code, id), not a scan of every department.
 */
export class Migration20261201100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index "resource_directory_search_index";`);
    this.addSql(
      `create index "resource_directory_search_index" on "resource_directory" ("department_id", "id", lower("name"), lower("code")) include ("status", "share_type", "name", "code");`,
    );
    this.addSql(`create index "department_region_code_id_index" on "department" ("region_code", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "department_region_code_id_index";`);
    this.addSql(`drop index "resource_directory_search_index";`);
    this.addSql(
      `create index "resource_directory_search_index" on "resource_directory" ("department_id", "id") include ("status", "share_type", "name", "code");`,
    );
  }
}
