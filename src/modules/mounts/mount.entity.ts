import { BigIntType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { TimestampedEntity } from '../../db/base.entity';
import { ResourceDirectory } from '../catalogue/directory.entity';

/** What kind of dataset is attached. */
export enum MountKind {
  TABLE = 'TABLE',
  API = 'API',
  FILE = 'FILE',
}

/**
 * A dataset attached (挂载) to a directory. Unmounting keeps the row
 * (inactive), so the history of what was mounted is never lost.
 */
@Entity({ tableName: 'mount' })
@Index({ properties: ['directory', 'active'] })
export class Mount extends TimestampedEntity<'active' | 'unmountedAt' | 'hosted' | 'datasetVersion' | 'directoryId'> {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne({ entity: () => ResourceDirectory, ref: true, deleteRule: 'restrict' })
  directory!: Ref<ResourceDirectory>;

  @Enum({ items: () => MountKind, nativeEnumName: 'mount_kind' })
  kind!: MountKind;

  /** Where the data lives: a table name, an endpoint URL, a file path. */
  @Property({ type: 'string', length: 1000 })
  locator!: string;

  /**
   * Whether Mulu holds the rows (loaded with appendDatasetRows or POST
   * /mounts/{id}/rows); then the record count is the number of rows held,
   * kept in the transaction of every load. Mounts whose data lives elsewhere
   * (an API, an external table) keep the declared count.
   */
  @Property({ type: 'boolean', default: false })
  hosted: boolean = false;

  /** The version of a hosted dataset readers see; each replaceDatasetRows makes a new one (0 before any load). */
  @Property({ type: 'integer', default: 0 })
  datasetVersion: number = 0;

  /** Record count (数据量); may exceed 2^31. */
  @Property({ type: new BigIntType('number') })
  recordCount!: number;

  @Property({ type: 'datetime' })
  lastRefreshedAt!: Date;

  @Property({ type: 'boolean', default: true })
  active: boolean = true;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  mountedAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  unmountedAt?: Date | null;

  /** The directory's id, as reads show a mount (MountRow): the GraphQL type's resolvers take either. */
  get directoryId(): number {
    return this.directory.id;
  }
}
