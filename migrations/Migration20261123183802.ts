import { Migration } from '@mikro-orm/migrations';

export class Migration20261123183802 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create type "region_level" as enum ('PROVINCE', 'CITY', 'DISTRICT');`);
    this.addSql(`create type "resource_format" as enum ('DATABASE', 'SPREADSHEET', 'FILE', 'IMAGE', 'STREAM', 'API', 'OTHER');`);
    this.addSql(`create type "share_type" as enum ('UNCONDITIONAL', 'CONDITIONAL', 'NOT_SHARED');`);
    this.addSql(`create type "share_method" as enum ('API', 'DATABASE_EXCHANGE', 'FILE_DOWNLOAD', 'ONLINE_QUERY');`);
    this.addSql(`create type "update_cycle" as enum ('REAL_TIME', 'DAILY', 'WEEKLY', 'MONTHLY', 'QUARTERLY', 'YEARLY');`);
    this.addSql(`create type "directory_status" as enum ('DRAFT', 'PUBLISHED', 'WITHDRAWN');`);
    this.addSql(`create type "mount_kind" as enum ('TABLE', 'API', 'FILE');`);
    this.addSql(
      `create table "region" ("code" varchar(6) not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "name" varchar(100) not null, "level" "region_level" not null, "parent_code" varchar(6) null, constraint "region_pkey" primary key ("code"));`,
    );
    this.addSql(`create index "region_parent_code_index" on "region" ("parent_code");`);

    this.addSql(
      `create table "department" ("id" serial primary key, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "credit_code" varchar(18) not null, "name" varchar(200) not null, "region_code" varchar(6) not null);`,
    );
    this.addSql(`alter table "department" add constraint "department_credit_code_unique" unique ("credit_code");`);
    this.addSql(`alter table "department" add constraint "department_region_code_name_unique" unique ("region_code", "name");`);

    this.addSql(
      `create table "region_closure" ("ancestor_code" varchar(6) not null, "descendant_code" varchar(6) not null, "depth" smallint not null, constraint "region_closure_pkey" primary key ("ancestor_code", "descendant_code"));`,
    );
    this.addSql(`create index "region_closure_descendant_code_index" on "region_closure" ("descendant_code");`);

    this.addSql(
      `create table "resource_directory" ("id" serial primary key, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "code" varchar(64) not null, "name" varchar(200) not null, "summary" text null, "department_id" int not null, "classification" varchar(200) null, "resource_format" "resource_format" not null, "information_items" jsonb not null, "share_type" "share_type" not null, "share_conditions" text null, "share_method" "share_method" null, "open_to_public" boolean not null default false, "update_cycle" "update_cycle" not null, "status" "directory_status" not null default 'DRAFT', "published_at" timestamptz null, "withdrawn_at" timestamptz null, "active_mount_count" int not null default 0, "data_volume" bigint not null default 0, "last_refreshed_at" timestamptz null);`,
    );
    this.addSql(`alter table "resource_directory" add constraint "resource_directory_code_unique" unique ("code");`);
    this.addSql(`create index "resource_directory_department_id_status_index" on "resource_directory" ("department_id", "status");`);

    this.addSql(
      `create table "mount" ("id" serial primary key, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "directory_id" int not null, "kind" "mount_kind" not null, "locator" varchar(1000) not null, "record_count" bigint not null, "last_refreshed_at" timestamptz not null, "active" boolean not null default true, "mounted_at" timestamptz not null default now(), "unmounted_at" timestamptz null);`,
    );
    this.addSql(`create index "mount_directory_id_active_index" on "mount" ("directory_id", "active");`);

    this.addSql(
      `alter table "region" add constraint "region_parent_code_foreign" foreign key ("parent_code") references "region" ("code") on update cascade on delete restrict;`,
    );

    this.addSql(
      `alter table "department" add constraint "department_region_code_foreign" foreign key ("region_code") references "region" ("code") on update cascade on delete restrict;`,
    );

    this.addSql(
      `alter table "resource_directory" add constraint "resource_directory_department_id_foreign" foreign key ("department_id") references "department" ("id") on update cascade on delete restrict;`,
    );

    this.addSql(
      `alter table "mount" add constraint "mount_directory_id_foreign" foreign key ("directory_id") references "resource_directory" ("id") on update cascade on delete restrict;`,
    );
  }
}
