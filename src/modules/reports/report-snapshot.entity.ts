import { Entity, Enum, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import type { UnitFigures } from '../stats/figures.service';

/** The raw counts of one unit, as stored with a snapshot; every rate of the report is derived from these. */
export type { UnitFigures };

/** What a snapshot row describes. */
export enum ReportUnitKind {
  DEPARTMENT = 'DEPARTMENT',
  REGION = 'REGION',
}

/**
 * The capture of one period (月度快照): when and by whom. Immutable: the
 * units' figures are written once with it; capturing the period again
 * replaces both, only on explicit request, and is audited.
 */
@Entity({ tableName: 'report_snapshot' })
export class ReportSnapshot {
  /** The month, YYYY-MM. */
  @PrimaryKey({ type: 'string', length: 7 })
  period!: string;

  @Property({ type: 'datetime' })
  capturedAt!: Date;

  /** Name of the actor who captured it (the audit trail has the full actor). */
  @Property({ type: 'string', length: 200 })
  capturedBy!: string;

  @Property({ type: 'integer' })
  departmentCount!: number;

  @Property({ type: 'integer' })
  regionCount!: number;

  /** How many times this period was captured again (0 for the first capture). */
  @Property({ type: 'integer', default: 0 })
  replacements: number = 0;
}

/**
 * One unit's figures in a snapshot: a department (keyed by credit code) or a
 * region (keyed by code), with its name and place in the tree as they stood,
 * so a report of a past month shows the units of that month.
 */
@Entity({ tableName: 'report_snapshot_unit' })
@Unique({ properties: ['period', 'unitKind', 'unitKey'] })
@Index({ properties: ['period', 'regionCode'] })
export class ReportSnapshotUnit {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Property({ type: 'string', length: 7 })
  period!: string;

  @Enum({ items: () => ReportUnitKind, nativeEnumName: 'report_unit_kind' })
  unitKind!: ReportUnitKind;

  /** Credit code of a department, code of a region. */
  @Property({ type: 'string', length: 18 })
  unitKey!: string;

  @Property({ type: 'string', length: 200 })
  unitName!: string;

  /** A department's region; a region's parent (null for a province). */
  @Property({ type: 'string', length: 6, nullable: true })
  regionCode?: string | null;

  @Property({ type: 'json' })
  figures!: UnitFigures;
}
