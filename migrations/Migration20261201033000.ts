import { Migration } from '@mikro-orm/migrations';

/**
 * A delivery's event is no longer a checked foreign key. Every delivery is
 * inserted by the outbox statement (emitEvents) together with its event, in
 * the same statement, and events are never deleted: the check (a
 * `FOR KEY SHARE` lookup of the event row per delivery, through a trigger)
 * proved nothing and was the largest single part of writing an event after
 * the inserts themselves. Deliveries still go with their webhook (that key
 * stays: deleteWebhook cascades).
 */
export class Migration20261201033000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "webhook_delivery" drop constraint if exists "webhook_delivery_event_id_foreign";`);
  }

  override async down(): Promise<void> {
    this.addSql(
      `alter table "webhook_delivery" add constraint "webhook_delivery_event_id_foreign" foreign key ("event_id") references "notification_event" ("id") on update cascade on delete cascade;`,
    );
  }
}
