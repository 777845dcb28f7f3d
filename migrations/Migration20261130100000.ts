import { Migration } from '@mikro-orm/migrations';

/**
 * Usage is folded into its counters in batches (src/modules/sharing/usage-fold.ts)
 * instead of by each delivery. Each access-log row records the id of the
 * transaction that wrote it (xid8, never wraps); the fold counts the rows of
 * finished transactions and keeps, in the transaction that adds to the
 * counters, the horizon below which every transaction has finished
 * (usage_fold) and the committed transactions above it it folded already
 * (usage_fold_ahead): each row is counted exactly once.
 *
 * Rows logged before this migration were counted when delivered: they keep
 * a null transaction id, which no fold selects.
 */
export class Migration20261130100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "dataset_access" add column "xact_id" xid8 null;`);
    this.addSql(`alter table "dataset_access" alter column "xact_id" set default pg_current_xact_id();`);
    this.addSql(`create index "dataset_access_xact_index" on "dataset_access" ("xact_id") where "consumer_id" is not null;`);
    this.addSql(
      `create table "usage_fold" ("singleton" boolean primary key default true check ("singleton"), "folded_below" xid8 not null, "folded_at" timestamptz not null default now());`,
    );
    this.addSql(`insert into "usage_fold" ("folded_below") values (pg_current_xact_id());`);
    // Transactions above the horizon that committed and were folded already (the horizon waits for an older one still running).
    this.addSql(`create table "usage_fold_ahead" ("xact_id" xid8 primary key);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table "usage_fold_ahead", "usage_fold";`);
    this.addSql(`alter table "dataset_access" drop column "xact_id";`);
  }
}
