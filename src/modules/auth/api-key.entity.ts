import { Entity, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { TimestampedEntity } from '../../db/base.entity';
import { Department } from '../departments/department.entity';

/**
 * An API key of a machine client (an upstream system pushing supervision
 * records), scoped to one department. Only the SHA-256 hash of the secret is
 * kept; the secret itself is shown once, when the key is created.
 */
@Entity({ tableName: 'api_key' })
@Index({ properties: ['department'] })
export class ApiKey extends TimestampedEntity<'revokedAt'> {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  /** What the key is for, e.g. 监管系统推送. */
  @Property({ type: 'string', length: 200 })
  name!: string;

  @ManyToOne({ entity: () => Department, ref: true, deleteRule: 'restrict' })
  department!: Ref<Department>;

  /** Hex SHA-256 of the whole secret. */
  @Property({ type: 'string', length: 64, unique: true })
  secretHash!: string;

  /** The first characters of the secret, so people can tell keys apart. */
  @Property({ type: 'string', length: 16 })
  prefix!: string;

  /** Who created it (actor id). */
  @Property({ type: 'string', length: 200 })
  createdBy!: string;

  @Property({ type: 'datetime', nullable: true })
  revokedAt?: Date | null;
}
