import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { MuluContext } from './context';
import { fromGlobalId } from './global-id';
import { Node } from './node';

@Resolver()
export class NodeResolver {
  @Query(() => Node, { nullable: true, description: 'Any object by its global ID; null when it does not exist.' })
  async node(@Arg('id', () => ID, { description: 'A global ID.' }) id: string, @Ctx() ctx: MuluContext): Promise<unknown> {
    const { type, key } = fromGlobalId(id);
    const numeric = Number(key);
    switch (type) {
      case 'Region':
        return ctx.loaders.regionByCode.load(key);
      case 'Department':
        return Number.isSafeInteger(numeric) ? ctx.loaders.departmentById.load(numeric) : null;
      case 'ResourceDirectory':
        return Number.isSafeInteger(numeric) ? ctx.loaders.directoryById.load(numeric) : null;
      case 'Mount':
        return Number.isSafeInteger(numeric) ? ctx.loaders.mountById.load(numeric) : null;
      case 'SubscriptionRequest':
        return Number.isSafeInteger(numeric) ? ctx.loaders.subscriptionRequestById.load(numeric) : null;
      case 'ApiKey':
        return null; // not a Node: API keys are listed by `apiKeys`, for administrators only
    }
  }
}
