import { Migration } from '@mikro-orm/migrations';

export class Migration20261123190028 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create type "supervision_category" as enum ('INSPECTION', 'PENALTY', 'COERCION', 'OTHER');`);
    this.addSql(
      `create table "supervision_main_item" ("id" serial primary key, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "department_id" int not null, "code" varchar(64) not null, "name" varchar(500) not null, "legal_basis" text not null);`,
    );
    this.addSql(`alter table "supervision_main_item" add constraint "supervision_main_item_department_id_code_unique" unique ("department_id", "code");`);

    this.addSql(
      `create table "supervision_sub_item" ("id" serial primary key, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "department_id" int not null, "main_item_id" int not null, "code" varchar(64) not null, "name" varchar(500) not null, "category" "supervision_category" not null, "record_count" bigint not null default 0);`,
    );
    this.addSql(`create index "supervision_sub_item_main_item_id_index" on "supervision_sub_item" ("main_item_id");`);
    this.addSql(`alter table "supervision_sub_item" add constraint "supervision_sub_item_department_id_code_unique" unique ("department_id", "code");`);

    this.addSql(
      `create table "supervision_record" ("id" bigserial primary key, "sub_item_id" int not null, "source" varchar(100) not null, "external_id" varchar(200) not null, "occurred_at" timestamptz not null, "payload" jsonb null, "supersedes_id" bigint null, "superseded" boolean not null default false, "received_at" timestamptz not null default now());`,
    );
    this.addSql(`create index "supervision_record_sub_item_id_index" on "supervision_record" ("sub_item_id");`);
    this.addSql(`create unique index "supervision_record_supersedes_id_unique" on "supervision_record" ("supersedes_id") where "supersedes_id" is not null;`);
    this.addSql(`alter table "supervision_record" add constraint "supervision_record_source_external_id_unique" unique ("source", "external_id");`);

    this.addSql(
      `alter table "supervision_main_item" add constraint "supervision_main_item_department_id_foreign" foreign key ("department_id") references "department" ("id") on update cascade on delete restrict;`,
    );

    this.addSql(
      `alter table "supervision_sub_item" add constraint "supervision_sub_item_department_id_foreign" foreign key ("department_id") references "department" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "supervision_sub_item" add constraint "supervision_sub_item_main_item_id_foreign" foreign key ("main_item_id") references "supervision_main_item" ("id") on update cascade on delete restrict;`,
    );

    this.addSql(
      `alter table "supervision_record" add constraint "supervision_record_sub_item_id_foreign" foreign key ("sub_item_id") references "supervision_sub_item" ("id") on update cascade on delete restrict;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "supervision_sub_item" drop constraint "supervision_sub_item_main_item_id_foreign";`);

    this.addSql(`alter table "supervision_record" drop constraint "supervision_record_sub_item_id_foreign";`);

    this.addSql(`drop table if exists "supervision_main_item" cascade;`);

    this.addSql(`drop table if exists "supervision_sub_item" cascade;`);

    this.addSql(`drop table if exists "supervision_record" cascade;`);

    this.addSql(`drop type "supervision_category";`);
  }
}
