import { IsOptional, Matches, Max, Min } from 'class-validator';
import { ArgsType, Field, Float, GraphQLISODateTime, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BigCount, SafeInt } from '../../graphql/scalars';
import type { Count } from '../../core/numbers';
import { RankingMetric } from '../stats/ranking.service';
import { MountStatsType } from '../stats/stats.types';
import { SupervisionStatsType } from '../stats/supervision-stats.types';
import { SubscriptionStatsType } from '../subscriptions/subscription.types';
import { METRICS, type FiguresChange } from './report-figures';
import { ReportUnitKind, type UnitFigures } from './report-snapshot.entity';
import { FiguresSource, type ReportSources, type ReportUnit, type UnitRank } from './report.service';
import type { RegionReportKey } from './report.loaders';
import type { DepartmentsSource } from './report-departments.service';

registerEnumType(ReportUnitKind, {
  name: 'ReportUnitKind',
  description: 'What a unit of a report is.',
  valuesConfig: {
    DEPARTMENT: { description: 'A department (部门), keyed by credit code.' },
    REGION: { description: 'A region (行政区划), keyed by its code.' },
  },
});

registerEnumType(FiguresSource, {
  name: 'FiguresSource',
  description: 'Where the figures of a report period come from.',
  valuesConfig: {
    SNAPSHOT: { description: 'The snapshot captured for the period.' },
    LIVE: { description: 'The figures as they stand now: the current month without a snapshot yet.' },
  },
});

const PERIOD = /^\s*\d{4}-(0[1-9]|1[0-2])\s*$/;

@ObjectType('ReportSnapshot', { description: "The capture of one month's figures of every department and region (月度快照); immutable." })
export class ReportSnapshotType {
  @Field({ description: 'The month, YYYY-MM.' })
  period!: string;

  @Field(() => GraphQLISODateTime, { description: 'When it was captured.' })
  capturedAt!: Date;

  @Field({ description: 'Who captured it (the audit trail has the full actor).' })
  capturedBy!: string;

  @Field(() => Int, { description: 'Departments captured.' })
  departmentCount!: number;

  @Field(() => Int, { description: 'Regions captured.' })
  regionCount!: number;

  @Field(() => Int, { description: 'How many times the period was captured again, replacing the earlier capture (0 for the first).' })
  replacements!: number;
}

@InputType({ description: "Captures every department's and region's figures for a month." })
export class CaptureSnapshotInput {
  @Field({ description: 'The month, YYYY-MM, e.g. 2023-06.' })
  @Matches(PERIOD, { message: 'must be a month written YYYY-MM, e.g. 2023-06' })
  period!: string;

  @Field(() => Boolean, {
    defaultValue: false,
    description: 'Replace an existing snapshot of the month (audited). Without it a second capture is refused with CONFLICT.',
  })
  replace!: boolean;
}

@ArgsType()
export class ReportArgs {
  @Field(() => String, {
    nullable: true,
    description:
      "The month, YYYY-MM. Its snapshot is used; without one, the current month uses the live figures and any other month is NOT_FOUND. Omitted: the live figures ('now').",
  })
  @IsOptional()
  @Matches(PERIOD, { message: 'must be a month written YYYY-MM, e.g. 2023-06' })
  period?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'The month to compare with, YYYY-MM, which needs a snapshot (NOT_FOUND otherwise). Omitted: the month before the period, when it has a snapshot; otherwise nothing is compared.',
  })
  @IsOptional()
  @Matches(PERIOD, { message: 'must be a month written YYYY-MM, e.g. 2023-06' })
  comparedTo?: string | null;

  @Field(() => Float, { defaultValue: 0.6, description: 'Units whose rate is below this (in [0, 1], 0.6 for 60 %) are listed in `belowThreshold`.' })
  @Min(0)
  @Max(1)
  threshold!: number;
}

@ObjectType('ReportFigures', { description: "A unit's figures in one period; every rate is derived from the counts." })
export class ReportFiguresType {
  constructor(figures: UnitFigures) {
    this.mount = new MountStatsType(figures.mount);
    this.supervision = new SupervisionStatsType(figures.supervision);
    this.subscriptions = new SubscriptionStatsType(figures.subscriptions);
  }

  @Field(() => MountStatsType, { description: 'Directories, mounts and the mount rate (资源目录挂载情况).' })
  mount: MountStatsType;

  @Field(() => SupervisionStatsType, { description: 'Supervision items and coverage (监管事项覆盖情况).' })
  supervision: SupervisionStatsType;

  @Field(() => SubscriptionStatsType, { description: 'Subscriptions made and received (资源使用情况).' })
  subscriptions: SubscriptionStatsType;
}

@ObjectType('ReportChange', {
  description: 'Change since the compared period: counts as differences ("+437"), rates in percentage points ("-1.92"); 0 is "unchanged".',
})
export class ReportChangeType implements FiguresChange {
  constructor(change: FiguresChange) {
    Object.assign(this, change);
  }

  @Field(() => Int, { description: 'Published directories.' })
  publishedDirectories!: number;

  @Field(() => Int, { description: 'Mounted directories.' })
  mountedDirectories!: number;

  @Field(() => BigCount, { description: 'Data volume (records of the active mounts).' })
  dataVolume!: Count;

  @Field(() => Int, { description: 'Stale directories.' })
  staleDirectories!: number;

  @Field(() => Float, {
    nullable: true,
    description: 'Mount rate, in percentage points: the difference of the two printed percentages; null when either period has no rate.',
  })
  mountRatePoints!: number | null;

  @Field(() => Int, { description: 'Main items.' })
  mainItems!: number;

  @Field(() => Int, { description: 'Covered main items.' })
  coveredMainItems!: number;

  @Field(() => Float, { nullable: true, description: 'Main-item coverage rate, in percentage points; null when either period has no rate.' })
  mainCoverageRatePoints!: number | null;

  @Field(() => Int, { description: 'Sub-items.' })
  subItems!: number;

  @Field(() => Int, { description: 'Covered sub-items.' })
  coveredSubItems!: number;

  @Field(() => SafeInt, { description: 'Counting supervision records.' })
  records!: number;

  @Field(() => Float, { nullable: true, description: 'Sub-item coverage rate, in percentage points; null when either period has no rate.' })
  subCoverageRatePoints!: number | null;

  @Field(() => Int, { description: 'Granted subscriptions made.' })
  subscriptionsMade!: number;

  @Field(() => Int, { description: 'Granted subscriptions received.' })
  subscriptionsReceived!: number;

  @Field(() => Int, { description: "Requests awaiting the unit's decision." })
  subscriptionsPending!: number;
}

@ObjectType('ReportRank', {
  description: 'The place of a unit among its peers (the departments, or the child regions) by one rate, highest first, ties by name.',
})
export class ReportRankType implements UnitRank {
  constructor(rank: UnitRank) {
    Object.assign(this, rank);
  }

  @Field(() => RankingMetric, { description: 'The rate.' })
  metric!: RankingMetric;

  @Field(() => Int, { nullable: true, description: '1 for the highest rate; null when the unit has no rate ("-").' })
  rank!: number | null;

  @Field(() => Int, { description: 'How many peers have a rate and were ranked.' })
  of!: number;

  @Field({ description: "Whether the unit's rate is below the report's threshold." })
  below!: boolean;
}

@ObjectType('ReportUnit', { description: 'A department or region in a report: its figures, the change since the compared period and its ranks.' })
export class ReportUnitType {
  constructor(unit: ReportUnit) {
    this.kind = unit.kind;
    this.code = unit.key;
    this.name = unit.name;
    this.figures = new ReportFiguresType(unit.figures);
    this.previous = unit.previous ? new ReportFiguresType(unit.previous) : null;
    this.change = unit.change ? new ReportChangeType(unit.change) : null;
    this.ranks = unit.ranks.map((r) => new ReportRankType(r));
  }

  @Field(() => ReportUnitKind, { description: 'Department or region.' })
  kind: ReportUnitKind;

  @Field({ description: "A department's credit code or a region's code." })
  code: string;

  @Field({ description: 'The name, as it was in the period.' })
  name: string;

  @Field(() => ReportFiguresType, { description: 'Figures of the period.' })
  figures: ReportFiguresType;

  @Field(() => ReportFiguresType, { nullable: true, description: 'Figures of the compared period; null when nothing is compared or the unit was not there.' })
  previous: ReportFiguresType | null;

  @Field(() => ReportChangeType, { nullable: true, description: 'Change since the compared period; null when there is nothing to compare with.' })
  change: ReportChangeType | null;

  @Field(() => [ReportRankType], {
    description: "Rank by each rate among the peers (MOUNT_RATE, MAIN_COVERAGE_RATE, SUB_COVERAGE_RATE); empty for the report's own region.",
  })
  ranks: ReportRankType[];
}

@ObjectType('ReportBelowThreshold', { description: 'The units whose rate is below the threshold, lowest first, as the report names them.' })
export class ReportBelowThresholdType {
  constructor(metric: RankingMetric, key: RegionReportKey, sources: ReportSources) {
    this.metric = metric;
    this.key = key;
    this.regionCode = key.region.code;
    this.departmentsSource = sources.departments;
  }

  @Field(() => RankingMetric, { description: 'The rate.' })
  metric: RankingMetric;

  /**
   * The report's region and where its departments come from: a province has thousands below a threshold
   * (`departments(first)` and `departmentCount`, report.resolver.ts); its child regions come with the report's figures (`childRegions`).
   */
  readonly key: RegionReportKey;
  readonly regionCode: string;
  readonly departmentsSource: DepartmentsSource;
}

@ObjectType('RegionReport', {
  description: 'The monthly report (通报) of a region: figures, change since the compared month, ranks, and units below a threshold.',
})
export class RegionReportType {
  /**
   * A report as soon as its sources are known (reportService.sourcesOf): its
   * region's and child regions' figures are read by their fields
   * (report.resolver.ts), beside its department lists.
   */
  constructor(key: RegionReportKey, sources: ReportSources) {
    this.period = sources.period;
    this.source = sources.source;
    this.capturedAt = sources.capturedAt;
    this.comparedTo = sources.comparedTo;
    this.comparedCapturedAt = sources.comparedCapturedAt;
    this.threshold = sources.threshold;
    this.key = key;
    this.regionCode = key.region.code;
    this.departmentsSource = sources.departments;
    this.belowThresholdByMetric = METRICS.map((metric) => new ReportBelowThresholdType(metric, key, sources));
  }

  @Field({ description: 'The month of the figures, YYYY-MM (the current month for live figures).' })
  period: string;

  @Field(() => FiguresSource, { description: 'Snapshot or live figures.' })
  source: FiguresSource;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When the snapshot was captured; null for live figures.' })
  capturedAt: Date | null;

  @Field(() => String, { nullable: true, description: 'The compared month, YYYY-MM; null when nothing is compared.' })
  comparedTo: string | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: "When the compared month's snapshot was captured." })
  comparedCapturedAt: Date | null;

  @Field(() => Float, { description: 'The threshold of `belowThreshold` and of `ReportRank.below`.' })
  threshold: number;

  /** The region and the options the report was asked with: its figures through the request's loader (regionReport). */
  readonly key: RegionReportKey;

  /**
   * The report's region and where its departments come from: a province has
   * 10,000, so `departments`, `appendix4` and `appendix5` (report.resolver.ts)
   * read only the rows they return, ordered and ranked by PostgreSQL.
   */
  readonly regionCode: string;
  readonly departmentsSource: DepartmentsSource;

  /** Per rate, in METRICS order: `belowThreshold(metrics)` (report.resolver.ts) returns those asked for. */
  readonly belowThresholdByMetric: ReportBelowThresholdType[];
}

@ObjectType('ReportMonth', { description: "A unit's figures as captured in one month's snapshot." })
export class ReportMonthType {
  constructor(period: string, figures: UnitFigures) {
    this.period = period;
    this.figures = new ReportFiguresType(figures);
  }

  @Field({ description: 'The month, YYYY-MM.' })
  period: string;

  @Field(() => ReportFiguresType, { description: 'Its figures in that month.' })
  figures: ReportFiguresType;
}
