import { ArrayType, Entity, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { TimestampedEntity } from '../../db/base.entity';
import { Department } from '../departments/department.entity';

/**
 * A receiver of notification events (docs/notifications.md): an HTTP(S) URL
 * that Mulu POSTs signed events to. A department's webhook receives only
 * events of that department (as provider or as consumer); an admin's
 * webhook without a department receives every event it lists.
 */
@Entity({ tableName: 'webhook' })
export class Webhook extends TimestampedEntity<'active' | 'description' | 'department'> {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  /** The department whose events it receives; null: every department's (administrators only). */
  @ManyToOne({ entity: () => Department, ref: true, nullable: true, deleteRule: 'cascade', index: true })
  department?: Ref<Department> | null;

  @Property({ type: 'string', length: 2000 })
  url!: string;

  /** Event types (NotificationEventType names) it receives. */
  @Property({ type: ArrayType, columnType: 'text[]' })
  events!: string[];

  /** HMAC-SHA256 key of the signature header; shown once, when the webhook is created. */
  @Property({ type: 'string', length: 200, hidden: true })
  secret!: string;

  /** A paused webhook keeps its events queued until it is active again. */
  @Property({ type: 'boolean', default: true })
  active: boolean = true;

  @Property({ type: 'string', length: 500, nullable: true })
  description?: string | null;

  /** Actor id of who registered it. */
  @Property({ type: 'string', length: 200 })
  createdBy!: string;
}

/** One event in the outbox, written in the transaction of the change that caused it. */
@Entity({ tableName: 'notification_event' })
export class NotificationEventRow {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  /** A NotificationEventType name. */
  @Property({ type: 'string', length: 60 })
  type!: string;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  occurredAt: Date = new Date();

  /** Credit codes of the departments the event concerns; empty for platform events (administrators only). */
  @Property({ type: ArrayType, columnType: 'text[]', default: '{}' })
  departmentCodes: string[] = [];

  /** The event's `data`, as the POST body carries it. */
  @Property({ type: 'json' })
  payload!: Record<string, unknown>;

  /** Events the clock causes (a lapse, staleness) are written once per key, by whichever server sees them first. */
  @Property({ type: 'string', length: 200, nullable: true })
  dedupKey?: string | null;
}

/** Where a delivery stands. */
export enum DeliveryStatus {
  /** Not sent yet, or failed and waiting for its next attempt. */
  PENDING = 'PENDING',
  /** The receiver answered 2xx. */
  SUCCEEDED = 'SUCCEEDED',
  /** Every attempt failed; it is not tried again. */
  FAILED = 'FAILED',
}

/** One event to send to one webhook: a job the dispatchers share through PostgreSQL. */
@Entity({ tableName: 'webhook_delivery' })
@Index({ properties: ['webhook', 'id'] })
export class WebhookDelivery {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @ManyToOne({ entity: () => Webhook, ref: true, deleteRule: 'cascade' })
  webhook!: Ref<Webhook>;

  /**
   * Not a checked foreign key (migrations/Migration20261201033000.ts): the
   * outbox statement inserts every delivery with its event, and events are
   * never deleted.
   */
  @ManyToOne({ entity: () => NotificationEventRow, ref: true, fieldName: 'event_id', createForeignKeyConstraint: false })
  event!: Ref<NotificationEventRow>;

  @Property({ type: 'string', length: 20, default: DeliveryStatus.PENDING })
  status: DeliveryStatus = DeliveryStatus.PENDING;

  /** Attempts made so far. */
  @Property({ type: 'integer', default: 0 })
  attempt: number = 0;

  /** When it is due (its next attempt); null once it succeeded or failed. */
  @Property({ type: 'datetime', nullable: true })
  nextAttemptAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  lastAttemptAt?: Date | null;

  /**
   * Set by the dispatcher that claimed it: no other claims it until then (an
   * attempt cannot last longer). In no index, so that a claim is a heap-only
   * update (migrations/Migration20261130233000.ts).
   */
  @Property({ type: 'datetime', nullable: true })
  leasedUntil?: Date | null;

  /** HTTP status of the last attempt; null when no answer came (refused, timed out). */
  @Property({ type: 'integer', nullable: true })
  responseCode?: number | null;

  /** How long the last attempt took, in milliseconds. */
  @Property({ type: 'integer', nullable: true })
  durationMs?: number | null;

  /** Why the last attempt failed. */
  @Property({ type: 'string', length: 500, nullable: true })
  error?: string | null;

  @Property({ type: 'datetime', nullable: true })
  deliveredAt?: Date | null;
}
