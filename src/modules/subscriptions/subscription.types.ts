import { GraphQLLocalDate } from 'graphql-scalars';
import { ArrayMaxSize, IsOptional, Length, MaxLength } from 'class-validator';
import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../../graphql/node';
import { ConnectionType } from '../../graphql/pagination';
import { DirectoryRefInput } from '../catalogue/directory.types';
import { SubscriptionStatus } from './subscription.entity';
import type { SubscriptionCounts } from './subscription-stats.service';

registerEnumType(SubscriptionStatus, {
  name: 'SubscriptionStatus',
  description: 'State of a subscription request (订阅申请); docs/api.md has the state diagram.',
  valuesConfig: {
    PENDING: { description: "Waiting for the provider's decision (conditional share)." },
    GRANTED: { description: 'Granted: the requester may use the directory.' },
    REJECTED: { description: 'Rejected by the provider, with a reason.' },
    REVOKED: { description: 'Granted, then revoked by the provider.' },
    CANCELLED: { description: 'Withdrawn by the requester.' },
    LAPSED: { description: 'Granted, and its end date has passed (China Standard Time).' },
  },
});

@ObjectType('SubscriptionRequest', { implements: Node, description: 'Department B asks to use a directory of department A (订阅申请).' })
export class SubscriptionRequestType extends Node {
  @Field({ description: 'What the data will be used for (用途).' })
  purpose!: string;

  @Field(() => GraphQLLocalDate, { nullable: true, description: 'Last day of use, inclusive; null for no end.' })
  endDate?: string | null;

  @Field(() => GraphQLISODateTime, { description: 'When it was filed.' })
  createdAt!: Date;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When it was granted or rejected.' })
  decidedAt?: Date | null;

  @Field(() => String, { nullable: true, description: 'Reason given with a rejection or revocation, or a note with an approval.' })
  decisionReason?: string | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When it was revoked or cancelled.' })
  endedAt?: Date | null;

  @Field({ description: 'Actor id of who filed it.' })
  requestedBy!: string;

  @Field(() => [String], { nullable: true, description: 'Information items the grant is restricted to (conditional sharing); null for every item.' })
  grantedItems?: string[] | null;
}

export const SubscriptionRequestConnection = ConnectionType(SubscriptionRequestType, 'SubscriptionRequest', 'subscription request');

@ObjectType('SubscriptionStats', {
  simpleResolvers: true,
  description: 'Subscription figures of a department or region (资源使用情况); a region sums every department below it.',
})
export class SubscriptionStatsType implements SubscriptionCounts {
  constructor(counts: SubscriptionCounts) {
    Object.assign(this, counts);
  }

  @Field(() => Int, { description: "Granted, live subscriptions the unit made to others' directories (订阅量)." })
  made!: number;

  @Field(() => Int, { description: "Granted, live subscriptions to the unit's directories (被订阅量)." })
  received!: number;

  @Field(() => Int, { description: "Requests waiting for the unit's decision as provider." })
  pending!: number;
}

@InputType({ description: 'A subscription request.' })
export class RequestSubscriptionInput {
  @Field(() => DirectoryRefInput, { description: 'The published directory of another department.' })
  directory!: DirectoryRefInput;

  @Field(() => String, { nullable: true, description: "Credit code of the requesting department; defaults to the steward's own. Administrators must give it." })
  @IsOptional()
  requesterCreditCode?: string | null;

  @Field({ description: 'What the data will be used for (用途).' })
  @Length(1, 2000, { message: 'must be 1 to 2000 characters' })
  purpose!: string;

  @Field(() => GraphQLLocalDate, { nullable: true, description: 'Last day of use, inclusive; omit for no end.' })
  @IsOptional()
  endDate?: string | null;
}

@InputType({ description: "A provider's decision on a subscription request." })
export class SubscriptionDecisionInput {
  @Field(() => ID, { description: 'The subscription request.' })
  id!: string;

  @Field(() => String, { nullable: true, description: 'Reason: required to reject; optional to approve or revoke.' })
  @IsOptional()
  @MaxLength(2000)
  reason?: string | null;

  @Field(() => [String], {
    nullable: true,
    description: 'On approval of a conditional share: the information items granted (by name); the subscriber receives only these. Omit to grant every item.',
  })
  @IsOptional()
  @ArrayMaxSize(1000)
  grantedItems?: string[] | null;
}

@InputType({ description: 'A subscription request to cancel.' })
export class CancelSubscriptionInput {
  @Field(() => ID, { description: 'The subscription request.' })
  id!: string;
}
