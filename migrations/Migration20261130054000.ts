import { Migration } from '@mikro-orm/migrations';

/**
 * Notifications (docs/notifications.md): webhooks, the outbox of events
 * (written in the transaction of the change that causes it), one delivery
 * job per (webhook, event) that dispatchers claim with FOR UPDATE SKIP
 * LOCKED, and a statement-level trigger that tells listening servers which
 * regions' figures changed (GraphQL subscription figuresChanged).
 */
export class Migration20261130054000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "webhook" ("id" serial primary key, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "department_id" int null, "url" varchar(2000) not null, "events" text[] not null, "secret" varchar(200) not null, "active" boolean not null default true, "description" varchar(500) null, "created_by" varchar(200) not null);`,
    );
    this.addSql(
      `alter table "webhook" add constraint "webhook_department_id_foreign" foreign key ("department_id") references "department" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`create index "webhook_department_id_index" on "webhook" ("department_id");`);

    this.addSql(
      `create table "notification_event" ("id" serial primary key, "type" varchar(60) not null, "occurred_at" timestamptz not null default now(), "department_codes" text[] not null default '{}', "payload" jsonb not null, "dedup_key" varchar(200) null);`,
    );
    this.addSql(`create unique index "notification_event_dedup_key_unique" on "notification_event" ("dedup_key") where "dedup_key" is not null;`);

    this.addSql(
      `create table "webhook_delivery" ("id" serial primary key, "created_at" timestamptz not null default now(), "webhook_id" int not null, "event_id" int not null, "status" varchar(20) not null default 'PENDING', "attempt" int not null default 0, "next_attempt_at" timestamptz null default now(), "last_attempt_at" timestamptz null, "response_code" int null, "duration_ms" int null, "error" varchar(500) null, "delivered_at" timestamptz null);`,
    );
    this.addSql(
      `alter table "webhook_delivery" add constraint "webhook_delivery_webhook_id_foreign" foreign key ("webhook_id") references "webhook" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "webhook_delivery" add constraint "webhook_delivery_event_id_foreign" foreign key ("event_id") references "notification_event" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`create index "webhook_delivery_webhook_id_id_index" on "webhook_delivery" ("webhook_id", "id");`);
    // The dispatchers' queue: only deliveries still to be sent are in it.
    this.addSql(`create index "webhook_delivery_due_index" on "webhook_delivery" ("next_attempt_at", "id") where "status" = 'PENDING';`);

    // One notification per statement, naming every region whose figures it changed (ingestion changes
    // a few regions per batch); '*' when the list would not fit in a notification's 8000 bytes.
    this.addSql(`create function region_figures_notify() returns trigger language plpgsql as $$
      declare codes text;
      begin
        select string_agg(distinct n.region_code, ',') into codes
          from new_rows n join old_rows o on o.region_code = n.region_code
         where n is distinct from o;
        if codes is not null then
          perform pg_notify('mulu_figures', case when length(codes) > 7000 then '*' else codes end);
        end if;
        return null;
      end $$;`);
    this.addSql(
      `create trigger region_figures_changed after update on region_figures referencing old table as old_rows new table as new_rows for each statement execute function region_figures_notify();`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger region_figures_changed on region_figures;`);
    this.addSql(`drop function region_figures_notify();`);
    this.addSql(`drop table if exists "webhook_delivery" cascade;`);
    this.addSql(`drop table if exists "notification_event" cascade;`);
    this.addSql(`drop table if exists "webhook" cascade;`);
  }
}
