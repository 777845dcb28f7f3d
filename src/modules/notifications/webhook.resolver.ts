import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { numericIdOf, toGlobalId } from '../../graphql/global-id';
import { pageRequest, toConnection } from '../../graphql/pagination';
import { Role } from '../../core/viewer';
import type { NotificationEventType } from './notification-event';
import type { Webhook, WebhookDelivery } from './webhook.entity';
import { webhookService } from './webhook.service';
import {
  CreatedWebhookType,
  CreateWebhookInput,
  NotificationEventObject,
  UpdateWebhookInput,
  WebhookDeliveryConnection,
  WebhookDeliveryType,
  WebhookType,
} from './webhook.types';

const MAX_DELIVERY_PAGE = 100;

@ArgsType()
class DeliveryPageArgs {
  @Field(() => Int, { nullable: true, description: `How many deliveries (1 to ${MAX_DELIVERY_PAGE}, default 20).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts.' })
  after?: string | null;
}

export function toWebhookType(webhook: Webhook): WebhookType {
  return {
    id: toGlobalId('Webhook', webhook.id),
    rowId: webhook.id,
    url: webhook.url,
    departmentCreditCode: webhook.department?.getEntity().creditCode ?? null,
    events: webhook.events as NotificationEventType[],
    active: webhook.active,
    description: webhook.description ?? null,
    createdBy: webhook.createdBy,
    createdAt: webhook.createdAt,
  };
}

function toDeliveryType(delivery: WebhookDelivery): WebhookDeliveryType & { rowId: number } {
  return {
    id: toGlobalId('WebhookDelivery', delivery.id),
    rowId: delivery.id,
    status: delivery.status,
    attempt: delivery.attempt,
    responseCode: delivery.responseCode ?? null,
    durationMs: delivery.durationMs ?? null,
    error: delivery.error ?? null,
    nextAttemptAt: delivery.nextAttemptAt ?? null,
    lastAttemptAt: delivery.lastAttemptAt ?? null,
    deliveredAt: delivery.deliveredAt ?? null,
    eventId: delivery.event.id,
  };
}

@Resolver(() => WebhookType)
export class WebhookResolver {
  @Authorized(Role.ADMIN, Role.STEWARD)
  @Query(() => [WebhookType], {
    description: "Webhooks the caller manages, oldest first: an administrator's all (or one department's), a steward's own department's.",
  })
  async webhooks(
    @Arg('departmentCreditCode', () => String, { nullable: true, description: 'Only the webhooks of this department.' }) departmentCreditCode: string | null,
    @Ctx() ctx: MuluContext,
  ): Promise<WebhookType[]> {
    return (await webhookService.list(ctx, departmentCreditCode)).map(toWebhookType);
  }

  @Authorized(Role.ADMIN, Role.STEWARD)
  @Mutation(() => CreatedWebhookType, {
    nullable: true,
    description: 'Registers a webhook: a steward for their own department, an administrator for any department or for all of them. The secret is shown once.',
  })
  async createWebhook(
    @Arg('input', () => CreateWebhookInput, { description: 'The webhook.' }) input: CreateWebhookInput,
    @Ctx() ctx: MuluContext,
  ): Promise<CreatedWebhookType> {
    const { webhook, secret } = await webhookService.create(ctx, input);
    return { webhook: toWebhookType(webhook), secret };
  }

  @Authorized(Role.ADMIN, Role.STEWARD)
  @Mutation(() => WebhookType, { nullable: true, description: 'Changes a webhook (its URL, events, secret, or pauses it).' })
  async updateWebhook(
    @Arg('input', () => UpdateWebhookInput, { description: 'The changes.' }) input: UpdateWebhookInput,
    @Ctx() ctx: MuluContext,
  ): Promise<WebhookType> {
    return toWebhookType(await webhookService.update(ctx, { ...input, id: numericIdOf(input.id, 'Webhook') }));
  }

  @Authorized(Role.ADMIN, Role.STEWARD)
  @Mutation(() => WebhookType, { nullable: true, description: 'Deletes a webhook with its delivery history; events not sent yet are dropped.' })
  async deleteWebhook(@Arg('id', () => ID, { description: 'The webhook.' }) id: string, @Ctx() ctx: MuluContext): Promise<WebhookType> {
    return toWebhookType(await webhookService.delete(ctx, numericIdOf(id, 'Webhook')));
  }

  @Authorized(Role.ADMIN, Role.STEWARD)
  @Mutation(() => WebhookDeliveryType, { nullable: true, description: 'Queues a WEBHOOK_TEST event to this webhook; follow it in `deliveries`.' })
  async testWebhook(@Arg('id', () => ID, { description: 'The webhook.' }) id: string, @Ctx() ctx: MuluContext): Promise<WebhookDeliveryType> {
    return toDeliveryType(await webhookService.test(ctx, numericIdOf(id, 'Webhook')));
  }

  @FieldResolver(() => WebhookDeliveryConnection, {
    description: 'Deliveries to this webhook, oldest first: event, attempts, status, response code, duration, next retry.',
  })
  async deliveries(@Root() webhook: WebhookType, @Args(() => DeliveryPageArgs) args: DeliveryPageArgs, @Ctx() ctx: MuluContext) {
    const page = pageRequest(args.first, args.after, MAX_DELIVERY_PAGE);
    const connection = toConnection(await ctx.loaders.deliveriesOfWebhook.load({ parent: webhook.rowId, page, filter: null }), page);
    return { ...connection, edges: connection.edges.map((edge) => ({ cursor: edge.cursor, node: toDeliveryType(edge.node) })) };
  }
}

@Resolver(() => WebhookDeliveryType)
export class WebhookDeliveryResolver {
  @FieldResolver(() => NotificationEventObject, { description: 'The event delivered.' })
  async event(@Root() delivery: WebhookDeliveryType, @Ctx() ctx: MuluContext): Promise<NotificationEventObject> {
    const event = (await ctx.loaders.notificationEventById.load(delivery.eventId))!;
    return {
      id: String(event.id),
      type: event.type as NotificationEventType,
      occurredAt: event.occurredAt,
      departmentCreditCodes: event.departmentCodes,
      data: JSON.stringify(event.payload),
    };
  }
}
