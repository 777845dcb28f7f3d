import { Migration } from '@mikro-orm/migrations';

/**
 * Region figures: the department figures summed for every region at any
 * depth, kept by a trigger in the same transaction as every change of a
 * department's figures, so a province dashboard reads one row per region.
 */
export class Migration20261123202839 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "region_figures" ("region_code" varchar(6) not null, "published_directories" int not null default 0, "mounted_directories" int not null default 0, "data_volume" bigint not null default 0, "main_items" int not null default 0, "covered_main_items" int not null default 0, "inspection_items" int not null default 0, "inspection_covered" int not null default 0, "inspection_records" bigint not null default 0, "penalty_items" int not null default 0, "penalty_covered" int not null default 0, "penalty_records" bigint not null default 0, "coercion_items" int not null default 0, "coercion_covered" int not null default 0, "coercion_records" bigint not null default 0, "other_items" int not null default 0, "other_covered" int not null default 0, "other_records" bigint not null default 0, constraint "region_figures_pkey" primary key ("region_code"));`,
    );
    this.addSql(
      `alter table "region_figures" add constraint "region_figures_region_code_foreign" foreign key ("region_code") references "region" ("code") on update cascade on delete cascade;`,
    );

    // Department figures rows are created with zeros and then only updated:
    // each update adds its difference to the region and every ancestor, in
    // code order (the province first), so writers queue on the province row
    // instead of deadlocking on the rows below it.
    this.addSql(`create function region_figures_follow() returns trigger language plpgsql as $$
      declare
        ancestor varchar(6);
      begin
        for ancestor in
          select rc.ancestor_code from department d join region_closure rc on rc.descendant_code = d.region_code
           where d.id = new.department_id order by rc.ancestor_code
        loop
          update region_figures set
          published_directories = published_directories + new.published_directories - old.published_directories,
          mounted_directories = mounted_directories + new.mounted_directories - old.mounted_directories,
          data_volume = data_volume + new.data_volume - old.data_volume,
          main_items = main_items + new.main_items - old.main_items,
          covered_main_items = covered_main_items + new.covered_main_items - old.covered_main_items,
          inspection_items = inspection_items + new.inspection_items - old.inspection_items,
          inspection_covered = inspection_covered + new.inspection_covered - old.inspection_covered,
          inspection_records = inspection_records + new.inspection_records - old.inspection_records,
          penalty_items = penalty_items + new.penalty_items - old.penalty_items,
          penalty_covered = penalty_covered + new.penalty_covered - old.penalty_covered,
          penalty_records = penalty_records + new.penalty_records - old.penalty_records,
          coercion_items = coercion_items + new.coercion_items - old.coercion_items,
          coercion_covered = coercion_covered + new.coercion_covered - old.coercion_covered,
          coercion_records = coercion_records + new.coercion_records - old.coercion_records,
          other_items = other_items + new.other_items - old.other_items,
          other_covered = other_covered + new.other_covered - old.other_covered,
          other_records = other_records + new.other_records - old.other_records
          where region_code = ancestor;
        end loop;
        return null;
      end $$;`);
    this.addSql(
      `create trigger department_figures_to_regions after update on department_figures for each row when (old is distinct from new) execute function region_figures_follow();`,
    );

    this.addSql(`insert into region_figures (region_code) select code from region;`);
    this
      .addSql(`update region_figures rf set published_directories = x.published_directories, mounted_directories = x.mounted_directories, data_volume = x.data_volume, main_items = x.main_items, covered_main_items = x.covered_main_items, inspection_items = x.inspection_items, inspection_covered = x.inspection_covered, inspection_records = x.inspection_records, penalty_items = x.penalty_items, penalty_covered = x.penalty_covered, penalty_records = x.penalty_records, coercion_items = x.coercion_items, coercion_covered = x.coercion_covered, coercion_records = x.coercion_records, other_items = x.other_items, other_covered = x.other_covered, other_records = x.other_records
      from (select rc.ancestor_code, sum(f.published_directories) as published_directories, sum(f.mounted_directories) as mounted_directories, sum(f.data_volume) as data_volume, sum(f.main_items) as main_items, sum(f.covered_main_items) as covered_main_items, sum(f.inspection_items) as inspection_items, sum(f.inspection_covered) as inspection_covered, sum(f.inspection_records) as inspection_records, sum(f.penalty_items) as penalty_items, sum(f.penalty_covered) as penalty_covered, sum(f.penalty_records) as penalty_records, sum(f.coercion_items) as coercion_items, sum(f.coercion_covered) as coercion_covered, sum(f.coercion_records) as coercion_records, sum(f.other_items) as other_items, sum(f.other_covered) as other_covered, sum(f.other_records) as other_records
              from region_closure rc join department d on d.region_code = rc.descendant_code join department_figures f on f.department_id = d.id
             group by rc.ancestor_code) x
     where rf.region_code = x.ancestor_code;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger department_figures_to_regions on department_figures;`);
    this.addSql(`drop function region_figures_follow();`);
    this.addSql(`drop table if exists "region_figures" cascade;`);
  }
}
