import { GraphQLJSONObject } from 'graphql-scalars';
import { IsOptional, MaxLength } from 'class-validator';
import { Field, GraphQLISODateTime, ID, InputType, ObjectType } from 'type-graphql';
import { ConnectionType } from '../../graphql/pagination';
import { ActorKind } from '../../core/viewer';

@ObjectType('AuditEntry', { description: 'One successful mutation in the audit trail (审计日志). Entries are never changed.' })
export class AuditEntryType {
  @Field(() => ID, { description: 'Sequence number of the entry.' })
  id!: number;

  @Field(() => GraphQLISODateTime, { description: 'When the mutation committed.' })
  at!: Date;

  @Field(() => ActorKind, { description: 'How the actor signed in.' })
  actorKind!: ActorKind;

  @Field({ description: 'User id, API key id, or "bootstrap"/"system".' })
  actorId!: string;

  @Field({ description: 'Display name of the actor at the time.' })
  actorName!: string;

  @Field({ description: 'Role of the actor at the time.' })
  actorRole!: string;

  @Field({ description: 'The mutation, e.g. publishDirectory.' })
  action!: string;

  @Field({ description: 'Type of the entity changed, e.g. ResourceDirectory.' })
  entityType!: string;

  @Field({ description: 'Database key of the entity: a region code, or a numeric id.' })
  entityId!: string;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Changed fields before; null when the mutation created the entity.' })
  before?: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Changed fields after.' })
  after?: Record<string, unknown> | null;
}

export const AuditEntryConnection = ConnectionType(AuditEntryType, 'AuditEntry', 'audit entry');

@InputType({ description: 'Narrows the audit trail; every field given must match.' })
export class AuditFilterInput {
  @Field(() => String, { nullable: true, description: 'Entity type, e.g. ResourceDirectory.' })
  @IsOptional()
  @MaxLength(100)
  entityType?: string | null;

  @Field(() => String, { nullable: true, description: 'Database key of the entity (with entityType).' })
  @IsOptional()
  @MaxLength(100)
  entityId?: string | null;

  @Field(() => String, { nullable: true, description: 'Actor id: user id, API key id, or "bootstrap".' })
  @IsOptional()
  @MaxLength(200)
  actorId?: string | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'Entries at or after this time.' })
  @IsOptional()
  from?: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'Entries before this time.' })
  @IsOptional()
  to?: Date | null;
}
