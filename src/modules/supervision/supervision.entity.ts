import { BigIntType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { TimestampedEntity } from '../../db/base.entity';
import { Department } from '../departments/department.entity';

/** Category of a supervision sub-item (子项类别). */
export enum SupervisionCategory {
  /** 行政检查 */
  INSPECTION = 'INSPECTION',
  /** 行政处罚 */
  PENALTY = 'PENALTY',
  /** 行政强制 */
  COERCION = 'COERCION',
  /** 其他 */
  OTHER = 'OTHER',
}

/** The categories in the order the report's columns follow. */
export const SUPERVISION_CATEGORIES: readonly SupervisionCategory[] = [
  SupervisionCategory.INSPECTION,
  SupervisionCategory.PENALTY,
  SupervisionCategory.COERCION,
  SupervisionCategory.OTHER,
];

/** A supervision main item (监管事项主项) of a department. */
@Entity({ tableName: 'supervision_main_item' })
@Unique({ properties: ['department', 'code'] })
export class SupervisionMainItem extends TimestampedEntity {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne({ entity: () => Department, ref: true, deleteRule: 'restrict' })
  department!: Ref<Department>;

  /** Item code (事项编码), unique among the department's main items. */
  @Property({ type: 'string', length: 64 })
  code!: string;

  @Property({ type: 'string', length: 500 })
  name!: string;

  /** Legal basis (设定依据): the laws and regulations the supervision rests on. */
  @Property({ type: 'text' })
  legalBasis!: string;
}

/**
 * A supervision sub-item (监管事项子项). It carries its department (the same
 * as its main item's) so codes can be unique per department and statistics
 * group sub-items without a join, and `recordCount`, the number of its
 * counting records, kept by ingestion in the same transaction so that
 * coverage never scans records.
 */
@Entity({ tableName: 'supervision_sub_item' })
@Unique({ properties: ['department', 'code'] })
export class SupervisionSubItem extends TimestampedEntity<'recordCount'> {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne({ entity: () => Department, ref: true, deleteRule: 'restrict' })
  department!: Ref<Department>;

  @ManyToOne({ entity: () => SupervisionMainItem, ref: true, deleteRule: 'restrict' })
  @Index()
  mainItem!: Ref<SupervisionMainItem>;

  /** Item code, unique among the department's sub-items; records name the sub-item by it. */
  @Property({ type: 'string', length: 64 })
  code!: string;

  @Property({ type: 'string', length: 500 })
  name!: string;

  @Enum({ items: () => SupervisionCategory, nativeEnumName: 'supervision_category' })
  category!: SupervisionCategory;

  /** Records of this sub-item that count (not superseded); maintained by ingestion only. */
  @Property({ type: new BigIntType('number'), default: 0 })
  recordCount: number = 0;
}

/**
 * A supervision action record (监管行为数据). Evidence: never rewritten. The
 * only column that ever changes is `superseded`, set when a later record
 * names this one in `supersedes`; a superseded record stops counting.
 */
@Entity({ tableName: 'supervision_record' })
@Unique({ properties: ['department', 'source', 'externalId'] })
@Unique({
  name: 'supervision_record_supersedes_id_unique',
  expression: 'create unique index "supervision_record_supersedes_id_unique" on "supervision_record" ("supersedes_id") where "supersedes_id" is not null',
})
export class SupervisionRecord {
  @PrimaryKey({ type: new BigIntType('number'), autoincrement: true })
  id!: number;

  /**
   * The department the record was pushed for (its sub-item's). Part of the
   * retry key: two departments numbering their records alike under one
   * source must not take each other's records for duplicates.
   */
  @ManyToOne({ entity: () => Department, ref: true, deleteRule: 'restrict' })
  department!: Ref<Department>;

  @ManyToOne({ entity: () => SupervisionSubItem, ref: true, deleteRule: 'restrict' })
  @Index()
  subItem!: Ref<SupervisionSubItem>;

  /** The system that sent the record; (department, source, externalId) identifies it for retries. */
  @Property({ type: 'string', length: 100 })
  source!: string;

  @Property({ type: 'string', length: 200 })
  externalId!: string;

  @Property({ type: 'datetime' })
  occurredAt!: Date;

  @Property({ type: 'json', nullable: true })
  payload?: Record<string, unknown> | null;

  /**
   * The record this one corrects; a record is corrected at most once (a
   * partial unique index). Deliberately no foreign key: the ingestion locks
   * and checks the corrected record in the same transaction, and a
   * self-referencing key would add a trigger to every one of millions of
   * inserts, nearly all of them with no correction.
   */
  @Property({ type: new BigIntType('number'), nullable: true })
  supersedesId?: number | null;

  @Property({ type: 'boolean', default: false })
  superseded: boolean = false;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  receivedAt: Date = new Date();
}
