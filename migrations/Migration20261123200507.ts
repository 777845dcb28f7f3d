import { Migration } from '@mikro-orm/migrations';

/**
 * Supervision records are unique per (department, source, external id), not
 * per (source, external id): two departments numbering their records alike
 * under one source took each other's records for duplicates.
 */
export class Migration20261123200507 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "supervision_record" drop constraint "supervision_record_source_external_id_unique";`);

    this.addSql(`alter table "supervision_record" add column "department_id" int null;`);
    this.addSql(`update "supervision_record" r set "department_id" = s."department_id" from "supervision_sub_item" s where s."id" = r."sub_item_id";`);
    this.addSql(`alter table "supervision_record" alter column "department_id" set not null;`);
    this.addSql(
      `alter table "supervision_record" add constraint "supervision_record_department_id_foreign" foreign key ("department_id") references "department" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "supervision_record" add constraint "supervision_record_department_id_source_external_id_unique" unique ("department_id", "source", "external_id");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "supervision_record" drop constraint "supervision_record_department_id_foreign";`);
    this.addSql(`alter table "supervision_record" drop constraint "supervision_record_department_id_source_external_id_unique";`);
    this.addSql(`alter table "supervision_record" drop column "department_id";`);
    this.addSql(`alter table "supervision_record" add constraint "supervision_record_source_external_id_unique" unique ("source", "external_id");`);
  }
}
