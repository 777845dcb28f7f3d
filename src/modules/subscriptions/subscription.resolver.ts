import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { numericIdOf, toGlobalId } from '../../graphql/global-id';
import { pageRequest, toConnection } from '../../graphql/pagination';
import { badInput, notFound } from '../../core/errors';
import { requireRequestReader } from '../../core/permissions';
import { Role } from '../../core/viewer';
import type { ResourceDirectory } from '../catalogue/directory.entity';
import { ResourceDirectoryType, toDirectoryRef } from '../catalogue/directory.types';
import type { DepartmentRow } from '../departments/department.row';
import { departmentService } from '../departments/department.service';
import { DepartmentType } from '../departments/department.types';
import { RegionType } from '../regions/region.types';
import { SubscriptionRequest, SubscriptionStatus } from './subscription.entity';
import { subscriptionService } from './subscription.service';
import { effectiveStatus } from './subscription.state-machine';
import {
  CancelSubscriptionInput,
  RequestSubscriptionInput,
  SubscriptionDecisionInput,
  SubscriptionRequestConnection,
  SubscriptionRequestType,
  SubscriptionStatsType,
} from './subscription.types';
import type { RegionRow } from '../regions/region.row';

const MAX_SUBSCRIPTION_PAGE = 100;

@ArgsType()
class SubscriptionPageArgs {
  @Field(() => SubscriptionStatus, { nullable: true, description: 'Only requests in this state (LAPSED included as it reads).' })
  status?: SubscriptionStatus | null;

  @Field(() => Int, { nullable: true, description: `How many requests (1 to ${MAX_SUBSCRIPTION_PAGE}, default 20).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts.' })
  after?: string | null;
}

@ArgsType()
class SubscriptionQueueArgs {
  @Field(() => String, { nullable: true, description: "Credit code of the providing department; defaults to the steward's own." })
  departmentCreditCode?: string | null;

  @Field(() => Int, { nullable: true, description: `How many requests (1 to ${MAX_SUBSCRIPTION_PAGE}, default 20).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts.' })
  after?: string | null;
}

const decision = (input: SubscriptionDecisionInput) => ({
  id: numericIdOf(input.id, 'SubscriptionRequest'),
  reason: input.reason,
  grantedItems: input.grantedItems,
});

@Resolver(() => SubscriptionRequestType)
export class SubscriptionRequestResolver {
  @Query(() => SubscriptionRequestConnection, { description: "A provider's queue: requests waiting for its decision, oldest first." })
  async subscriptionQueue(@Args(() => SubscriptionQueueArgs) args: SubscriptionQueueArgs, @Ctx() ctx: MuluContext) {
    const code = args.departmentCreditCode ?? ctx.viewer?.departmentCreditCode;
    if (!code) throw badInput('Name the providing department (departmentCreditCode).');
    const department = await departmentService.findByCreditCode(ctx, code);
    if (!department) throw notFound(`No department has the credit code ${code}.`);
    requireRequestReader(ctx, department);
    const page = pageRequest(args.first, args.after, MAX_SUBSCRIPTION_PAGE);
    return toConnection(await ctx.loaders.subscriptionsReceivedBy.load({ parent: department.id, page, filter: { status: SubscriptionStatus.PENDING } }), page);
  }

  @Authorized(Role.ADMIN, Role.STEWARD)
  @Mutation(() => SubscriptionRequestType, {
    nullable: true,
    description:
      'Requests a subscription to a published directory of another department: granted at once when shared unconditionally, pending when conditionally, refused when not shared.',
  })
  requestSubscription(@Arg('input', () => RequestSubscriptionInput, { description: 'The request.' }) input: RequestSubscriptionInput, @Ctx() ctx: MuluContext) {
    return subscriptionService.request(ctx, { ...input, directory: toDirectoryRef(input.directory) });
  }

  @Authorized(Role.ADMIN, Role.STEWARD)
  @Mutation(() => SubscriptionRequestType, { nullable: true, description: 'Grants a pending request (steward of the providing department).' })
  approveSubscriptionRequest(
    @Arg('input', () => SubscriptionDecisionInput, { description: 'The decision.' }) input: SubscriptionDecisionInput,
    @Ctx() ctx: MuluContext,
  ) {
    return subscriptionService.approve(ctx, decision(input));
  }

  @Authorized(Role.ADMIN, Role.STEWARD)
  @Mutation(() => SubscriptionRequestType, { nullable: true, description: 'Rejects a pending request with a reason (steward of the providing department).' })
  rejectSubscriptionRequest(
    @Arg('input', () => SubscriptionDecisionInput, { description: 'The decision; the reason is required.' }) input: SubscriptionDecisionInput,
    @Ctx() ctx: MuluContext,
  ) {
    return subscriptionService.reject(ctx, decision(input));
  }

  @Authorized(Role.ADMIN, Role.STEWARD)
  @Mutation(() => SubscriptionRequestType, { nullable: true, description: 'Revokes a granted subscription (steward of the providing department).' })
  revokeSubscription(
    @Arg('input', () => SubscriptionDecisionInput, { description: 'The subscription and an optional reason.' }) input: SubscriptionDecisionInput,
    @Ctx() ctx: MuluContext,
  ) {
    return subscriptionService.revoke(ctx, decision(input));
  }

  @Authorized(Role.ADMIN, Role.STEWARD)
  @Mutation(() => SubscriptionRequestType, {
    nullable: true,
    description: 'Cancels a pending request or a granted subscription (steward of the requesting department).',
  })
  cancelSubscription(@Arg('input', () => CancelSubscriptionInput, { description: 'The request.' }) input: CancelSubscriptionInput, @Ctx() ctx: MuluContext) {
    return subscriptionService.cancel(ctx, numericIdOf(input.id, 'SubscriptionRequest'));
  }

  @FieldResolver(() => ID, { description: 'Globally unique, opaque ID (for `Query.node`).' })
  id(@Root() request: SubscriptionRequest): string {
    return toGlobalId('SubscriptionRequest', request.id);
  }

  @FieldResolver(() => SubscriptionStatus, { description: 'State; a granted subscription past its end date reads LAPSED.' })
  status(@Root() request: SubscriptionRequest): SubscriptionStatus {
    return effectiveStatus(request);
  }

  @FieldResolver(() => ResourceDirectoryType, { description: 'The directory asked for.' })
  async directory(@Root() request: SubscriptionRequest, @Ctx() ctx: MuluContext): Promise<ResourceDirectory> {
    return (await ctx.loaders.directoryById.load(request.directory.id))!;
  }

  @FieldResolver(() => DepartmentType, { description: 'The department that owns the directory (提供方).' })
  provider(@Root() request: SubscriptionRequest, @Ctx() ctx: MuluContext): Promise<DepartmentRow | null> {
    return ctx.loaders.departmentById.load(request.provider.id);
  }

  @FieldResolver(() => DepartmentType, { description: 'The department that asks (需求方).' })
  requester(@Root() request: SubscriptionRequest, @Ctx() ctx: MuluContext): Promise<DepartmentRow | null> {
    return ctx.loaders.departmentById.load(request.requester.id);
  }
}

@Resolver(() => DepartmentType)
export class DepartmentSubscriptionsResolver {
  @FieldResolver(() => SubscriptionRequestConnection, { description: 'Subscription requests this department made, oldest first.' })
  async subscriptionsMade(@Root() department: DepartmentRow, @Args(() => SubscriptionPageArgs) args: SubscriptionPageArgs, @Ctx() ctx: MuluContext) {
    requireRequestReader(ctx, department);
    const page = pageRequest(args.first, args.after, MAX_SUBSCRIPTION_PAGE);
    return toConnection(await ctx.loaders.subscriptionsMadeBy.load({ parent: department.id, page, filter: { status: args.status ?? null } }), page);
  }

  @FieldResolver(() => SubscriptionRequestConnection, { description: "Subscription requests for this department's directories, oldest first." })
  async subscriptionsReceived(@Root() department: DepartmentRow, @Args(() => SubscriptionPageArgs) args: SubscriptionPageArgs, @Ctx() ctx: MuluContext) {
    requireRequestReader(ctx, department);
    const page = pageRequest(args.first, args.after, MAX_SUBSCRIPTION_PAGE);
    return toConnection(await ctx.loaders.subscriptionsReceivedBy.load({ parent: department.id, page, filter: { status: args.status ?? null } }), page);
  }

  @FieldResolver(() => SubscriptionStatsType, { description: 'Subscriptions made, received and pending (订阅量 / 被订阅量).' })
  subscriptionStats(@Root() department: DepartmentRow, @Ctx() ctx: MuluContext): SubscriptionStatsType | Promise<SubscriptionStatsType> {
    return ctx.loaders.figuresOfDepartment.read(department, (figures) => new SubscriptionStatsType(figures.subscriptions));
  }
}

@Resolver(() => RegionType)
export class RegionSubscriptionsResolver {
  @FieldResolver(() => SubscriptionStatsType, { description: 'Subscription figures summed over every department in this region and all regions below it.' })
  subscriptionStats(@Root() region: RegionRow, @Ctx() ctx: MuluContext): SubscriptionStatsType | Promise<SubscriptionStatsType> {
    return ctx.loaders.figuresOfRegion.read(region, (figures) => new SubscriptionStatsType(figures.subscriptions));
  }
}
