import { BigIntType, Entity, Enum, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/** How a load changes a hosted dataset. */
export enum LoadMode {
  /** Rows are added to the current version. */
  APPEND = 'APPEND',
  /** A new version replaces the current one when the load commits. */
  REPLACE = 'REPLACE',
}

/** Through which route rows arrived or left. */
export enum SharingRoute {
  GRAPHQL = 'GRAPHQL',
  /** POST /mounts/{id}/rows (loads) */
  BULK = 'BULK',
  /** GET /directories/{code}/rows.csv */
  CSV = 'CSV',
  /** GET /directories/{code}/rows.ndjson */
  NDJSON = 'NDJSON',
}

/** A rejected value or row of a load: its row (1-based; the header is row 1 of a CSV file), column and why. */
export interface RowError {
  row: number;
  column: string | null;
  reason: string;
}

/**
 * One load of rows into a hosted mount. The idempotency key names it: a
 * load sent again with the same key returns this record and changes
 * nothing. Rows themselves live in the partitioned table dataset_row
 * (written with COPY, read with SQL; docs/data-sharing.md, "Storage").
 */
@Entity({ tableName: 'dataset_load' })
export class DatasetLoad {
  [OptionalProps]?: 'createdAt' | 'rejected';

  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Property({ type: 'integer' })
  mountId!: number;

  /** The version the rows went into. */
  @Property({ type: 'integer' })
  version!: number;

  @Enum({ items: () => LoadMode, type: 'string', length: 10 })
  mode!: LoadMode;

  @Enum({ items: () => SharingRoute, type: 'string', length: 10 })
  route!: SharingRoute;

  @Property({ type: 'string', length: 200, nullable: true })
  idempotencyKey?: string | null;

  /**
   * SHA-256 (hex) of what the load was asked with (acceptPartial and the body as sent): a load under the same key
   * is a retry only when it is the same. Null for a load without a key, and for loads stored before it was kept.
   */
  @Property({ type: 'string', length: 64, nullable: true })
  requestDigest?: string | null;

  @Property({ type: new BigIntType('number') })
  rowsLoaded!: number;

  @Property({ type: new BigIntType('number') })
  rowsRejected!: number;

  /** The mount's record count once the load committed. */
  @Property({ type: new BigIntType('number') })
  recordCount!: number;

  /** The first rejected values (partial loads), as reported. */
  @Property({ type: 'json' })
  rejected: RowError[] = [];

  @Property({ type: 'string', length: 20 })
  actorKind!: string;

  @Property({ type: 'string', length: 200 })
  actorId!: string;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}

/**
 * One delivery of rows (a page, a CSV or NDJSON export) to one caller:
 * who, for which department, which directory, how many rows, when and
 * through which route. Append-only (a trigger refuses UPDATE and DELETE);
 * the usage figures are never counted by reading this log at read time:
 * the usage fold adds new entries to the counters in batches (usage-fold.ts).
 */
@Entity({ tableName: 'dataset_access' })
export class DatasetAccess {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: new BigIntType('number'), autoincrement: true })
  id!: number;

  @Property({ type: 'integer' })
  directoryId!: number;

  @Property({ type: 'integer' })
  mountId!: number;

  @Property({ type: 'integer' })
  version!: number;

  @Property({ type: 'integer' })
  providerId!: number;

  /** The department the rows were delivered to; null for an administrator or the provider's own steward (not counted as use). */
  @Property({ type: 'integer', nullable: true })
  consumerId?: number | null;

  /** The granted subscription the delivery was made under. */
  @Property({ type: 'integer', nullable: true })
  subscriptionId?: number | null;

  @Property({ type: 'string', length: 20 })
  actorKind!: string;

  @Property({ type: 'string', length: 200 })
  actorId!: string;

  @Enum({ items: () => SharingRoute, type: 'string', length: 10 })
  route!: SharingRoute;

  @Property({ type: new BigIntType('number') })
  rowsDelivered!: number;

  /** The items delivered when a conditional grant restricted them; null for all. */
  @Property({ type: 'json', nullable: true })
  columns?: string[] | null;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  /** The writing transaction's id: the usage fold counts entries of finished transactions (usage-fold.ts). */
  @Property({ type: 'string', columnType: 'xid8', nullable: true, defaultRaw: 'pg_current_xact_id()', persist: false })
  xactId?: string | null;
}
