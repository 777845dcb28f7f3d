import { IsOptional, Length, Matches } from 'class-validator';
import { Field, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../../graphql/node';
import { RegionLevel } from './region.entity';

registerEnumType(RegionLevel, {
  name: 'RegionLevel',
  description: 'Level of an administrative division, read off its code.',
  valuesConfig: {
    PROVINCE: { description: 'Province (省), code XX0000.' },
    CITY: { description: 'City (市), code XXYY00.' },
    DISTRICT: { description: 'District or county (区/县), any other code.' },
  },
});

@ObjectType('Region', { implements: Node, simpleResolvers: true, description: 'An administrative division (行政区划) with its departments and figures.' })
export class RegionType extends Node {
  @Field({ description: '6-digit GB/T 2260 code, e.g. 410505.' })
  code!: string;

  @Field({ description: 'Name, e.g. 殷都区.' })
  name!: string;

  @Field(() => RegionLevel, { description: 'Province, city or district.' })
  level!: RegionLevel;
}

@InputType({ description: 'A new region.' })
export class CreateRegionInput {
  @Field({ description: '6-digit GB/T 2260 code; its digits fix the level and the parent.' })
  @Matches(/^\s*\d{6}\s*$/, { message: 'must be 6 digits (GB/T 2260), e.g. 410505' })
  code!: string;

  @Field({ description: 'Name of the region.' })
  @Length(1, 100, { message: 'must be 1 to 100 characters' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Code of the parent; derived from the code when omitted. Must agree with the code when given.' })
  @IsOptional()
  parentCode?: string | null;
}
