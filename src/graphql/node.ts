import { Field, ID, InterfaceType } from 'type-graphql';
import { ResourceDirectory } from '../modules/catalogue/directory.entity';
import { Department } from '../modules/departments/department.entity';
import { DepartmentRow } from '../modules/departments/department.row';
import { Mount } from '../modules/mounts/mount.entity';
import { MountRow } from '../modules/mounts/mount.row';
import { Region } from '../modules/regions/region.entity';
import { RegionRow } from '../modules/regions/region.row';
import { SubscriptionRequest } from '../modules/subscriptions/subscription.entity';
import type { NodeTypeName } from './global-id';

/** Which GraphQL type an entity, or a row read without one (RegionRow, DepartmentRow), is shown as. */
export function nodeTypeOf(value: unknown): NodeTypeName | undefined {
  if (value instanceof RegionRow || value instanceof Region) return 'Region';
  if (value instanceof DepartmentRow || value instanceof Department) return 'Department';
  if (value instanceof ResourceDirectory) return 'ResourceDirectory';
  if (value instanceof MountRow || value instanceof Mount) return 'Mount';
  if (value instanceof SubscriptionRequest) return 'SubscriptionRequest';
  return undefined;
}

@InterfaceType('Node', {
  description: 'An object with a globally unique ID, fetchable with `Query.node`.',
  resolveType: (value) => nodeTypeOf(value),
})
export abstract class Node {
  @Field(() => ID, { description: 'Globally unique, opaque ID.' })
  id!: string;
}
