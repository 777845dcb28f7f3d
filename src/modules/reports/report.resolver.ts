import { Arg, Args, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Department } from '../departments/department.entity';
import { DepartmentType } from '../departments/department.types';
import { badInput } from '../../core/errors';
import { ReportUnitKind } from './report-snapshot.entity';
import type { MuluContext } from '../../graphql/context';
import { Role } from '../../core/viewer';
import type { Region } from '../regions/region.entity';
import { RegionType } from '../regions/region.types';
import {
  CaptureSnapshotInput,
  RegionReportType,
  ReportArgs,
  ReportBelowThresholdType,
  ReportMonthType,
  ReportSnapshotType,
  ReportUnitType,
} from './report.types';
import { snapshotService } from './snapshot.service';

@Resolver(() => ReportSnapshotType)
export class ReportSnapshotResolver {
  @Authorized(Role.ADMIN)
  @Mutation(() => ReportSnapshotType, {
    nullable: true,
    description: "Captures every department's and region's figures for a month (admins). A month is captured once; `replace: true` captures it again, audited.",
  })
  captureSnapshot(
    @Arg('input', () => CaptureSnapshotInput, { description: 'The month.' }) input: CaptureSnapshotInput,
    @Ctx() ctx: MuluContext,
  ): Promise<ReportSnapshotType> {
    return snapshotService.capture(ctx, input);
  }

  @Query(() => [ReportSnapshotType], { description: 'Every captured month, newest first.' })
  reportSnapshots(@Ctx() ctx: MuluContext): Promise<ReportSnapshotType[]> {
    return snapshotService.list(ctx);
  }
}

@Resolver(() => RegionType)
export class RegionReportResolver {
  @FieldResolver(() => RegionReportType, {
    description:
      'The monthly report (通报) of this region: figures of a month for the region, every department below it and every child region, the change since the compared month, ranks, and units below a threshold.',
  })
  async report(@Root() region: Region, @Args(() => ReportArgs) args: ReportArgs, @Ctx() ctx: MuluContext): Promise<RegionReportType> {
    return new RegionReportType(
      await ctx.loaders.regionReport.load({ region, options: { period: args.period, comparedTo: args.comparedTo, threshold: args.threshold } }),
    );
  }
}

/** A checked `first` argument: how many rows, or undefined for all of them. */
const firstRows = (first: number | null | undefined): number | undefined => {
  if (first == null) return undefined;
  if (!Number.isInteger(first) || first < 1) throw badInput(`"first" must be at least 1, got ${first}.`);
  return first;
};

@Resolver(() => RegionReportType)
export class RegionReportTablesResolver {
  @FieldResolver(() => [ReportUnitType], {
    description:
      'The departments in the order of appendix 4 (附件4, resources): mount rate, then published directories, then data volume, each highest first, then name; units without a rate last. The order of the resources export.',
  })
  appendix4(
    @Root() report: RegionReportType,
    @Arg('first', () => Int, { nullable: true, description: 'Only the first rows (all when omitted).' }) first?: number | null,
  ): ReportUnitType[] {
    return report.inReportOrder('resources', firstRows(first));
  }

  @FieldResolver(() => [ReportUnitType], {
    description:
      'The departments in the order of appendix 5 (附件5, supervision): main-item coverage rate, then sub-item coverage rate, then number of main items, each highest first, then name; units without a rate last. The order of the supervision export.',
  })
  appendix5(
    @Root() report: RegionReportType,
    @Arg('first', () => Int, { nullable: true, description: 'Only the first rows (all when omitted).' }) first?: number | null,
  ): ReportUnitType[] {
    return report.inReportOrder('supervision', firstRows(first));
  }
}

@Resolver(() => ReportBelowThresholdType)
export class ReportBelowThresholdResolver {
  @FieldResolver(() => [ReportUnitType], { description: 'Departments below the threshold, lowest rate first, ties by name.' })
  departments(
    @Root() below: ReportBelowThresholdType,
    @Arg('first', () => Int, { nullable: true, description: 'Only the first departments (all when omitted): a province has thousands below a threshold.' })
    first?: number | null,
  ): ReportUnitType[] {
    return below.belowDepartments.slice(0, firstRows(first)).map((u) => new ReportUnitType(u));
  }

  @FieldResolver(() => Int, { description: 'How many departments are below the threshold (all of them, whatever `departments(first)` returns).' })
  departmentCount(@Root() below: ReportBelowThresholdType): number {
    return below.belowDepartments.length;
  }
}

@Resolver(() => RegionType)
export class RegionMonthsResolver {
  @FieldResolver(() => [ReportMonthType], { description: "The region's figures in every captured month, oldest first (a chart of its rates over time)." })
  async monthlyFigures(@Root() region: Region, @Ctx() ctx: MuluContext): Promise<ReportMonthType[]> {
    return ctx.loaders.monthlyFigures.load({ kind: ReportUnitKind.REGION, key: region.code });
  }
}

@Resolver(() => DepartmentType)
export class DepartmentMonthsResolver {
  @FieldResolver(() => [ReportMonthType], { description: "The department's figures in every captured month, oldest first." })
  async monthlyFigures(@Root() department: Department, @Ctx() ctx: MuluContext): Promise<ReportMonthType[]> {
    return ctx.loaders.monthlyFigures.load({ kind: ReportUnitKind.DEPARTMENT, key: department.creditCode });
  }
}
