import { Entity, Index, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { TimestampedEntity } from '../../db/base.entity';
import { Region } from '../regions/region.entity';

/** A government department (部门) of one region. */
@Entity({ tableName: 'department' })
@Unique({ properties: ['region', 'name'] })
// A region's departments by id (the catalogue's region filter), from the index alone.
@Index({ properties: ['region', 'id'] })
export class Department extends TimestampedEntity<'regionCode'> {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  /** Unified social credit code (统一社会信用代码, GB 32100-2015): the business key. */
  @Property({ type: 'string', length: 18, unique: true })
  creditCode!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @ManyToOne({ entity: () => Region, ref: true, fieldName: 'region_code', deleteRule: 'restrict' })
  region!: Ref<Region>;

  /** The region's code, as reads show a department (DepartmentRow): the GraphQL type's resolvers take either. */
  get regionCode(): string {
    return this.region.unwrap().code;
  }
}
