import { Migration } from '@mikro-orm/migrations';

export class Migration20261123191343 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create type "report_unit_kind" as enum ('DEPARTMENT', 'REGION');`);
    this.addSql(
      `create table "report_snapshot" ("period" varchar(7) not null, "captured_at" timestamptz not null, "captured_by" varchar(200) not null, "department_count" int not null, "region_count" int not null, "replacements" int not null default 0, constraint "report_snapshot_pkey" primary key ("period"));`,
    );

    this.addSql(
      `create table "report_snapshot_unit" ("id" serial primary key, "period" varchar(7) not null, "unit_kind" "report_unit_kind" not null, "unit_key" varchar(18) not null, "unit_name" varchar(200) not null, "region_code" varchar(6) null, "figures" jsonb not null);`,
    );
    this.addSql(`create index "report_snapshot_unit_period_region_code_index" on "report_snapshot_unit" ("period", "region_code");`);
    this.addSql(
      `alter table "report_snapshot_unit" add constraint "report_snapshot_unit_period_unit_kind_unit_key_unique" unique ("period", "unit_kind", "unit_key");`,
    );
    this.addSql(
      `alter table "report_snapshot_unit" add constraint "report_snapshot_unit_period_foreign" foreign key ("period") references "report_snapshot" ("period") on update restrict on delete cascade;`,
    );

    // Snapshots are immutable: a period is replaced whole (delete and insert, audited), never edited.
    this.addSql(`create function report_snapshot_unit_immutable() returns trigger language plpgsql as $$
      begin raise exception 'report_snapshot_unit rows are immutable; replace the whole period instead'; end $$;`);
    this.addSql(
      `create trigger report_snapshot_unit_no_update before update on "report_snapshot_unit" for each row execute function report_snapshot_unit_immutable();`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "report_snapshot_unit" cascade;`);
    this.addSql(`drop function if exists report_snapshot_unit_immutable();`);

    this.addSql(`drop table if exists "report_snapshot" cascade;`);

    this.addSql(`drop type "report_unit_kind";`);
  }
}
