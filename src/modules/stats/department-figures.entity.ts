import { BigIntType, Entity, OneToOne, Property, type Ref } from '@mikro-orm/core';
import { Department } from '../departments/department.entity';
import { Region } from '../regions/region.entity';

/** The counts every statistic is made of, for one unit. */
export abstract class FigureColumns {
  @Property({ type: 'integer', default: 0 })
  publishedDirectories: number = 0;

  @Property({ type: 'integer', default: 0 })
  mountedDirectories: number = 0;

  @Property({ type: new BigIntType('number'), default: 0 })
  dataVolume: number = 0;

  /**
   * Mounted directories whose data is stale. It depends on the clock as well
   * as on writes: departmentFiguresService.refreshStaleness recounts it as
   * time passes.
   */
  @Property({ type: 'integer', default: 0 })
  staleDirectories: number = 0;

  /** Granted, live subscriptions the unit made (订阅量); lapsing recounted like stale data. */
  @Property({ type: 'integer', default: 0 })
  subscriptionsMade: number = 0;

  /** Granted, live subscriptions to the unit's directories (被订阅量). */
  @Property({ type: 'integer', default: 0 })
  subscriptionsReceived: number = 0;

  /** Requests waiting for the unit's decision as provider. */
  @Property({ type: 'integer', default: 0 })
  subscriptionsPending: number = 0;

  /** Deliveries of the unit's hosted data to other departments (资源被使用: requests). */
  @Property({ type: new BigIntType('number'), default: 0 })
  usageRequestsProvided: number = 0;

  /** Rows those deliveries carried. */
  @Property({ type: new BigIntType('number'), default: 0 })
  usageRowsProvided: number = 0;

  /** Departments that received the unit's data, counted per providing department. */
  @Property({ type: 'integer', default: 0 })
  usageConsumers: number = 0;

  /** Deliveries the unit received from other departments' directories (资源使用: requests). */
  @Property({ type: new BigIntType('number'), default: 0 })
  usageRequestsMade: number = 0;

  /** Rows those deliveries carried. */
  @Property({ type: new BigIntType('number'), default: 0 })
  usageRowsReceived: number = 0;

  /** Departments of the unit that received another department's data (0 or 1 for a department). */
  @Property({ type: 'integer', default: 0 })
  usageConsumingDepartments: number = 0;

  @Property({ type: 'integer', default: 0 })
  mainItems: number = 0;

  @Property({ type: 'integer', default: 0 })
  coveredMainItems: number = 0;

  @Property({ type: 'integer', default: 0 })
  inspectionItems: number = 0;

  @Property({ type: 'integer', default: 0 })
  inspectionCovered: number = 0;

  @Property({ type: new BigIntType('number'), default: 0 })
  inspectionRecords: number = 0;

  @Property({ type: 'integer', default: 0 })
  penaltyItems: number = 0;

  @Property({ type: 'integer', default: 0 })
  penaltyCovered: number = 0;

  @Property({ type: new BigIntType('number'), default: 0 })
  penaltyRecords: number = 0;

  @Property({ type: 'integer', default: 0 })
  coercionItems: number = 0;

  @Property({ type: 'integer', default: 0 })
  coercionCovered: number = 0;

  @Property({ type: new BigIntType('number'), default: 0 })
  coercionRecords: number = 0;

  @Property({ type: 'integer', default: 0 })
  otherItems: number = 0;

  @Property({ type: 'integer', default: 0 })
  otherCovered: number = 0;

  @Property({ type: new BigIntType('number'), default: 0 })
  otherRecords: number = 0;
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
