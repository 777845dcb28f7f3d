import { BigIntType, Entity, OneToOne, Property, type Ref } from '@mikro-orm/core';
import { Department } from '../departments/department.entity';
import { Region } from '../regions/region.entity';
import { FIGURES, propertyOf } from './figures';

/**
 * The counts every statistic is made of, for one unit: one property per
 * figure of FIGURES (figures.ts), declared there and applied here, so a new
 * figure is not written out again for the entity.
 */
export abstract class FigureColumns {
  [property: string]: unknown;
}

for (const figure of FIGURES) {
  // bigint figures as exact decimal strings (a sum may pass 2^53; readers turn them into Counts).
  Property({ type: figure.type === 'bigint' ? new BigIntType('string') : 'integer', default: 0, fieldName: figure.column })(
    FigureColumns.prototype,
    propertyOf(figure.column),
  );
}

/**
 * One row per department holding the counts every statistic is made of,
 * recomputed from the catalogue and the supervision items in the same
 * transaction as every change to them (department-figures.service.ts).
 * Dashboards and rankings read these rows, 10,000 for a province, instead
 * of 100,000 directories and 300,000 sub-items.
 */
@Entity({ tableName: 'department_figures' })
export class DepartmentFigures extends FigureColumns {
  @OneToOne({ entity: () => Department, ref: true, primary: true, fieldName: 'department_id', deleteRule: 'cascade' })
  department!: Ref<Department>;
}

/**
 * The same counts summed for a region over every department in it and in
 * all regions below it. Kept by a database trigger on department_figures
 * (migration Migration20261123202839), which adds each change of a
 * department's row to the rows of the region's ancestors, in the same
 * transaction; a province dashboard then reads one row per region.
 */
@Entity({ tableName: 'region_figures' })
export class RegionFigures extends FigureColumns {
  @OneToOne({ entity: () => Region, ref: true, primary: true, fieldName: 'region_code', deleteRule: 'cascade' })
  region!: Ref<Region>;
}
