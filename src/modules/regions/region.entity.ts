import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { TimestampedEntity } from '../../db/base.entity';

/** Level of an administrative division (行政区划), read off its GB/T 2260 code. */
export enum RegionLevel {
  PROVINCE = 'PROVINCE',
  CITY = 'CITY',
  DISTRICT = 'DISTRICT',
}

/** An administrative division (行政区划) keyed by its 6-digit GB/T 2260 code. */
@Entity({ tableName: 'region' })
export class Region extends TimestampedEntity {
  @PrimaryKey({ type: 'string', length: 6 })
  code!: string;

  @Property({ type: 'string', length: 100 })
  name!: string;

  @Enum({ items: () => RegionLevel, nativeEnumName: 'region_level' })
  level!: RegionLevel;

  @ManyToOne({ entity: () => Region, ref: true, nullable: true, fieldName: 'parent_code', deleteRule: 'restrict' })
  @Index()
  parent?: Ref<Region> | null;

  /** The parent's code, as reads show a region (RegionRow): the GraphQL type's resolvers take either. */
  get parentCode(): string | null {
    return this.parent?.unwrap().code ?? null;
  }
}

/**
 * One row per (ancestor, descendant) pair, a region being its own ancestor at
 * depth 0. Region figures sum every department at any depth below; with this
 * table that is one equi-join instead of a recursive query per region.
 */
@Entity({ tableName: 'region_closure' })
@Index({ properties: ['descendantCode'] })
export class RegionClosure {
  @PrimaryKey({ type: 'string', length: 6 })
  ancestorCode!: string;

  @PrimaryKey({ type: 'string', length: 6 })
  descendantCode!: string;

  @Property({ type: 'smallint' })
  depth!: number;
}
