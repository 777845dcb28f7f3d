import { ArgsType, Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { percent, rate } from '../../core/numbers';
import type { DepartmentRow } from '../departments/department.row';
import { DepartmentType } from '../departments/department.types';
import type { RegionRow } from '../regions/region.row';
import { RegionType } from '../regions/region.types';
import { RANKING_LIMIT, RankingMetric, RankingOrder, type RankingEntry } from './ranking.service';

registerEnumType(RankingMetric, {
  name: 'RankingMetric',
  description: 'The rate units are ranked by.',
  valuesConfig: {
    MOUNT_RATE: { description: 'Mount rate (资源挂载率): mounted / published directories.' },
    MAIN_COVERAGE_RATE: { description: 'Main-item coverage rate (主项覆盖率): covered / all main items.' },
    SUB_COVERAGE_RATE: { description: 'Sub-item coverage rate (子项覆盖率): covered / all sub-items.' },
  },
});

registerEnumType(RankingOrder, {
  name: 'RankingOrder',
  description: 'Direction of a ranking; units without a rate (nothing to count) come last either way.',
  valuesConfig: {
    HIGHEST_FIRST: { description: 'Highest rate first, as reports rank.' },
    LOWEST_FIRST: { description: 'Lowest rate first, to find shortfalls.' },
  },
});

@ArgsType()
export class RankingArgs {
  @Field(() => RankingMetric, { description: 'The rate to rank by.' })
  metric!: RankingMetric;

  @Field(() => RankingOrder, { defaultValue: RankingOrder.HIGHEST_FIRST, description: 'Highest or lowest first; ties are broken by name.' })
  order!: RankingOrder;

  @Field(() => Int, { defaultValue: 20, description: `How many units (1 to ${RANKING_LIMIT}).` })
  first!: number;

  @Field(() => Int, {
    defaultValue: 0,
    description: `How many units of the list to pass over before the first one returned: the next page of a long list skips the units of the pages before it (e.g. skip: ${RANKING_LIMIT} after a page of ${RANKING_LIMIT}).`,
  })
  skip!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      "Only units whose rate is below this rate (in [0, 1], e.g. 0.6 for 60%): the report's list of units with low figures. Units without a rate are then left out.",
  })
  below?: number | null;
}

/* Plain properties, the rate computed once, and simple resolvers, as MountStats (stats.types.ts) explains. */
@ObjectType('RankingEntryBase', { description: 'Fields shared by ranking entries; not emitted, as no field returns it.' })
class RankingEntryBase {
  constructor(entry: RankingEntry<unknown>) {
    this.rank = entry.rank;
    this.numerator = entry.numerator;
    this.denominator = entry.denominator;
    this.rate = rate(entry.numerator, entry.denominator);
    this.ratePercent = percent(entry.numerator, entry.denominator);
  }

  @Field(() => Int, {
    nullable: true,
    description:
      "Rank among all the unit's peers by the rate, from 1, highest rate first, ties by name then code: the report's rank (`ReportRank.rank`), whatever this list's order, threshold or page. Null for a unit without the rate (nothing to count), listed last.",
  })
  rank: number | null;

  @Field(() => Int, { description: 'Numerator of the rate (mounted directories, covered main items or covered sub-items).' })
  numerator: number;

  @Field(() => Int, { description: 'Denominator of the rate (published directories, main items or sub-items).' })
  denominator: number;

  @Field(() => Float, { nullable: true, description: 'The rate, in [0, 1]; null when the denominator is 0.' })
  rate: number | null;

  @Field(() => String, { nullable: true, description: 'The rate as a percentage rounded half-up to 2 decimals; null when the denominator is 0.' })
  ratePercent: string | null;
}

@ObjectType('DepartmentRankingEntry', { simpleResolvers: true, description: "A department's place in a ranking." })
export class DepartmentRankingEntryType extends RankingEntryBase {
  constructor(entry: RankingEntry<DepartmentRow>) {
    super(entry);
    this.department = entry.unit;
  }

  @Field(() => DepartmentType, { description: 'The department.' })
  department: DepartmentRow;
}

@ObjectType('RegionRankingEntry', { simpleResolvers: true, description: "A region's place in a ranking; its rate sums every department below it." })
export class RegionRankingEntryType extends RankingEntryBase {
  constructor(entry: RankingEntry<RegionRow>) {
    super(entry);
    this.region = entry.unit;
  }

  @Field(() => RegionType, { description: 'The region.' })
  region: RegionRow;
}
