import { Field, Float, Int, ObjectType } from 'type-graphql';
import { percent, rate } from '../../graphql/rates';
import { SafeInt } from '../../graphql/scalars';
import { SupervisionCategory } from '../supervision/supervision.entity';
import type { CategoryCounts, SupervisionCounts } from './supervision-stats.service';

@ObjectType('SupervisionCategoryStats', { description: 'Sub-item figures of one category (行政检查, 行政处罚, 行政强制, 其他).' })
export class SupervisionCategoryStatsType {
  constructor(counts: CategoryCounts) {
    Object.assign(this, counts);
  }

  @Field(() => SupervisionCategory, { description: 'The category.' })
  category!: SupervisionCategory;

  @Field(() => Int, { description: 'Sub-items of the category (子项数).' })
  subItems!: number;

  @Field(() => Int, { description: 'Sub-items with at least one counting record (子项覆盖数).' })
  coveredSubItems!: number;

  @Field(() => SafeInt, { description: 'Counting records of those sub-items (汇聚数); superseded records are left out.' })
  records!: number;

  @Field(() => Float, { nullable: true, description: 'Covered / sub-items of the category, in [0, 1]; null when there are none.' })
  get coverageRate(): number | null {
    return rate(this.coveredSubItems, this.subItems);
  }

  @Field(() => String, { nullable: true, description: 'Coverage rate as a percentage rounded half-up to 2 decimals ("62.39"); null when there are no sub-items.' })
  get coverageRatePercent(): string | null {
    return percent(this.coveredSubItems, this.subItems);
  }
}

@ObjectType('SupervisionStats', { description: 'Supervision coverage of a department or region (监管事项覆盖情况). A region sums every department below it.' })
export class SupervisionStatsType {
  constructor(counts: SupervisionCounts) {
    this.mainItems = counts.mainItems;
    this.coveredMainItems = counts.coveredMainItems;
    this.byCategory = counts.byCategory.map((c) => new SupervisionCategoryStatsType(c));
  }

  @Field(() => Int, { description: 'Main items (主项数).' })
  mainItems: number;

  @Field(() => Int, { description: 'Main items with at least one covered sub-item (主项覆盖数).' })
  coveredMainItems: number;

  @Field(() => Float, { nullable: true, description: 'Main-item coverage rate (主项覆盖率) = covered main items / main items, in [0, 1]; null when there are none.' })
  get mainCoverageRate(): number | null {
    return rate(this.coveredMainItems, this.mainItems);
  }

  @Field(() => String, { nullable: true, description: 'Main-item coverage rate as a percentage rounded half-up to 2 decimals, as reports print it; null when there are no main items.' })
  get mainCoverageRatePercent(): string | null {
    return percent(this.coveredMainItems, this.mainItems);
  }

  @Field(() => Int, { description: 'Sub-items of all categories (子项数).' })
  get subItems(): number {
    return this.byCategory.reduce((sum, c) => sum + c.subItems, 0);
  }

  @Field(() => Int, { description: 'Sub-items with at least one counting record (子项覆盖数).' })
  get coveredSubItems(): number {
    return this.byCategory.reduce((sum, c) => sum + c.coveredSubItems, 0);
  }

  @Field(() => Float, { nullable: true, description: 'Sub-item coverage rate (子项覆盖率) = covered sub-items / sub-items, all categories together, in [0, 1]; null when there are none.' })
  get subCoverageRate(): number | null {
    return rate(this.coveredSubItems, this.subItems);
  }

  @Field(() => String, { nullable: true, description: 'Sub-item coverage rate as a percentage rounded half-up to 2 decimals, as reports print it; null when there are no sub-items.' })
  get subCoverageRatePercent(): string | null {
    return percent(this.coveredSubItems, this.subItems);
  }

  @Field(() => SafeInt, { description: 'Counting records of all sub-items (汇聚数); superseded records are left out.' })
  get records(): number {
    return this.byCategory.reduce((sum, c) => sum + c.records, 0);
  }

  @Field(() => [SupervisionCategoryStatsType], { description: 'Sub-item figures per category, every category in the order INSPECTION, PENALTY, COERCION, OTHER, zeros included.' })
  byCategory: SupervisionCategoryStatsType[];
}
