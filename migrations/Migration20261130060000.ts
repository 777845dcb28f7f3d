import { Migration } from '@mikro-orm/migrations';

/** Hash partitions of dataset_row (see docs/data-sharing.md, "Storage"). */
const ROW_PARTITIONS = 16;

/** The region trigger's columns after this migration: every count column of department_figures. */
const FOLLOWED = [
  'published_directories',
  'mounted_directories',
  'data_volume',
  'stale_directories',
  'subscriptions_made',
  'subscriptions_received',
  'subscriptions_pending',
  'usage_requests_provided',
  'usage_rows_provided',
  'usage_consumers',
  'usage_requests_made',
  'usage_rows_received',
  'usage_consuming_departments',
  'main_items',
  'covered_main_items',
  'inspection_items',
  'inspection_covered',
  'inspection_records',
  'penalty_items',
  'penalty_covered',
  'penalty_records',
  'coercion_items',
  'coercion_covered',
  'coercion_records',
  'other_items',
  'other_covered',
  'other_records',
];

/**
 * Data sharing (issue 13): rows of hosted datasets, their loads (with
 * idempotency keys), the append-only access log, usage counters per
 * directory and per (provider, consumer) pair, the usage figures of
 * departments and regions (the region trigger now carries them), the
 * columns granted by a conditional approval, and hosted mounts.
 */
export class Migration20261130060000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "mount" add column "hosted" boolean not null default false, add column "dataset_version" int not null default 0;`);
    // A directory delivers the rows of its one active hosted mount.
    this.addSql(`create unique index "mount_one_hosted_per_directory" on "mount" ("directory_id") where "hosted" and "active";`);
    this.addSql(`alter table "subscription_request" add column "granted_items" jsonb null;`);

    this.addSql(
      `create table "dataset_row" ("mount_id" int not null, "version" int not null, "row_no" bigint not null, "data" jsonb not null, constraint "dataset_row_pkey" primary key ("mount_id", "version", "row_no")) partition by hash ("mount_id");`,
    );
    for (let i = 0; i < ROW_PARTITIONS; i++) {
      this.addSql(`create table "dataset_row_p${i}" partition of "dataset_row" for values with (modulus ${ROW_PARTITIONS}, remainder ${i});`);
    }

    this.addSql(
      `create table "dataset_load" ("id" serial primary key, "mount_id" int not null references "mount" ("id") on update cascade, "version" int not null, "mode" varchar(10) not null, "route" varchar(10) not null, "idempotency_key" varchar(200) null, "rows_loaded" bigint not null, "rows_rejected" bigint not null, "record_count" bigint not null, "rejected" jsonb not null default '[]', "actor_kind" varchar(20) not null, "actor_id" varchar(200) not null, "created_at" timestamptz not null default now());`,
    );
    this.addSql(`create unique index "dataset_load_idempotency" on "dataset_load" ("mount_id", "idempotency_key") where "idempotency_key" is not null;`);
    this.addSql(`create index "dataset_load_mount_id_index" on "dataset_load" ("mount_id", "id");`);

    this.addSql(
      `create table "dataset_access" ("id" bigserial primary key, "directory_id" int not null references "resource_directory" ("id") on update cascade, "mount_id" int not null, "version" int not null, "provider_id" int not null references "department" ("id"), "consumer_id" int null references "department" ("id"), "subscription_id" int null, "actor_kind" varchar(20) not null, "actor_id" varchar(200) not null, "route" varchar(10) not null, "rows_delivered" bigint not null, "columns" jsonb null, "created_at" timestamptz not null default now());`,
    );
    this.addSql(`create index "dataset_access_directory_index" on "dataset_access" ("directory_id", "id");`);
    this.addSql(`create index "dataset_access_consumer_index" on "dataset_access" ("consumer_id", "id") where "consumer_id" is not null;`);
    // The log is evidence of use: entries are only ever added.
    this.addSql(`create function dataset_access_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'dataset_access is append-only';
      end $$;`);
    this.addSql(
      `create trigger dataset_access_append_only before update or delete on dataset_access for each statement execute function dataset_access_append_only();`,
    );

    this.addSql(
      `create table "directory_usage" ("directory_id" int primary key references "resource_directory" ("id") on update cascade on delete cascade, "requests" bigint not null default 0, "rows_delivered" bigint not null default 0, "consumers" int not null default 0);`,
    );
    this.addSql(
      `create table "directory_consumer" ("directory_id" int not null references "resource_directory" ("id") on update cascade on delete cascade, "consumer_id" int not null references "department" ("id") on delete cascade, "requests" bigint not null default 0, "rows_delivered" bigint not null default 0, "first_delivered_at" timestamptz not null default now(), "last_delivered_at" timestamptz not null default now(), constraint "directory_consumer_pkey" primary key ("directory_id", "consumer_id"));`,
    );
    this.addSql(
      `create table "usage_pair" ("provider_id" int not null references "department" ("id") on delete cascade, "consumer_id" int not null references "department" ("id") on delete cascade, "requests" bigint not null default 0, "rows_delivered" bigint not null default 0, constraint "usage_pair_pkey" primary key ("provider_id", "consumer_id"));`,
    );

    for (const table of ['department_figures', 'region_figures']) {
      this.addSql(
        `alter table "${table}" add column "usage_requests_provided" bigint not null default 0, add column "usage_rows_provided" bigint not null default 0, add column "usage_consumers" int not null default 0, add column "usage_requests_made" bigint not null default 0, add column "usage_rows_received" bigint not null default 0, add column "usage_consuming_departments" int not null default 0;`,
      );
    }
    this.addSql(`create or replace function region_figures_follow() returns trigger language plpgsql as $$
      declare
        ancestor varchar(6);
      begin
        for ancestor in
          select rc.ancestor_code from department d join region_closure rc on rc.descendant_code = d.region_code
           where d.id = new.department_id order by rc.ancestor_code
        loop
          update region_figures set
          ${FOLLOWED.map((c) => `${c} = ${c} + new.${c} - old.${c}`).join(',\n          ')}
          where region_code = ancestor;
        end loop;
        return null;
      end $$;`);
  }

  override async down(): Promise<void> {
    for (const table of ['department_figures', 'region_figures']) {
      this.addSql(
        `alter table "${table}" drop column "usage_requests_provided", drop column "usage_rows_provided", drop column "usage_consumers", drop column "usage_requests_made", drop column "usage_rows_received", drop column "usage_consuming_departments";`,
      );
    }
    this.addSql(`drop table "usage_pair", "directory_consumer", "directory_usage", "dataset_access", "dataset_load", "dataset_row";`);
    this.addSql(`drop function dataset_access_append_only();`);
    this.addSql(`drop index "mount_one_hosted_per_directory";`);
    this.addSql(`alter table "subscription_request" drop column "granted_items";`);
    this.addSql(`alter table "mount" drop column "hosted", drop column "dataset_version";`);
  }
}
