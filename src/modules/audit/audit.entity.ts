import { Entity, Enum, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { ActorKind } from '../../core/viewer';

/**
 * One successful mutation: who did what to which entity, and the fields it
 * changed (before and after). Written in the mutation's own transaction, so
 * there is an entry exactly when the change happened. Never updated: the API
 * has no mutation for it and a trigger refuses UPDATE and DELETE.
 */
@Entity({ tableName: 'audit_entry' })
@Index({ properties: ['entityType', 'entityId', 'id'] })
@Index({ properties: ['actorId', 'id'] })
@Index({ properties: ['at'] })
export class AuditEntry {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  at: Date = new Date();

  @Enum({ items: () => ActorKind, nativeEnumName: 'actor_kind' })
  actorKind!: ActorKind;

  @Property({ type: 'string', length: 200 })
  actorId!: string;

  @Property({ type: 'string', length: 200 })
  actorName!: string;

  /** Role of the actor at the time, e.g. STEWARD. */
  @Property({ type: 'string', length: 20 })
  actorRole!: string;

  /** The mutation, e.g. publishDirectory. */
  @Property({ type: 'string', length: 100 })
  action!: string;

  /** GraphQL type of the entity, e.g. ResourceDirectory. */
  @Property({ type: 'string', length: 100 })
  entityType!: string;

  /** Database key of the entity (a region code, a numeric id). */
  @Property({ type: 'string', length: 100 })
  entityId!: string;

  /** Changed fields before the mutation; null when it created the entity. */
  @Property({ type: 'json', nullable: true })
  before?: Record<string, unknown> | null;

  /** Changed fields after the mutation. */
  @Property({ type: 'json', nullable: true })
  after?: Record<string, unknown> | null;
}
