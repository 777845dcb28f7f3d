import { ArrayMaxSize, IsOptional, Length } from 'class-validator';
import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionType } from '../../graphql/pagination';
import { NotificationEventType } from './notification-event';
import { DeliveryStatus } from './webhook.entity';

registerEnumType(NotificationEventType, {
  name: 'NotificationEventType',
  description: 'An event Mulu notifies webhooks of (docs/notifications.md lists the data of each).',
  valuesConfig: {
    SUBSCRIPTION_REQUESTED: { description: 'A department requested a directory (status GRANTED at once for an unconditional share, else PENDING).' },
    SUBSCRIPTION_APPROVED: { description: 'The provider granted a pending request.' },
    SUBSCRIPTION_REJECTED: { description: 'The provider rejected a pending request.' },
    SUBSCRIPTION_REVOKED: { description: 'The provider revoked a granted subscription.' },
    SUBSCRIPTION_CANCELLED: { description: 'The requester cancelled a request or subscription.' },
    SUBSCRIPTION_LAPSING_SOON: { description: 'A granted subscription ends within 7 days.' },
    SUBSCRIPTION_LAPSED: { description: "A granted subscription's end date has passed." },
    DIRECTORY_PUBLISHED: { description: 'A directory was published.' },
    DIRECTORY_WITHDRAWN: { description: 'A directory was withdrawn.' },
    MOUNT_STALE: { description: "A published directory's mounted data was not refreshed within its update cycle." },
    DATASET_ROWS_LOADED: { description: 'Rows were loaded into a dataset the platform holds (provider and granted consumers).' },
    RATE_FELL_BELOW_THRESHOLD: { description: "After a snapshot capture: a unit's rate is below the threshold, and was not the month before." },
    RATE_ROSE_ABOVE_THRESHOLD: { description: "After a snapshot capture: a unit's rate reached the threshold, and was below it the month before." },
    SNAPSHOT_CAPTURED: { description: "A month's snapshot was captured (administrators' webhooks for every department only)." },
    WEBHOOK_TEST: { description: 'Sent by testWebhook, to that webhook only.' },
  },
});

registerEnumType(DeliveryStatus, {
  name: 'WebhookDeliveryStatus',
  description: 'Where a webhook delivery stands.',
  valuesConfig: {
    PENDING: { description: 'Not sent yet, or failed and waiting for its next attempt (nextAttemptAt).' },
    SUCCEEDED: { description: 'The receiver answered 2xx.' },
    FAILED: { description: 'Every attempt failed; it is not tried again.' },
  },
});

@ObjectType('Webhook', { description: 'A receiver Mulu POSTs signed events to (docs/notifications.md).' })
export class WebhookType {
  @Field(() => ID, { description: 'Global ID; pass it to updateWebhook, deleteWebhook and testWebhook.' })
  id!: string;

  @Field({ description: 'Where events are POSTed.' })
  url!: string;

  @Field(() => String, { nullable: true, description: 'Credit code of the department whose events it receives; null: every department (administrators only).' })
  departmentCreditCode!: string | null;

  @Field(() => [NotificationEventType], { description: 'The events it receives.' })
  events!: NotificationEventType[];

  @Field({ description: 'False while paused: its events wait and are sent once it is active again.' })
  active!: boolean;

  @Field(() => String, { nullable: true, description: 'What it is for.' })
  description!: string | null;

  @Field({ description: 'Actor id of who registered it.' })
  createdBy!: string;

  @Field(() => GraphQLISODateTime, { description: 'When it was registered.' })
  createdAt!: Date;

  /** Database id, for the deliveries loader. */
  rowId!: number;
}

@ObjectType('NotificationEvent', { description: 'One event as webhooks receive it.' })
export class NotificationEventObject {
  @Field(() => ID, { description: 'The event id (header Mulu-Event-Id); receivers deduplicate on it.' })
  id!: string;

  @Field(() => NotificationEventType, { description: 'What happened.' })
  type!: NotificationEventType;

  @Field(() => GraphQLISODateTime, { description: 'When it happened.' })
  occurredAt!: Date;

  @Field(() => [String], { description: 'Credit codes of the departments it concerns; empty for platform events.' })
  departmentCreditCodes!: string[];

  @Field({ description: 'The `data` of the POST body, as JSON text.' })
  data!: string;
}

@ObjectType('WebhookDelivery', { description: 'One event sent (or to send) to one webhook, with its last attempt.' })
export class WebhookDeliveryType {
  @Field(() => ID, { description: 'Global ID.' })
  id!: string;

  @Field(() => DeliveryStatus, { description: 'Pending, succeeded or failed.' })
  status!: DeliveryStatus;

  @Field(() => Int, { description: 'Attempts made so far (1 = the first).' })
  attempt!: number;

  @Field(() => Int, { nullable: true, description: 'HTTP status of the last attempt; null when no answer came (refused, timed out) or none was made.' })
  responseCode!: number | null;

  @Field(() => Int, { nullable: true, description: 'How long the last attempt took, in milliseconds.' })
  durationMs!: number | null;

  @Field(() => String, { nullable: true, description: 'Why the last attempt failed.' })
  error!: string | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When the next attempt is due; null once it succeeded or failed.' })
  nextAttemptAt!: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When the last attempt was made.' })
  lastAttemptAt!: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When the receiver accepted it.' })
  deliveredAt!: Date | null;

  /** Database id of the event, for the event loader. */
  eventId!: number;
}

export const WebhookDeliveryConnection = ConnectionType(WebhookDeliveryType, 'WebhookDelivery', 'webhook delivery');

@ObjectType('CreatedWebhook', { description: 'A new webhook and its signing secret.' })
export class CreatedWebhookType {
  @Field(() => WebhookType, { description: 'The webhook.' })
  webhook!: WebhookType;

  @Field({ description: 'The HMAC-SHA256 key of the Mulu-Signature header. Shown once; updateWebhook can set a new one.' })
  secret!: string;
}

@InputType({ description: 'A new webhook.' })
export class CreateWebhookInput {
  @Field(() => String, {
    nullable: true,
    description:
      "Credit code of the department whose events it receives; a steward's own when absent. An administrator leaves it out to receive every department's events.",
  })
  @IsOptional()
  departmentCreditCode?: string | null;

  @Field({ description: 'http(s) URL of the receiver; loopback and private addresses are refused unless the platform allows them.' })
  @Length(1, 2000)
  url!: string;

  @Field(() => [NotificationEventType], { description: 'The events it receives.' })
  @ArrayMaxSize(50)
  events!: NotificationEventType[];

  @Field(() => String, {
    nullable: true,
    description: 'Signing secret (16 to 200 characters, no spaces, at least 8 different characters); generated when absent.',
  })
  @IsOptional()
  secret?: string | null;

  @Field(() => String, { nullable: true, description: 'What it is for.' })
  @IsOptional()
  @Length(0, 500)
  description?: string | null;
}

@InputType({ description: 'Changes to a webhook; absent fields stay as they are.' })
export class UpdateWebhookInput {
  @Field(() => ID, { description: 'The webhook.' })
  id!: string;

  @Field(() => String, { nullable: true, description: 'New URL.' })
  @IsOptional()
  @Length(1, 2000)
  url?: string | null;

  @Field(() => [NotificationEventType], { nullable: true, description: 'New list of events.' })
  @IsOptional()
  @ArrayMaxSize(50)
  events?: NotificationEventType[] | null;

  @Field(() => String, { nullable: true, description: 'New signing secret (16 to 200 characters, no spaces, at least 8 different characters).' })
  @IsOptional()
  secret?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Pause (false) or resume (true).' })
  @IsOptional()
  active?: boolean | null;

  @Field(() => String, { nullable: true, description: 'New description.' })
  @IsOptional()
  @Length(0, 500)
  description?: string | null;
}
