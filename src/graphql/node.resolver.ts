import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { MuluContext } from './context';
import { fromGlobalId, rowIdOfKey } from './global-id';
import { Node } from './node';
import { canReadDraftsOf, canReadRequestsOf } from '../core/permissions';
import { DirectoryStatus, type ResourceDirectory } from '../modules/catalogue/directory.entity';
import type { DepartmentRow } from '../modules/departments/department.row';

/**
 * Whether the caller may read this directory (and its mounts): a draft is
 * its department's, answered null to anyone else as for an id without a
 * row (canReadDraftsOf). Its department is read only for a draft.
 */
async function readable(ctx: MuluContext, directory: ResourceDirectory): Promise<boolean> {
  if (directory.status !== DirectoryStatus.DRAFT) return true;
  const department = await ctx.loaders.departmentById.load(directory.department.id);
  return department !== null && canReadDraftsOf(ctx.viewer, department.creditCode);
}

@Resolver()
export class NodeResolver {
  @Query(() => Node, {
    nullable: true,
    description:
      "Any object by its global ID; null when it does not exist or the caller may not read it (another department's subscription request), including a well-formed ID whose number no object can have (above 2147483647). An ID that is not a global ID at all is BAD_USER_INPUT.",
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
      case 'ResourceDirectory': {
        const directory = rowId === null ? null : await ctx.loaders.directoryById.load(rowId);
        return directory && (await readable(ctx, directory)) ? directory : null;
      }
      case 'Mount': {
        const mount = rowId === null ? null : await ctx.loaders.mountById.load(rowId);
        const directory = mount && (await ctx.loaders.directoryById.load(mount.directoryId));
        return directory && (await readable(ctx, directory)) ? mount : null;
      }
      case 'SubscriptionRequest': {
        const request = rowId === null ? null : await ctx.loaders.subscriptionRequestById.load(rowId);
        if (!request) return null;
        // As the departments' lists of requests: for the stewards of either department and administrators.
        const [provider, requester] = await ctx.loaders.departmentById.loadMany([request.provider.id, request.requester.id]);
        const parties = [provider, requester].filter((d): d is DepartmentRow => d !== null && !(d instanceof Error));
        // Anyone else is answered as for an id without a row: a refusal would tell them the request exists
        // (ids count up, so trying them in turn would count every department's requests).
        return parties.some((department) => canReadRequestsOf(ctx.viewer, department.creditCode)) ? request : null;
      }
      case 'ApiKey':
      case 'Webhook':
      case 'WebhookDelivery':
        return null; // not Nodes: API keys and webhooks are listed by `apiKeys` and `webhooks`, for those who manage them
    }
  }
}
