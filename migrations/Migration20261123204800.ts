import { Migration } from '@mikro-orm/migrations';

/**
 * Subscription counts join the stored figures (department and region):
 * recounted on every request and transition and, as granted subscriptions
 * lapse, by departmentFiguresService.refreshStaleness; the region trigger
 * now carries them.
 */
export class Migration20261123204800 extends Migration {
  override async up(): Promise<void> {
    for (const table of ['department_figures', 'region_figures']) {
      this.addSql(
        `alter table "${table}" add column "subscriptions_made" int not null default 0, add column "subscriptions_received" int not null default 0, add column "subscriptions_pending" int not null default 0;`,
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
          published_directories = published_directories + new.published_directories - old.published_directories,
          mounted_directories = mounted_directories + new.mounted_directories - old.mounted_directories,
          data_volume = data_volume + new.data_volume - old.data_volume,
          stale_directories = stale_directories + new.stale_directories - old.stale_directories,
          subscriptions_made = subscriptions_made + new.subscriptions_made - old.subscriptions_made,
          subscriptions_received = subscriptions_received + new.subscriptions_received - old.subscriptions_received,
          subscriptions_pending = subscriptions_pending + new.subscriptions_pending - old.subscriptions_pending,
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
    // The trigger adds each department's counts to its regions.
    this.addSql(`update department_figures f set
        subscriptions_made = (select count(*) from subscription_request s where s.requester_id = f.department_id and (s.status = 'GRANTED' and (s.end_date is null or s.end_date >= (now() at time zone 'Asia/Shanghai')::date))),
        subscriptions_received = (select count(*) from subscription_request s where s.provider_id = f.department_id and (s.status = 'GRANTED' and (s.end_date is null or s.end_date >= (now() at time zone 'Asia/Shanghai')::date))),
        subscriptions_pending = (select count(*) from subscription_request s where s.provider_id = f.department_id and s.status = 'PENDING')
      where exists (select 1 from subscription_request s where s.requester_id = f.department_id or s.provider_id = f.department_id);`);
  }

  override async down(): Promise<void> {
    for (const table of ['department_figures', 'region_figures']) {
      this.addSql(`alter table "${table}" drop column "subscriptions_made", drop column "subscriptions_received", drop column "subscriptions_pending";`);
    }
  }
}
