import { ArrayMaxSize, IsOptional, Length, MaxLength, ValidateNested } from 'class-validator';
import { Field, GraphQLISODateTime, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { numericIdOf } from '../../graphql/global-id';
import { Node } from '../../graphql/node';
import { ConnectionType } from '../../graphql/pagination';
import { BigCount } from '../../graphql/scalars';
import type { Count } from '../../core/numbers';
import { draftsReadBy, type DraftsRead } from '../../core/permissions';
import type { Viewer } from '../../core/viewer';
import type { DirectoryRef } from './directory.service';
import { DirectoryStatus, ItemValueType, ResourceFormat, ShareMethod, ShareType, UpdateCycle } from './directory.entity';
import { STALE_AFTER } from './staleness';

registerEnumType(DirectoryStatus, {
  name: 'DirectoryStatus',
  description: 'Lifecycle of a directory; only PUBLISHED directories count in any figure.',
  valuesConfig: {
    DRAFT: { description: 'Registered, not yet published.' },
    PUBLISHED: { description: 'Published (已发布).' },
    WITHDRAWN: { description: 'Withdrawn (已撤销); can be published again.' },
  },
});
registerEnumType(ShareType, {
  name: 'ShareType',
  description: 'Share type (共享类型).',
  valuesConfig: {
    UNCONDITIONAL: { description: 'Shared unconditionally (无条件共享).' },
    CONDITIONAL: { description: 'Shared on conditions (有条件共享).' },
    NOT_SHARED: { description: 'Not shared (不予共享).' },
  },
});
registerEnumType(ResourceFormat, {
  name: 'ResourceFormat',
  description: 'Resource format (资源格式).',
  valuesConfig: {
    DATABASE: { description: 'Database tables (数据库).' },
    SPREADSHEET: { description: 'Spreadsheets, e.g. xlsx, et (电子表格).' },
    FILE: { description: 'Electronic documents, e.g. ofd, pdf, docx (电子文件).' },
    IMAGE: { description: 'Images and graphics (图形图像).' },
    STREAM: { description: 'Audio or video streams (流媒体).' },
    API: { description: 'An interface called by other systems (接口).' },
    OTHER: { description: 'Any other format (其他).' },
  },
});
registerEnumType(ShareMethod, {
  name: 'ShareMethod',
  description: 'Share method (共享方式): how a granted subscriber gets the data.',
  valuesConfig: {
    API: { description: 'By calling an interface (接口共享).' },
    DATABASE_EXCHANGE: { description: 'By exchanging database tables through the sharing platform (库表交换).' },
    FILE_DOWNLOAD: { description: 'By downloading files (文件下载).' },
    ONLINE_QUERY: { description: 'By querying online, record by record (在线查询).' },
  },
});
const staleAfter = (cycle: UpdateCycle) => `Mounted data turns stale ${STALE_AFTER[cycle]} after its latest refresh.`;
registerEnumType(UpdateCycle, {
  name: 'UpdateCycle',
  description: 'Update cycle (更新周期). Mounted data not refreshed within it is stale; REAL_TIME allows one day.',
  valuesConfig: {
    REAL_TIME: { description: `Real time (实时). ${staleAfter(UpdateCycle.REAL_TIME)}` },
    DAILY: { description: `Daily (每日). ${staleAfter(UpdateCycle.DAILY)}` },
    WEEKLY: { description: `Weekly (每周). ${staleAfter(UpdateCycle.WEEKLY)}` },
    MONTHLY: { description: `Monthly (每月). ${staleAfter(UpdateCycle.MONTHLY)}` },
    QUARTERLY: { description: `Quarterly (每季度). ${staleAfter(UpdateCycle.QUARTERLY)}` },
    YEARLY: { description: `Yearly (每年). ${staleAfter(UpdateCycle.YEARLY)}` },
  },
});

registerEnumType(ItemValueType, {
  name: 'ItemValueType',
  description: 'Value type of an information item: what every row loaded into a hosted dataset must hold in it.',
  valuesConfig: {
    STRING: { description: 'Text (字符型).' },
    INTEGER: { description: 'A whole number (整数型), at most ±9007199254740991.' },
    DECIMAL: { description: 'A decimal number (数值型), kept as its digits (returned as a string), at most 38 digits.' },
    DATE: { description: 'A date (日期型), YYYY-MM-DD.' },
    DATETIME: { description: 'A date and time (日期时间型), ISO 8601; without a zone it is China Standard Time. Returned in UTC.' },
    BOOLEAN: { description: 'Yes or no (布尔型): true/false, 是/否, 1/0.' },
  },
});

@ObjectType('InformationItem', { description: 'An information item (信息项): one field of the resource.' })
export class InformationItemType {
  @Field({ description: 'Field name, e.g. 身份证号.' })
  name!: string;

  @Field({ description: 'Data type, e.g. 字符型, 数值型, 日期型.' })
  dataType!: string;

  @Field(() => String, { nullable: true, description: 'What the field holds.' })
  description?: string | null;
}

@ObjectType('ResourceDirectory', { implements: Node, simpleResolvers: true, description: 'A resource directory (政务信息资源目录) entry.' })
export class ResourceDirectoryType extends Node {
  @Field({ description: 'Directory code (目录编码), unique in the catalogue.' })
  code!: string;

  @Field({ description: 'Resource name (资源名称).' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Summary (资源摘要).' })
  summary?: string | null;

  @Field(() => String, { nullable: true, description: 'Classification (资源分类).' })
  classification?: string | null;

  @Field(() => ResourceFormat, { description: 'Resource format.' })
  resourceFormat!: ResourceFormat;

  @Field(() => [InformationItemType], { description: 'Information items (信息项).' })
  informationItems!: InformationItemType[];

  @Field(() => ShareType, { description: 'Share type.' })
  shareType!: ShareType;

  @Field(() => String, { nullable: true, description: 'Share conditions (共享条件), or the basis for not sharing.' })
  shareConditions?: string | null;

  @Field(() => ShareMethod, { nullable: true, description: 'Share method (共享方式).' })
  shareMethod?: ShareMethod | null;

  @Field({ description: 'Open to the public (是否向社会开放).' })
  openToPublic!: boolean;

  @Field(() => UpdateCycle, { description: 'Update cycle.' })
  updateCycle!: UpdateCycle;

  @Field(() => DirectoryStatus, { description: 'Lifecycle status.' })
  status!: DirectoryStatus;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When it was (last) published (发布日期).' })
  publishedAt?: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When it was withdrawn, if it is.' })
  withdrawnAt?: Date | null;

  @Field(() => BigCount, { description: 'Records in its active mounts (数据量).' })
  dataVolume!: Count;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'Latest refresh among its active mounts.' })
  lastRefreshedAt?: Date | null;
}

export const DirectoryConnection = ConnectionType(
  ResourceDirectoryType,
  'ResourceDirectory',
  'resource directory',
  'How many directories the whole list holds (every page). With `mounted` or `stale` it is the figure the list explains: `mounted: true` gives mountedDirectories, `mounted: false` publishedDirectories minus mountedDirectories, `stale: true` staleDirectories, `status: PUBLISHED` publishedDirectories.',
);

@InputType({ description: 'An information item.' })
export class InformationItemInput {
  @Field({ description: 'Field name.' })
  @Length(1, 100, { message: 'must be 1 to 100 characters' })
  name!: string;

  @Field({ description: 'Data type.' })
  @Length(1, 50, { message: 'must be 1 to 50 characters' })
  dataType!: string;

  @Field(() => String, { nullable: true, description: 'What the field holds.' })
  @IsOptional()
  @MaxLength(1000)
  description?: string | null;

  @Field(() => ItemValueType, {
    nullable: true,
    description: 'Value type rows must hold; inferred from dataType when omitted (see InformationItem.valueType).',
  })
  @IsOptional()
  valueType?: ItemValueType | null;

  @Field(() => Boolean, { nullable: true, description: 'Whether every loaded row must hold a value (default false).' })
  @IsOptional()
  required?: boolean | null;
}

@InputType({ description: 'Names one directory: by `id` or by `code`, exactly one.' })
export class DirectoryRefInput {
  @Field(() => ID, { nullable: true, description: 'Global ID of the directory.' })
  id?: string | null;

  @Field(() => String, { nullable: true, description: 'Directory code.' })
  code?: string | null;
}

/** Turns the GraphQL reference (global ID or code) into the service's. */
export function toDirectoryRef(input: DirectoryRefInput): DirectoryRef {
  return { id: input.id == null ? null : numericIdOf(input.id, 'ResourceDirectory'), code: input.code ?? null };
}

@InputType({ description: 'Metadata fields shared by registration and update.' })
export class DirectoryMetadataInput {
  @Field(() => String, { nullable: true, description: 'Summary.' })
  @IsOptional()
  @MaxLength(4000)
  summary?: string | null;

  @Field(() => String, { nullable: true, description: 'Classification, e.g. 基础信息资源/人口.' })
  @IsOptional()
  @MaxLength(200)
  classification?: string | null;

  @Field(() => [InformationItemInput], { nullable: true, description: 'Information items; at least one is needed to publish. Replaces the list on update.' })
  @IsOptional()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  informationItems?: InformationItemInput[];

  @Field(() => String, { nullable: true, description: 'Share conditions; required for CONDITIONAL and NOT_SHARED (the basis).' })
  @IsOptional()
  @MaxLength(4000)
  shareConditions?: string | null;

  @Field(() => ShareMethod, { nullable: true, description: 'Share method.' })
  shareMethod?: ShareMethod | null;

  @Field(() => Boolean, { nullable: true, description: 'Open to the public; false when omitted at registration.' })
  openToPublic?: boolean;
}

@InputType({ description: 'A new directory; it starts as a draft.' })
export class RegisterDirectoryInput extends DirectoryMetadataInput {
  @Field({ description: 'Directory code, unique in the catalogue.' })
  code!: string;

  @Field({ description: 'Resource name.' })
  @Length(1, 200, { message: 'must be 1 to 200 characters' })
  name!: string;

  @Field({ description: 'Credit code of the providing department.' })
  departmentCreditCode!: string;

  @Field(() => ResourceFormat, { description: 'Resource format.' })
  resourceFormat!: ResourceFormat;

  @Field(() => ShareType, { description: 'Share type.' })
  shareType!: ShareType;

  @Field(() => UpdateCycle, { description: 'Update cycle.' })
  updateCycle!: UpdateCycle;
}

@InputType({ description: 'Changes to a directory; omitted fields stay as they are.' })
export class UpdateDirectoryInput extends DirectoryMetadataInput {
  @Field(() => DirectoryRefInput, { description: 'The directory to change.' })
  @ValidateNested()
  directory!: DirectoryRefInput;

  @Field(() => String, { nullable: true, description: 'A new code; only while a draft.' })
  newCode?: string | null;

  @Field(() => String, { nullable: true, description: 'Resource name.' })
  @IsOptional()
  @Length(1, 200, { message: 'must be 1 to 200 characters' })
  name?: string;

  @Field(() => ResourceFormat, { nullable: true, description: 'Resource format.' })
  resourceFormat?: ResourceFormat;

  @Field(() => ShareType, { nullable: true, description: 'Share type.' })
  shareType?: ShareType;

  @Field(() => UpdateCycle, { nullable: true, description: 'Update cycle.' })
  updateCycle?: UpdateCycle;
}

@InputType({ description: 'A lifecycle change of one directory.' })
export class DirectoryTransitionInput {
  @Field(() => DirectoryRefInput, { description: 'The directory.' })
  @ValidateNested()
  directory!: DirectoryRefInput;
}

@InputType({ description: "Narrows a list of a department's directories." })
export class DepartmentDirectoryFilter {
  @Field(() => DirectoryStatus, { nullable: true, description: 'Only directories in this status.' })
  status?: DirectoryStatus | null;

  @Field(() => ShareType, { nullable: true, description: 'Only directories of this share type.' })
  shareType?: ShareType | null;

  @Field(() => String, { nullable: true, description: 'Only directories whose name or code contains this text.' })
  @IsOptional()
  @MaxLength(100)
  text?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'true: only stale directories (published, mounted, not refreshed within their update cycle: 长期不更新), as the `stale` field; false: only the others.',
  })
  stale?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'true: only published directories with an active mount (已挂载), as the `mounted` field; false: only published directories without one (未挂载: the to-do list behind the mount rate). Either way only published directories.',
  })
  mounted?: boolean | null;
}

@InputType({ description: "Narrows a list of the directories of a region's departments (the region and every region below it)." })
export class RegionDirectoryFilter extends DepartmentDirectoryFilter {}

/** A list filter in one fixed shape, so that equal filters batch into one statement; with whose drafts the caller reads. */
export function directoryListFilter(filter: DepartmentDirectoryFilter | null | undefined, viewer: Viewer | null): DirectoryListFilter {
  return {
    status: filter?.status ?? null,
    shareType: filter?.shareType ?? null,
    text: filter?.text ?? null,
    stale: filter?.stale ?? null,
    mounted: filter?.mounted ?? null,
    draftsRead: draftsReadBy(viewer),
  };
}
export type DirectoryListFilter = Required<{ [K in keyof DepartmentDirectoryFilter]: DepartmentDirectoryFilter[K] }> & { draftsRead: DraftsRead };

@InputType({ description: 'Narrows a catalogue search; every field given must match.' })
export class DirectoryFilter extends DepartmentDirectoryFilter {
  @Field(() => String, { nullable: true, description: 'Only directories of this department (credit code).' })
  departmentCreditCode?: string | null;

  @Field(() => String, { nullable: true, description: 'Only directories of departments in this region or any region below it.' })
  regionCode?: string | null;
}
