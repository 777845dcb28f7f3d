import { Migration } from '@mikro-orm/migrations';

export class Migration20261123191222 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "department_figures" ("department_id" int not null, "published_directories" int not null default 0, "mounted_directories" int not null default 0, "data_volume" bigint not null default 0, "main_items" int not null default 0, "covered_main_items" int not null default 0, "inspection_items" int not null default 0, "inspection_covered" int not null default 0, "inspection_records" bigint not null default 0, "penalty_items" int not null default 0, "penalty_covered" int not null default 0, "penalty_records" bigint not null default 0, "coercion_items" int not null default 0, "coercion_covered" int not null default 0, "coercion_records" bigint not null default 0, "other_items" int not null default 0, "other_covered" int not null default 0, "other_records" bigint not null default 0, constraint "department_figures_pkey" primary key ("department_id"));`,
    );

    this.addSql(
      `alter table "department_figures" add constraint "department_figures_department_id_foreign" foreign key ("department_id") references "department" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(`alter table "resource_directory" add column "stale_after" timestamptz null;`);
    // Partial: only mounted, published directories can be stale, and only they are counted.
    this.addSql(
      `create index "resource_directory_stale_after_index" on "resource_directory" ("department_id", "stale_after") where "status" = 'PUBLISHED' and "active_mount_count" > 0;`,
    );

    // Backfill, as department-figures.service.ts computes them at the time of writing.
    this.addSql(`insert into department_figures (department_id) select id from department;`);
    this.addSql(
      `update resource_directory c set stale_after = c.last_refreshed_at + (case c.update_cycle when 'REAL_TIME' then interval '1 day' when 'DAILY' then interval '1 day' when 'WEEKLY' then interval '7 days' when 'MONTHLY' then interval '1 month' when 'QUARTERLY' then interval '3 months' when 'YEARLY' then interval '1 year' end);`,
    );
    this.addSql(`update department_figures f set
        published_directories = x.published, mounted_directories = x.mounted, data_volume = x.volume
      from (select c.department_id, count(*) filter (where c.status = 'PUBLISHED') as published,
                   count(*) filter (where c.status = 'PUBLISHED' and c.active_mount_count > 0) as mounted,
                   coalesce(sum(c.data_volume) filter (where c.status = 'PUBLISHED' and c.active_mount_count > 0), 0) as volume
              from resource_directory c group by c.department_id) x
     where f.department_id = x.department_id;`);
    this.addSql(`update department_figures f set main_items = x.items, covered_main_items = x.covered
      from (select m.department_id, count(*) as items,
                   count(*) filter (where exists (select 1 from supervision_sub_item s where s.main_item_id = m.id and s.record_count > 0)) as covered
              from supervision_main_item m group by m.department_id) x
     where f.department_id = x.department_id;`);
    for (const c of ['inspection', 'penalty', 'coercion', 'other']) {
      this.addSql(`update department_figures f set ${c}_items = x.items, ${c}_covered = x.covered, ${c}_records = x.records
        from (select s.department_id, count(*) as items, count(*) filter (where s.record_count > 0) as covered, coalesce(sum(s.record_count), 0) as records
                from supervision_sub_item s where s.category = '${c.toUpperCase()}' group by s.department_id) x
       where f.department_id = x.department_id;`);
    }
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "department_figures" cascade;`);

    this.addSql(`drop index "resource_directory_stale_after_index";`);
    this.addSql(`alter table "resource_directory" drop column "stale_after";`);
  }
}
