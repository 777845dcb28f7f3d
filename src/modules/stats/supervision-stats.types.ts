import { Field, Float, Int, ObjectType } from 'type-graphql';
import { percent, rate } from '../../core/numbers';
import { SafeInt } from '../../graphql/scalars';
import { SupervisionCategory } from '../supervision/supervision.entity';
import type { CategoryCounts, SupervisionCounts } from './supervision-stats.service';

const sum = (categories: CategoryCounts[], count: (c: CategoryCounts) => number) => categories.reduce((total, c) => total + count(c), 0);

/* Plain properties and simple resolvers, as MountStats (stats.types.ts) explains. */
@ObjectType('SupervisionCategoryStats', { simpleResolvers: true, description: 'Sub-item figures of one category (行政检查, 行政处罚, 行政强制, 其他).' })
export class SupervisionCategoryStatsType {
  constructor(counts: CategoryCounts) {
    this.category = counts.category;
    this.subItems = counts.subItems;
    this.coveredSubItems = counts.coveredSubItems;
    this.records = counts.records;
    this.coverageRate = rate(counts.coveredSubItems, counts.subItems);
    this.coverageRatePercent = percent(counts.coveredSubItems, counts.subItems);
  }

  @Field(() => SupervisionCategory, { description: 'The category.' })
  category: SupervisionCategory;

  @Field(() => Int, { description: 'Sub-items of the category (子项数).' })
  subItems: number;

  @Field(() => Int, { description: 'Sub-items with at least one counting record (子项覆盖数).' })
  coveredSubItems: number;

  @Field(() => SafeInt, { description: 'Counting records of those sub-items (汇聚数); superseded records are left out.' })
  records: number;

  @Field(() => Float, { nullable: true, description: 'Covered / sub-items of the category, in [0, 1]; null when there are none.' })
  coverageRate: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'Coverage rate as a percentage rounded half-up to 2 decimals ("62.39"); null when there are no sub-items.',
  })
  coverageRatePercent: string | null;
}

@ObjectType('SupervisionStats', {
  simpleResolvers: true,
  description: 'Supervision coverage of a department or region (监管事项覆盖情况). A region sums every department below it.',
})
export class SupervisionStatsType {
  constructor(counts: SupervisionCounts) {
    this.mainItems = counts.mainItems;
    this.coveredMainItems = counts.coveredMainItems;
    this.byCategory = counts.byCategory.map((c) => new SupervisionCategoryStatsType(c));
    this.subItems = sum(counts.byCategory, (c) => c.subItems);
    this.coveredSubItems = sum(counts.byCategory, (c) => c.coveredSubItems);
    this.records = sum(counts.byCategory, (c) => c.records);
    this.mainCoverageRate = rate(this.coveredMainItems, this.mainItems);
    this.mainCoverageRatePercent = percent(this.coveredMainItems, this.mainItems);
    this.subCoverageRate = rate(this.coveredSubItems, this.subItems);
    this.subCoverageRatePercent = percent(this.coveredSubItems, this.subItems);
  }

  @Field(() => Int, { description: 'Main items (主项数).' })
  mainItems: number;

  @Field(() => Int, { description: 'Main items with at least one covered sub-item (主项覆盖数).' })
  coveredMainItems: number;

  @Field(() => Float, {
    nullable: true,
    description: 'Main-item coverage rate (主项覆盖率) = covered main items / main items, in [0, 1]; null when there are none.',
  })
  mainCoverageRate: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'Main-item coverage rate as a percentage rounded half-up to 2 decimals, as reports print it; null when there are no main items.',
  })
  mainCoverageRatePercent: string | null;

  @Field(() => Int, { description: 'Sub-items of all categories (子项数).' })
  subItems: number;

  @Field(() => Int, { description: 'Sub-items with at least one counting record (子项覆盖数).' })
  coveredSubItems: number;

  @Field(() => Float, {
    nullable: true,
    description: 'Sub-item coverage rate (子项覆盖率) = covered sub-items / sub-items, all categories together, in [0, 1]; null when there are none.',
  })
  subCoverageRate: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'Sub-item coverage rate as a percentage rounded half-up to 2 decimals, as reports print it; null when there are no sub-items.',
  })
  subCoverageRatePercent: string | null;

  @Field(() => SafeInt, { description: 'Counting records of all sub-items (汇聚数); superseded records are left out.' })
  records: number;

  @Field(() => [SupervisionCategoryStatsType], {
    description: 'Sub-item figures per category, every category in the order INSPECTION, PENALTY, COERCION, OTHER, zeros included.',
  })
  byCategory: SupervisionCategoryStatsType[];
}
