import { Migration } from '@mikro-orm/migrations';

/**
 * The stale-directory count joins the stored figures (department and
 * region): recounted on every catalogue change and, as time passes, by
 * departmentFiguresService.refreshStaleness; the region trigger now carries it.
 */
export class Migration20261123203727 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "department_figures" add column "stale_directories" int not null default 0;`);
    this.addSql(`alter table "region_figures" add column "stale_directories" int not null default 0;`);
    this.addSql(`create or replace function region_figures_follow() returns trigger language plpgsql as $$
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
          stale_directories = stale_directories + new.stale_directories - old.stale_directories,
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
    // The trigger adds each department's new count to its regions.
    this.addSql(`update department_figures f set stale_directories = x.n
      from (select c.department_id, count(*) as n from resource_directory c
             where c.status = 'PUBLISHED' and c.active_mount_count > 0 and c.stale_after < now() group by c.department_id) x
     where f.department_id = x.department_id;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "department_figures" drop column "stale_directories";`);
    this.addSql(`alter table "region_figures" drop column "stale_directories";`);
  }
}
