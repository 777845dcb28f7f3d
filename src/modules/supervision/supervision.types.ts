import { ArrayMaxSize, IsOptional, Length } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, GraphQLISODateTime, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionType } from '../../graphql/pagination';
import { SafeInt } from '../../graphql/scalars';
import { MAX_RECORDS_PER_BATCH } from './supervision-record.service';
import { SupervisionCategory } from './supervision.entity';

registerEnumType(SupervisionCategory, {
  name: 'SupervisionCategory',
  description: 'Category of a supervision sub-item (子项类别).',
  valuesConfig: {
    INSPECTION: { description: 'Administrative inspection (行政检查).' },
    PENALTY: { description: 'Administrative penalty (行政处罚).' },
    COERCION: { description: 'Administrative coercion (行政强制).' },
    OTHER: { description: 'Other (其他).' },
  },
});

@ObjectType('SupervisionMainItem', { description: 'A supervision main item (监管事项主项) of a department, holding sub-items of any categories.' })
export class SupervisionMainItemType {
  @Field({ description: 'Item code, unique among the main items of the department.' })
  code!: string;

  @Field({ description: 'Name of the main item.' })
  name!: string;

  @Field({ description: 'Legal basis (设定依据): the laws and regulations the supervision rests on.' })
  legalBasis!: string;

  @Field(() => GraphQLISODateTime, { description: 'When it was registered.' })
  createdAt!: Date;
}

export const SupervisionMainItemConnection = ConnectionType(
  SupervisionMainItemType,
  'SupervisionMainItem',
  'supervision main item',
  'How many main items the whole list holds (every page): mainItems without a filter, coveredMainItems with `covered: true`, their difference with `covered: false`.',
);

@InputType({ description: 'Narrows a list of supervision main items.' })
export class SupervisionMainItemFilter {
  @Field(() => Boolean, {
    nullable: true,
    description: 'true: main items with at least one covered sub-item (主项已覆盖); false: main items without one (未覆盖).',
  })
  covered?: boolean | null;
}

@InputType({ description: 'Narrows a list of supervision sub-items.' })
export class SupervisionSubItemFilter {
  @Field(() => Boolean, {
    nullable: true,
    description:
      'true: sub-items with at least one counting record (子项已覆盖); false: sub-items without any (未覆盖: the to-do list behind the sub-item coverage).',
  })
  covered?: boolean | null;

  @Field(() => SupervisionCategory, { nullable: true, description: 'Only sub-items of this category.' })
  category?: SupervisionCategory | null;
}

@ObjectType('SupervisionSubItem', { description: 'A supervision sub-item (监管事项子项): what supervision records are pushed for.' })
export class SupervisionSubItemType {
  @Field({ description: 'Item code, unique among the sub-items of the department; records name the sub-item by it.' })
  code!: string;

  @Field({ description: 'Name of the sub-item.' })
  name!: string;

  @Field(() => SupervisionCategory, { description: 'Inspection, penalty, coercion or other.' })
  category!: SupervisionCategory;

  @Field(() => SafeInt, { description: 'Records of this sub-item that count (汇聚数): superseded records are left out.' })
  recordCount!: number;

  @Field(() => GraphQLISODateTime, { description: 'When it was registered.' })
  createdAt!: Date;
}

export const SupervisionSubItemConnection = ConnectionType(
  SupervisionSubItemType,
  'SupervisionSubItem',
  'supervision sub-item',
  'How many sub-items the whole list holds (every page): subItems without a filter, coveredSubItems with `covered: true`, and per category with `category`.',
);

@InputType({ description: 'A new supervision main item.' })
export class CreateSupervisionMainItemInput {
  @Field({ description: 'Credit code of the department the item belongs to.' })
  departmentCreditCode!: string;

  @Field({ description: 'Item code, unique among the main items of the department.' })
  @Length(1, 64, { message: 'must be 1 to 64 characters' })
  code!: string;

  @Field({ description: 'Name of the main item.' })
  @Length(1, 500, { message: 'must be 1 to 500 characters' })
  name!: string;

  @Field({ description: 'Legal basis (设定依据).' })
  @Length(1, 20000, { message: 'must be 1 to 20000 characters' })
  legalBasis!: string;
}

@InputType({ description: 'A new supervision sub-item under a main item of the same department.' })
export class CreateSupervisionSubItemInput {
  @Field({ description: 'Credit code of the department the item belongs to.' })
  departmentCreditCode!: string;

  @Field({ description: 'Code of the main item (of the same department) it belongs to.' })
  mainItemCode!: string;

  @Field({ description: 'Item code, unique among the sub-items of the department.' })
  @Length(1, 64, { message: 'must be 1 to 64 characters' })
  code!: string;

  @Field({ description: 'Name of the sub-item.' })
  @Length(1, 500, { message: 'must be 1 to 500 characters' })
  name!: string;

  @Field(() => SupervisionCategory, { description: 'Inspection, penalty, coercion or other.' })
  category!: SupervisionCategory;
}

@InputType({ description: 'Moves a sub-item to another main item of the same department; its records and coverage go with it.' })
export class MoveSupervisionSubItemInput {
  @Field({ description: 'Credit code of the department.' })
  departmentCreditCode!: string;

  @Field({ description: 'Code of the sub-item to move.' })
  subItemCode!: string;

  @Field({ description: 'Code of the main item it moves to.' })
  toMainItemCode!: string;
}

@InputType({ description: 'Names a stored supervision record by its source system and external id.' })
export class SupervisionRecordRefInput {
  @Field({ description: 'The source system that sent the record.' })
  source!: string;

  @Field({ description: 'The id the source system gave the record.' })
  externalId!: string;
}

@InputType({
  description:
    'One supervision action record (监管行为数据). Checked by the server record by record: a record that fails is reported with its index and reason instead of failing the call.',
})
export class SupervisionRecordInput {
  @Field({ description: 'Code of the sub-item (of the department named in the batch) the record is for.' })
  subItemCode!: string;

  @Field({ description: "The system that sends the record, e.g. the department's enforcement system (1 to 100 characters)." })
  source!: string;

  @Field({
    description:
      'The id the source gave the record, unique per source within the department (1 to 200 characters). Re-sending the same source and external id with the same values is a no-op reported as a duplicate; with other values it is rejected (a stored record is never rewritten: correct it with `supersedes`).',
  })
  externalId!: string;

  @Field(() => GraphQLISODateTime, { description: 'When the supervision action happened; not in the future.' })
  occurredAt!: Date;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Free-form details, stored as given (at most 16 KiB of JSON).' })
  payload?: Record<string, unknown> | null;

  @Field(() => SupervisionRecordRefInput, {
    nullable: true,
    description: 'The record this one corrects: a stored, not yet superseded record of the same sub-item. It stops counting; it is kept, not changed.',
  })
  supersedes?: SupervisionRecordRefInput | null;
}

@InputType({ description: `A batch of up to ${MAX_RECORDS_PER_BATCH} supervision records of one department.` })
export class IngestSupervisionRecordsInput {
  @Field({ description: 'Credit code of the department the records belong to.' })
  departmentCreditCode!: string;

  @Field(() => [SupervisionRecordInput], { description: `The records, 0 to ${MAX_RECORDS_PER_BATCH}. Indexes in the result refer to positions in this list.` })
  @ArrayMaxSize(MAX_RECORDS_PER_BATCH, { message: `must hold at most ${MAX_RECORDS_PER_BATCH} records; split the batch into several calls` })
  records!: SupervisionRecordInput[];

  @Field(() => Boolean, {
    defaultValue: false,
    description: 'When some records are rejected: false (the default) stores nothing; true stores the good records anyway.',
  })
  @IsOptional()
  acceptPartial?: boolean;
}

@ObjectType('RejectedSupervisionRecord', { description: 'A record of a batch that was not accepted, and why.' })
export class RejectedSupervisionRecordType {
  @Field(() => Int, { description: 'Position of the record in the batch, from 0.' })
  index!: number;

  @Field({ description: 'Why it was rejected, written for the steward.' })
  reason!: string;
}

@ObjectType('IngestSupervisionRecordsResult', { description: 'What became of a batch of supervision records.' })
export class IngestSupervisionRecordsResultType {
  @Field(() => Int, { description: 'Records in the batch.' })
  received!: number;

  @Field(() => Int, { description: 'Records stored by this call.' })
  accepted!: number;

  @Field(() => Int, {
    description: 'Records already stored with the same source, external id and values: no-ops, counted once. The same key with other values is in `rejected`.',
  })
  duplicates!: number;

  @Field(() => [Int], { description: 'Positions of the duplicates in the batch.' })
  duplicateIndexes!: number[];

  @Field(() => [RejectedSupervisionRecordType], { description: 'Records that were not accepted, with the reason.' })
  rejected!: RejectedSupervisionRecordType[];

  @Field({
    description:
      'False only when the batch was refused as a whole: some records were rejected and acceptPartial was false, so nothing of it was stored. True otherwise, also when nothing was new (every record a duplicate, or every record rejected with acceptPartial: true); `accepted` says how many records were stored.',
  })
  stored!: boolean;
}
