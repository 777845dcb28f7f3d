import { Arg, Args, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { DepartmentType } from '../departments/department.types';
import { badInput } from '../../core/errors';
import { ReportUnitKind } from './report-snapshot.entity';
import type { MuluContext } from '../../graphql/context';
import { Role } from '../../core/viewer';
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
import { rankedList, type DepartmentList } from './report-departments.service';
import { RankingMetric } from '../stats/ranking.service';
import type { RegionRow } from '../regions/region.row';
import type { DepartmentRow } from '../departments/department.row';

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
  async report(@Root() region: RegionRow, @Args(() => ReportArgs) args: ReportArgs, @Ctx() ctx: MuluContext): Promise<RegionReportType> {
    const options = { period: args.period, comparedTo: args.comparedTo, threshold: args.threshold };
    // Only where it comes from is awaited here: its lists of departments are then asked for beside its regions' figures.
    return new RegionReportType({ region, options }, await ctx.loaders.reportSources.load(options));
  }
}

/** A checked `first` argument: how many rows, or undefined for all of them. */
const firstRows = (first: number | null | undefined): number | undefined => {
  if (first == null) return undefined;
  if (!Number.isInteger(first) || first < 1) throw badInput(`"first" must be at least 1, got ${first}.`);
  return first;
};

/** A page of a report's department list, through the request's loader (one statement for every list asked). */
async function departmentsOf(
  ctx: MuluContext,
  report: { regionCode: string; departmentsSource: RegionReportType['departmentsSource'] },
  list: DepartmentList,
  first: number | null,
) {
  return ctx.loaders.reportDepartments.load({ regionCode: report.regionCode, from: report.departmentsSource, list, first });
}

const unitTypes = (page: { units: ConstructorParameters<typeof ReportUnitType>[0][] }) => page.units.map((u) => new ReportUnitType(u));

@Resolver(() => RegionReportType)
export class RegionReportTablesResolver {
  @FieldResolver(() => ReportUnitType, { description: 'The region itself: the sums of every department below it.' })
  async region(@Root() report: RegionReportType, @Ctx() ctx: MuluContext): Promise<ReportUnitType> {
    return new ReportUnitType((await ctx.loaders.regionReport.load(report.key)).region);
  }

  @FieldResolver(() => [ReportUnitType], { description: 'The regions directly below, by code; ranked among each other.' })
  async childRegions(@Root() report: RegionReportType, @Ctx() ctx: MuluContext): Promise<ReportUnitType[]> {
    return (await ctx.loaders.regionReport.load(report.key)).childRegions.map((u) => new ReportUnitType(u));
  }

  @FieldResolver(() => [ReportUnitType], { description: 'Every department in the region and in the regions below it, by name; ranked among each other.' })
  async departments(@Root() report: RegionReportType, @Ctx() ctx: MuluContext): Promise<ReportUnitType[]> {
    return unitTypes(await departmentsOf(ctx, report, 'BY_NAME', null));
  }

  @FieldResolver(() => [ReportUnitType], {
    description:
      'The departments in the order of appendix 4 (附件4, resources): mount rate, then published directories, then data volume, each highest first, then name; units without a rate last. The order of the resources export.',
  })
  async appendix4(
    @Root() report: RegionReportType,
    @Ctx() ctx: MuluContext,
    @Arg('first', () => Int, { nullable: true, description: 'Only the first rows (all when omitted).' }) first?: number | null,
  ): Promise<ReportUnitType[]> {
    return unitTypes(await departmentsOf(ctx, report, 'RESOURCES', firstRows(first) ?? null));
  }

  @FieldResolver(() => [ReportUnitType], {
    description:
      'The departments in the order of appendix 5 (附件5, supervision): main-item coverage rate, then sub-item coverage rate, then number of main items, each highest first, then name; units without a rate last. The order of the supervision export.',
  })
  async appendix5(
    @Root() report: RegionReportType,
    @Ctx() ctx: MuluContext,
    @Arg('first', () => Int, { nullable: true, description: 'Only the first rows (all when omitted).' }) first?: number | null,
  ): Promise<ReportUnitType[]> {
    return unitTypes(await departmentsOf(ctx, report, 'SUPERVISION', firstRows(first) ?? null));
  }

  @FieldResolver(() => [ReportUnitType], {
    description:
      "The departments in the order of their rank by one rate (each unit's `ranks`): highest first, ties by name; units without that rate (nothing to count) last, by name. A ranking of the first rows is the departments ranked first among all of them, which the first rows of appendix 4 or 5 (ordered by other figures too) are not.",
  })
  async ranking(
    @Root() report: RegionReportType,
    @Ctx() ctx: MuluContext,
    @Arg('metric', () => RankingMetric, { description: 'The rate the departments are ranked by.' }) metric: RankingMetric,
    @Arg('first', () => Int, { nullable: true, description: 'Only the first rows (all when omitted).' }) first?: number | null,
  ): Promise<ReportUnitType[]> {
    return unitTypes(await departmentsOf(ctx, report, rankedList(metric), firstRows(first) ?? null));
  }

  @FieldResolver(() => [ReportBelowThresholdType], { description: 'Per rate, the departments and child regions below the threshold.' })
  belowThreshold(
    @Root() report: RegionReportType,
    @Arg('metrics', () => [RankingMetric], {
      nullable: true,
      description:
        'Only these rates (returned in the order MOUNT_RATE, MAIN_COVERAGE_RATE, SUB_COVERAGE_RATE); every rate when omitted. A page that shows the list of one rate asks for that one: each list is picked from all the departments of the region.',
    })
    metrics?: RankingMetric[] | null,
  ): ReportBelowThresholdType[] {
    return metrics ? report.belowThresholdByMetric.filter((below) => metrics.includes(below.metric)) : report.belowThresholdByMetric;
  }
}

@Resolver(() => ReportBelowThresholdType)
export class ReportBelowThresholdResolver {
  @FieldResolver(() => [ReportUnitType], { description: 'Child regions below the threshold, lowest rate first, ties by name.' })
  async childRegions(@Root() below: ReportBelowThresholdType, @Ctx() ctx: MuluContext): Promise<ReportUnitType[]> {
    const report = await ctx.loaders.regionReport.load(below.key);
    return report.belowThreshold.find((b) => b.metric === below.metric)!.childRegions.map((u) => new ReportUnitType(u));
  }

  @FieldResolver(() => [ReportUnitType], { description: 'Departments below the threshold, lowest rate first, ties by name.' })
  async departments(
    @Root() below: ReportBelowThresholdType,
    @Ctx() ctx: MuluContext,
    @Arg('first', () => Int, { nullable: true, description: 'Only the first departments (all when omitted): a province has thousands below a threshold.' })
    first?: number | null,
  ): Promise<ReportUnitType[]> {
    return unitTypes(await departmentsOf(ctx, below, below.metric, firstRows(first) ?? null));
  }

  @FieldResolver(() => Int, { description: 'How many departments are below the threshold (all of them, whatever `departments(first)` returns).' })
  async departmentCount(@Root() below: ReportBelowThresholdType, @Ctx() ctx: MuluContext): Promise<number> {
    // The first row's page (any page carries the list's count): no list of thousands for a count.
    return (await departmentsOf(ctx, below, below.metric, 0)).totalCount;
  }
}

@Resolver(() => RegionType)
export class RegionMonthsResolver {
  @FieldResolver(() => [ReportMonthType], { description: "The region's figures in every captured month, oldest first (a chart of its rates over time)." })
  async monthlyFigures(@Root() region: RegionRow, @Ctx() ctx: MuluContext): Promise<ReportMonthType[]> {
    return ctx.loaders.monthlyFigures.load({ kind: ReportUnitKind.REGION, key: region.code });
  }
}

@Resolver(() => DepartmentType)
export class DepartmentMonthsResolver {
  @FieldResolver(() => [ReportMonthType], { description: "The department's figures in every captured month, oldest first." })
  async monthlyFigures(@Root() department: DepartmentRow, @Ctx() ctx: MuluContext): Promise<ReportMonthType[]> {
    return ctx.loaders.monthlyFigures.load({ kind: ReportUnitKind.DEPARTMENT, key: department.creditCode });
  }
}
