import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { TimestampedEntity } from '../../db/base.entity';
import { ResourceDirectory } from '../catalogue/directory.entity';
import { Department } from '../departments/department.entity';

/** States of a subscription request (订阅申请); see subscription.state-machine.ts and docs/api.md. */
export enum SubscriptionStatus {
  /** Waiting for the provider's decision (conditional share). */
  PENDING = 'PENDING',
  /** Granted: the requester may use the directory. */
  GRANTED = 'GRANTED',
  /** Rejected by the provider, with a reason. */
  REJECTED = 'REJECTED',
  /** Granted, then revoked by the provider. */
  REVOKED = 'REVOKED',
  /** Withdrawn by the requester, pending or granted. */
  CANCELLED = 'CANCELLED',
  /** Granted, and its end date has passed. */
  LAPSED = 'LAPSED',
}

/**
 * Department B asks to use directory D of department A. The provider is
 * copied from the directory so that queues and statistics read one table.
 * At most one live (pending or granted) request per (directory, requester):
 * a partial unique index in the migration.
 */
@Entity({ tableName: 'subscription_request' })
@Index({ properties: ['provider', 'status'] })
@Index({ properties: ['requester', 'status'] })
export class SubscriptionRequest extends TimestampedEntity<'status' | 'decidedAt' | 'decisionReason' | 'endedAt' | 'endDate' | 'grantedItems'> {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne({ entity: () => ResourceDirectory, ref: true, deleteRule: 'restrict' })
  directory!: Ref<ResourceDirectory>;

  /** The department that owns the directory (提供方). */
  @ManyToOne({ entity: () => Department, ref: true, deleteRule: 'restrict' })
  provider!: Ref<Department>;

  /** The department that asks (需求方). */
  @ManyToOne({ entity: () => Department, ref: true, deleteRule: 'restrict' })
  requester!: Ref<Department>;

  /** What the data will be used for (用途). */
  @Property({ type: 'text' })
  purpose!: string;

  /** Last day of use, inclusive (YYYY-MM-DD); null for no end. */
  @Property({ type: 'date', nullable: true })
  endDate?: string | null;

  /** Stored state; a GRANTED request past its end date reads as LAPSED (see effectiveStatus). */
  @Enum({ items: () => SubscriptionStatus, nativeEnumName: 'subscription_status' })
  status!: SubscriptionStatus;

  /** Actor id of who filed it. */
  @Property({ type: 'string', length: 200 })
  requestedBy!: string;

  /** When it was granted or rejected. */
  @Property({ type: 'datetime', nullable: true })
  decidedAt?: Date | null;

  /** Reason given with a rejection or revocation (or an approval note). */
  @Property({ type: 'text', nullable: true })
  decisionReason?: string | null;

  /**
   * Information items a conditional grant is restricted to (named by the
   * provider on approval); null for every item.
   */
  @Property({ type: 'json', nullable: true })
  grantedItems?: string[] | null;

  /** When it was revoked or cancelled. */
  @Property({ type: 'datetime', nullable: true })
  endedAt?: Date | null;
}
