import { Arg, Authorized, Ctx, Field, GraphQLISODateTime, ID, ObjectType, Resolver, Root, Subscription } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { numericIdOf } from '../../graphql/global-id';
import { clearLoaders } from '../../graphql/mutation-loaders';
import type { RegionRow } from '../regions/region.row';
import { RegionType } from '../regions/region.types';
import type { SubscriptionRequest } from '../subscriptions/subscription.entity';
import { SubscriptionRequestType } from '../subscriptions/subscription.types';
import { liveService } from './live.service';
import type { FiguresPush, RequestEventMessage } from './live-updates';
import { NotificationEventType } from './notification-event';

@ObjectType('SubscriptionRequestEvent', { description: 'Something happened to a subscription request (subscriptionEvents).' })
export class SubscriptionRequestEventType {
  @Field(() => ID, { description: 'The event id, as webhooks receive it (Mulu-Event-Id).' })
  id!: string;

  @Field(() => NotificationEventType, { description: 'What happened.' })
  type!: NotificationEventType;

  @Field(() => GraphQLISODateTime, { description: 'When it happened.' })
  occurredAt!: Date;

  @Field(() => SubscriptionRequestType, { description: 'The request, as it stands now.' })
  subscriptionRequest!: SubscriptionRequest;
}

/**
 * Each pushed event is resolved with fresh data: the loaders and the identity
 * map of a subscription's context would otherwise answer every push with
 * what they read for the first one.
 */
function freshen(ctx: MuluContext): void {
  ctx.em.clear();
  clearLoaders(ctx.loaders);
}

@Resolver()
export class LiveUpdatesResolver {
  @Authorized()
  @Subscription(() => RegionType, {
    description:
      'Pushes the region each time its figures change (records, mounts, directories, subscriptions anywhere below it), at most once a second; select the statistics to receive. Over graphql-ws on /graphql (docs/notifications.md).',
    subscribe: ({ args, context }) => liveService.figuresChanged(context as MuluContext, (args as { regionCode: string }).regionCode),
  })
  async figuresChanged(
    @Root() push: FiguresPush,
    @Arg('regionCode', { description: '6-digit code of the region to watch.' }) _regionCode: string,
    @Ctx() ctx: MuluContext,
  ): Promise<RegionRow> {
    freshen(ctx);
    // The region's row, read once for all its subscribers (FiguresPush).
    return (await push.shared(() => ctx.loaders.regionByCode.load(push.regionCode)))!;
  }

  @Authorized()
  @Subscription(() => SubscriptionRequestEventType, {
    description:
      "Pushes each event of the department's subscription requests, as provider or requester: requested, approved, rejected, revoked, cancelled, lapsing soon, lapsed. For a steward of that department or an administrator.",
    subscribe: ({ args, context }) => liveService.subscriptionEvents(context as MuluContext, (args as { departmentCreditCode: string }).departmentCreditCode),
  })
  async subscriptionEvents(
    @Root() event: RequestEventMessage,
    @Arg('departmentCreditCode', { description: 'Credit code of the department.' }) _departmentCreditCode: string,
    @Ctx() ctx: MuluContext,
  ): Promise<SubscriptionRequestEventType> {
    freshen(ctx);
    const requestId = numericIdOf(String(event.data.subscriptionRequest?.id), 'SubscriptionRequest');
    return {
      id: String(event.id),
      type: event.type,
      occurredAt: new Date(event.occurredAt),
      subscriptionRequest: (await ctx.loaders.subscriptionRequestById.load(requestId))!,
    };
  }
}
