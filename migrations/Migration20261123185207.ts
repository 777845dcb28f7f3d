import { Migration } from '@mikro-orm/migrations';

export class Migration20261123185207 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create type "actor_kind" as enum ('USER', 'API_KEY', 'SYSTEM');`);
    this.addSql(`create type "subscription_status" as enum ('PENDING', 'GRANTED', 'REJECTED', 'REVOKED', 'CANCELLED', 'LAPSED');`);
    this.addSql(
      `create table "audit_entry" ("id" serial primary key, "at" timestamptz not null default now(), "actor_kind" "actor_kind" not null, "actor_id" varchar(200) not null, "actor_name" varchar(200) not null, "actor_role" varchar(20) not null, "action" varchar(100) not null, "entity_type" varchar(100) not null, "entity_id" varchar(100) not null, "before" jsonb null, "after" jsonb null);`,
    );
    this.addSql(`create index "audit_entry_at_index" on "audit_entry" ("at");`);
    this.addSql(`create index "audit_entry_actor_id_id_index" on "audit_entry" ("actor_id", "id");`);
    this.addSql(`create index "audit_entry_entity_type_entity_id_id_index" on "audit_entry" ("entity_type", "entity_id", "id");`);

    this.addSql(
      `create table "api_key" ("id" serial primary key, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "name" varchar(200) not null, "department_id" int not null, "secret_hash" varchar(64) not null, "prefix" varchar(16) not null, "created_by" varchar(200) not null, "revoked_at" timestamptz null);`,
    );
    this.addSql(`alter table "api_key" add constraint "api_key_secret_hash_unique" unique ("secret_hash");`);
    this.addSql(`create index "api_key_department_id_index" on "api_key" ("department_id");`);

    this.addSql(
      `create table "subscription_request" ("id" serial primary key, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "directory_id" int not null, "provider_id" int not null, "requester_id" int not null, "purpose" text not null, "end_date" date null, "status" "subscription_status" not null, "requested_by" varchar(200) not null, "decided_at" timestamptz null, "decision_reason" text null, "ended_at" timestamptz null);`,
    );
    this.addSql(`create index "subscription_request_requester_id_status_index" on "subscription_request" ("requester_id", "status");`);
    this.addSql(`create index "subscription_request_provider_id_status_index" on "subscription_request" ("provider_id", "status");`);

    this.addSql(
      `alter table "api_key" add constraint "api_key_department_id_foreign" foreign key ("department_id") references "department" ("id") on update cascade on delete restrict;`,
    );

    this.addSql(
      `alter table "subscription_request" add constraint "subscription_request_directory_id_foreign" foreign key ("directory_id") references "resource_directory" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "subscription_request" add constraint "subscription_request_provider_id_foreign" foreign key ("provider_id") references "department" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "subscription_request" add constraint "subscription_request_requester_id_foreign" foreign key ("requester_id") references "department" ("id") on update cascade on delete restrict;`,
    );

    // Hand-written: one live (pending or granted) request per (directory, requesting department).
    this.addSql(
      `create unique index "subscription_request_live_unique" on "subscription_request" ("directory_id", "requester_id") where "status" in ('PENDING', 'GRANTED');`,
    );
    // Hand-written: the audit trail is append-only, whoever connects.
    this.addSql(
      `create function "audit_entry_append_only"() returns trigger language plpgsql as $$ begin raise exception 'audit entries cannot be changed or deleted'; end $$;`,
    );
    this.addSql(`create trigger "audit_entry_append_only" before update or delete on "audit_entry" for each row execute function "audit_entry_append_only"();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "audit_entry_append_only" on "audit_entry";`);
    this.addSql(`drop function if exists "audit_entry_append_only"();`);
    this.addSql(`drop table if exists "audit_entry" cascade;`);

    this.addSql(`drop table if exists "api_key" cascade;`);

    this.addSql(`drop table if exists "subscription_request" cascade;`);

    this.addSql(`drop type "actor_kind";`);
    this.addSql(`drop type "subscription_status";`);
  }
}
