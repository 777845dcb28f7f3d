import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { MuluContext } from './context';
import { fromGlobalId, rowIdOfKey } from './global-id';
import { Node } from './node';

@Resolver()
export class NodeResolver {
  @Query(() => Node, {
    nullable: true,
    description:
      'Any object by its global ID; null when it does not exist, including a well-formed ID whose number no object can have (above 2147483647). An ID that is not a global ID at all is BAD_USER_INPUT.',
  })
  async node(@Arg('id', () => ID, { description: 'A global ID.' }) id: string, @Ctx() ctx: MuluContext): Promise<unknown> {
    const { type, key } = fromGlobalId(id);
    // Out of range is "no such object", like any other id without a row: never sent to PostgreSQL.
    const rowId = rowIdOfKey(key);
    switch (type) {
      case 'Region':
        return ctx.loaders.regionByCode.load(key);
      case 'Department':
        return rowId === null ? null : ctx.loaders.departmentById.load(rowId);
      case 'ResourceDirectory':
        return rowId === null ? null : ctx.loaders.directoryById.load(rowId);
      case 'Mount':
        return rowId === null ? null : ctx.loaders.mountById.load(rowId);
      case 'SubscriptionRequest':
        return rowId === null ? null : ctx.loaders.subscriptionRequestById.load(rowId);
      case 'ApiKey':
      case 'Webhook':
      case 'WebhookDelivery':
        return null; // not Nodes: API keys and webhooks are listed by `apiKeys` and `webhooks`, for those who manage them
    }
  }
}
