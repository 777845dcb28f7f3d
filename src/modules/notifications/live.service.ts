import { forbidden, notFound } from '../../core/errors';
import type { RequestContext } from '../../core/request-context';
import { identifierCode } from '../../core/text';
import { requireViewer } from '../../core/permissions';
import { Role } from '../../core/viewer';
import { departmentService } from '../departments/department.service';
import { Region } from '../regions/region.entity';
import type { FiguresPush, LiveUpdates, RequestEventMessage } from './live-updates';

interface LiveContext extends RequestContext {
  live?: LiveUpdates;
}

function requireLive(ctx: LiveContext): LiveUpdates {
  // Only operations over the WebSocket have streams; graphql-ws is the only transport for subscriptions.
  if (!ctx.live) throw forbidden('Subscriptions are served over WebSocket (the graphql-ws protocol) on /graphql, not over HTTP POST.');
  return ctx.live;
}

/** Who may listen to what: the same rules as the queries that read the same data. */
export const liveService = {
  /** Any signed-in caller may read a region's figures, so may watch them. */
  async figuresChanged(ctx: LiveContext, regionCode: string): Promise<AsyncIterableIterator<FiguresPush>> {
    requireViewer(ctx);
    const live = requireLive(ctx);
    const region = await ctx.em.findOne(Region, { code: regionCode.trim() });
    if (!region) throw notFound(`There is no region with code ${regionCode}.`);
    return live.figuresOf(region.code);
  },

  /** A department's request events: for its stewards and for administrators. */
  async subscriptionEvents(ctx: LiveContext, departmentCreditCode: string): Promise<AsyncIterableIterator<RequestEventMessage>> {
    const viewer = requireViewer(ctx);
    const live = requireLive(ctx);
    const department = await departmentService.findByCreditCode(ctx, identifierCode(departmentCreditCode));
    if (!department) throw notFound(`No department has the credit code ${departmentCreditCode}.`);
    if (viewer.role !== Role.ADMIN && !(viewer.role === Role.STEWARD && viewer.departmentCreditCode === department.creditCode)) {
      throw forbidden(`Only a steward of ${department.name} (${department.creditCode}) or an administrator may follow its subscription requests.`);
    }
    return live.requestEvents(department.creditCode);
  },
};
