import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { Role } from '../auth/viewer';
import type { Region } from '../regions/region.entity';
import { RegionType } from '../regions/region.types';
import { CaptureSnapshotInput, RegionReportType, ReportArgs, ReportSnapshotType } from './report.types';
import { snapshotService } from './snapshot.service';

@Resolver(() => ReportSnapshotType)
export class ReportSnapshotResolver {
  @Authorized(Role.ADMIN)
  @Mutation(() => ReportSnapshotType, { nullable: true, description: "Captures every department's and region's figures for a month (admins). A month is captured once; `replace: true` captures it again, audited." })
  captureSnapshot(@Arg('input', () => CaptureSnapshotInput, { description: 'The month.' }) input: CaptureSnapshotInput, @Ctx() ctx: MuluContext): Promise<ReportSnapshotType> {
    return snapshotService.capture(ctx, input);
  }

  @Query(() => [ReportSnapshotType], { description: 'Every captured month, newest first.' })
  reportSnapshots(@Ctx() ctx: MuluContext): Promise<ReportSnapshotType[]> {
    return snapshotService.list(ctx);
  }
}

@Resolver(() => RegionType)
export class RegionReportResolver {
  @FieldResolver(() => RegionReportType, { description: 'The monthly report (通报) of this region: figures of a month for the region, every department below it and every child region, the change since the compared month, ranks, and units below a threshold.' })
  async report(@Root() region: Region, @Args(() => ReportArgs) args: ReportArgs, @Ctx() ctx: MuluContext): Promise<RegionReportType> {
    return new RegionReportType(await ctx.loaders.regionReport.load({ region, options: { period: args.period, comparedTo: args.comparedTo, threshold: args.threshold } }));
  }
}
