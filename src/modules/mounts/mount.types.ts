import { IsOptional, Length, Min } from 'class-validator';
import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../../graphql/node';
import { SafeInt } from '../../graphql/scalars';
import { DirectoryRefInput } from '../catalogue/directory.types';
import { MountKind } from './mount.entity';

registerEnumType(MountKind, {
  name: 'MountKind',
  description: 'Kind of mounted dataset.',
  valuesConfig: {
    TABLE: { description: 'A database table.' },
    API: { description: 'An API endpoint.' },
    FILE: { description: 'A file.' },
  },
});

@ObjectType('Mount', { implements: Node, simpleResolvers: true, description: 'A dataset mounted (挂载) on a directory.' })
export class MountType extends Node {
  @Field(() => MountKind, { description: 'Table, API or file.' })
  kind!: MountKind;

  @Field(() => String, {
    nullable: true,
    description:
      "Where the data lives (table name, endpoint URL or file path); null unless the caller is a steward of the directory's department or an administrator.",
  })
  locator?: string | null;

  @Field(() => SafeInt, {
    description: 'Record count (数据量): for a hosted mount the rows it holds, kept with every load; otherwise as declared at the last refresh.',
  })
  recordCount!: number;

  @Field({
    description:
      'Whether Mulu holds the rows (loaded and delivered through Mulu); false for data that lives elsewhere (an API, an external table), whose count is declared.',
  })
  hosted!: boolean;

  @Field(() => Int, {
    description: 'Version of a hosted dataset that readers see; each replaceDatasetRows makes a new one. 0 before any load and for mounts that are not hosted.',
  })
  datasetVersion!: number;

  @Field(() => GraphQLISODateTime, { description: 'Last refresh of the data.' })
  lastRefreshedAt!: Date;

  @Field({ description: 'False once unmounted; unmounted datasets are kept as history.' })
  active!: boolean;

  @Field(() => GraphQLISODateTime, { description: 'When it was mounted.' })
  mountedAt!: Date;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When it was unmounted.' })
  unmountedAt?: Date | null;
}

@InputType({ description: 'A dataset to mount on a directory.' })
export class MountDatasetInput {
  @Field(() => DirectoryRefInput, { description: 'The directory (not withdrawn).' })
  directory!: DirectoryRefInput;

  @Field(() => MountKind, { description: 'Table, API or file.' })
  kind!: MountKind;

  @Field({ description: 'Where the data lives: table name, endpoint URL or file path.' })
  @Length(1, 1000, { message: 'must be 1 to 1000 characters' })
  locator!: string;

  @Field(() => SafeInt, {
    nullable: true,
    description: 'Record count of data that lives elsewhere; may exceed 2^31. Omit it for a hosted mount, which counts its rows.',
  })
  @IsOptional()
  @Min(0, { message: 'must be 0 or more' })
  recordCount?: number | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Mulu holds the rows (TABLE or FILE only): load them with appendDatasetRows or POST /mounts/{id}/rows. Default false.',
  })
  @IsOptional()
  hosted?: boolean | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When the data was last refreshed; now when omitted.' })
  @IsOptional()
  refreshedAt?: Date | null;
}

@InputType({ description: 'A refresh of a mounted dataset.' })
export class RefreshMountInput {
  @Field(() => ID, { description: 'The mount.' })
  mountId!: string;

  @Field(() => SafeInt, { description: 'The new record count.' })
  @Min(0, { message: 'must be 0 or more' })
  recordCount!: number;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When the data was refreshed; now when omitted.' })
  @IsOptional()
  refreshedAt?: Date | null;
}

@InputType({ description: 'A mount to detach.' })
export class UnmountDatasetInput {
  @Field(() => ID, { description: 'The mount.' })
  mountId!: string;
}
