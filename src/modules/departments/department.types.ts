import { Length } from 'class-validator';
import { Field, InputType, ObjectType } from 'type-graphql';
import { Node } from '../../graphql/node';

@ObjectType('Department', { implements: Node, simpleResolvers: true, description: 'A government department (部门) of a region.' })
export class DepartmentType extends Node {
  @Field({ description: 'Unified social credit code (统一社会信用代码, GB 32100-2015), 18 characters.' })
  creditCode!: string;

  @Field({ description: 'Name, e.g. 殷都区教育局.' })
  name!: string;
}

@InputType({ description: 'A new department.' })
export class CreateDepartmentInput {
  @Field({ description: 'Unified social credit code; its check character is verified.' })
  creditCode!: string;

  @Field({ description: 'Name, unique within the region.' })
  @Length(1, 200, { message: 'must be 1 to 200 characters' })
  name!: string;

  @Field({ description: 'Code of the region the department belongs to.' })
  regionCode!: string;
}
