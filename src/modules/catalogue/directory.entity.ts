import { BigIntType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { TimestampedEntity } from '../../db/base.entity';
import type { Count } from '../../core/numbers';
import { Department } from '../departments/department.entity';

/** Lifecycle of a directory: only PUBLISHED ones count in any figure. */
export enum DirectoryStatus {
  DRAFT = 'DRAFT',
  PUBLISHED = 'PUBLISHED',
  WITHDRAWN = 'WITHDRAWN',
}

/** Share type (共享类型) of the national cataloguing guideline. */
export enum ShareType {
  /** 无条件共享 */
  UNCONDITIONAL = 'UNCONDITIONAL',
  /** 有条件共享 */
  CONDITIONAL = 'CONDITIONAL',
  /** 不予共享 */
  NOT_SHARED = 'NOT_SHARED',
}

/** Resource format (资源格式). */
export enum ResourceFormat {
  DATABASE = 'DATABASE',
  SPREADSHEET = 'SPREADSHEET',
  FILE = 'FILE',
  IMAGE = 'IMAGE',
  STREAM = 'STREAM',
  API = 'API',
  OTHER = 'OTHER',
}

/** Share method (共享方式). */
export enum ShareMethod {
  API = 'API',
  DATABASE_EXCHANGE = 'DATABASE_EXCHANGE',
  FILE_DOWNLOAD = 'FILE_DOWNLOAD',
  ONLINE_QUERY = 'ONLINE_QUERY',
}

/** Update cycle (更新周期); mounted data older than one cycle is stale (see staleness.ts). */
export enum UpdateCycle {
  REAL_TIME = 'REAL_TIME',
  DAILY = 'DAILY',
  WEEKLY = 'WEEKLY',
  MONTHLY = 'MONTHLY',
  QUARTERLY = 'QUARTERLY',
  YEARLY = 'YEARLY',
}

/**
 * The value type of an information item, which rows loaded into a hosted
 * dataset must match. Directories name the type in free text (dataType,
 * e.g. 字符型); valueType makes it precise, inferred from that text when
 * not given (item-value-type.ts).
 */
export enum ItemValueType {
  STRING = 'STRING',
  INTEGER = 'INTEGER',
  DECIMAL = 'DECIMAL',
  DATE = 'DATE',
  DATETIME = 'DATETIME',
  BOOLEAN = 'BOOLEAN',
}

/** One information item (信息项): a field of the resource. */
export interface InformationItem {
  name: string;
  dataType: string;
  description?: string | null;
  /** Stored only when the steward named it; otherwise inferred from dataType. */
  valueType?: ItemValueType | null;
  /** Whether every loaded row must hold a value; stored only when true. */
  required?: boolean | null;
}

/** A resource directory (政务信息资源目录) entry published by a department. */
@Entity({ tableName: 'resource_directory' })
@Index({ properties: ['department', 'status'] })
/*
 * The catalogue search (a region's directories whose name or code holds a
 * text, in id order) picks its page of ids from this index alone, without
 * visiting the wide rows (information items) of every directory it passes
 * over; only the page's rows are read. See pagedRows (db/paged-children.ts).
 * It holds the names and codes lower-cased, as the text filter compares
 * them (directoryFilterSql), and as they are, which PostgreSQL wants
 * present before it answers from the index alone.
 */
@Index({
  name: 'resource_directory_search_index',
  expression:
    'create index "resource_directory_search_index" on "resource_directory" ("department_id", "id", lower("name"), lower("code")) include ("status", "share_type", "name", "code")',
})
@Index({
  name: 'resource_directory_stale_after_index',
  expression: `create index "resource_directory_stale_after_index" on "resource_directory" ("department_id", "stale_after") where "status" = 'PUBLISHED' and "active_mount_count" > 0`,
})
export class ResourceDirectory extends TimestampedEntity<'status' | 'activeMountCount' | 'dataVolume' | 'openToPublic' | 'informationItems'> {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  /** Directory code (目录编码), unique within the catalogue. */
  @Property({ type: 'string', length: 64, unique: true })
  code!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: 'text', nullable: true })
  summary?: string | null;

  @ManyToOne({ entity: () => Department, ref: true, deleteRule: 'restrict' })
  department!: Ref<Department>;

  /** Classification (资源分类), e.g. 基础信息资源/人口. */
  @Property({ type: 'string', length: 200, nullable: true })
  classification?: string | null;

  @Enum({ items: () => ResourceFormat, nativeEnumName: 'resource_format' })
  resourceFormat!: ResourceFormat;

  @Property({ type: 'json' })
  informationItems: InformationItem[] = [];

  @Enum({ items: () => ShareType, nativeEnumName: 'share_type' })
  shareType!: ShareType;

  @Property({ type: 'text', nullable: true })
  shareConditions?: string | null;

  @Enum({ items: () => ShareMethod, nativeEnumName: 'share_method', nullable: true })
  shareMethod?: ShareMethod | null;

  /** Open to the public (是否向社会开放). */
  @Property({ type: 'boolean', default: false })
  openToPublic: boolean = false;

  @Enum({ items: () => UpdateCycle, nativeEnumName: 'update_cycle' })
  updateCycle!: UpdateCycle;

  @Enum({ items: () => DirectoryStatus, nativeEnumName: 'directory_status', default: DirectoryStatus.DRAFT })
  status: DirectoryStatus = DirectoryStatus.DRAFT;

  @Property({ type: 'datetime', nullable: true })
  publishedAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  withdrawnAt?: Date | null;

  /**
   * Kept equal to the mounts table by the mount service in the same
   * transaction, so that statistics read directories only, never mounts.
   */
  @Property({ type: 'integer', default: 0 })
  activeMountCount: number = 0;

  /** Sum of record counts of the active mounts (数据量). */
  @Property({ type: new BigIntType('string'), default: 0 })
  dataVolume: Count = 0;

  /** Latest refresh among the active mounts. */
  @Property({ type: 'datetime', nullable: true })
  lastRefreshedAt?: Date | null;

  /**
   * When the mounted data turns stale: the latest refresh plus the update
   * cycle (staleness.ts). Kept with the figures so that counting stale
   * directories is an index range scan, not a computation per directory.
   */
  @Property({ type: 'datetime', nullable: true })
  staleAfter?: Date | null;
}
