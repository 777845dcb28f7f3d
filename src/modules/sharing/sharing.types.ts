import { IsOptional, Length, MaxLength, ArrayMaxSize } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PageInfo } from '../../graphql/pagination';
import { SafeInt } from '../../graphql/scalars';
import { LoadMode, SharingRoute } from './dataset.entity';
import { MAX_GRAPHQL_ROWS } from './dataset.service';
import type { UsageCounts } from './usage.service';

registerEnumType(LoadMode, {
  name: 'DatasetLoadMode',
  description: 'How a load changed a hosted dataset.',
  valuesConfig: {
    APPEND: { description: 'Rows added to the current version.' },
    REPLACE: { description: 'A new version that replaced the old one when it committed.' },
  },
});
registerEnumType(SharingRoute, {
  name: 'SharingRoute',
  description: 'Through which route rows were loaded or delivered.',
  valuesConfig: {
    GRAPHQL: { description: 'GraphQL (appendDatasetRows, replaceDatasetRows, ResourceDirectory.rows).' },
    BULK: { description: 'POST /mounts/{id}/rows.' },
    CSV: { description: 'GET /directories/{code}/rows.csv.' },
    NDJSON: { description: 'GET /directories/{code}/rows.ndjson.' },
  },
});

export enum UsageSide {
  PROVIDER = 'PROVIDER',
  CONSUMER = 'CONSUMER',
}
registerEnumType(UsageSide, {
  name: 'UsageSide',
  description: 'Which side of data sharing a unit is counted on.',
  valuesConfig: {
    PROVIDER: { description: 'Its data used by other departments (资源被使用).' },
    CONSUMER: { description: "Other departments' data it used (资源使用)." },
  },
});

@InputType({ description: 'Rows to load into a hosted mount (at most 10,000; more through POST /mounts/{id}/rows).' })
export class DatasetRowsInput {
  @Field(() => ID, { description: 'The hosted mount.' })
  mountId!: string;

  @Field(() => [GraphQLJSONObject], {
    description: `The rows, each an object keyed by information item name (at most ${MAX_GRAPHQL_ROWS.toLocaleString('en')}). Values as JSON or as text: see ItemValueType.`,
  })
  @ArrayMaxSize(MAX_GRAPHQL_ROWS, { message: `at most ${MAX_GRAPHQL_ROWS} rows per call; send more through POST /mounts/{id}/rows` })
  rows!: Record<string, unknown>[];

  @Field(() => String, { nullable: true, description: 'Names this load: sent again with the same key, it changes nothing and returns the first result.' })
  @IsOptional()
  @Length(1, 200)
  idempotencyKey?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Store the good rows and report the bad ones (as ingestion does); by default nothing is stored when any row is bad.',
  })
  @IsOptional()
  acceptPartial?: boolean | null;
}

@ObjectType('DatasetRowError', { description: 'A rejected row or value of a load.' })
export class DatasetRowErrorType {
  @Field(() => Int, { description: 'Row: 1 for the first row of a GraphQL list or NDJSON body; in CSV and XLSX the line or sheet row (the header is row 1).' })
  row!: number;

  @Field(() => String, { nullable: true, description: 'Information item; null when the whole row is at fault.' })
  column!: string | null;

  @Field({ description: 'Why, for the steward.' })
  reason!: string;
}

@ObjectType('DatasetLoad', { description: 'One load of rows into a hosted mount.' })
export class DatasetLoadType {
  @Field(() => Int, { description: 'Dataset version the rows went into.' })
  version!: number;

  @Field(() => LoadMode, { description: 'Append or replace.' })
  mode!: LoadMode;

  @Field(() => SharingRoute, { description: 'GraphQL or the bulk route.' })
  route!: SharingRoute;

  @Field(() => String, { nullable: true, description: 'Its idempotency key.' })
  idempotencyKey?: string | null;

  @Field(() => SafeInt, { description: 'Rows stored.' })
  rowsLoaded!: number;

  @Field(() => SafeInt, { description: 'Rows rejected (only with acceptPartial; otherwise a bad row stores nothing).' })
  rowsRejected!: number;

  @Field(() => SafeInt, { description: "The mount's record count after the load: the rows it holds." })
  recordCount!: number;

  @Field(() => [DatasetRowErrorType], { description: 'The first 100 rejected values.' })
  rejected!: DatasetRowErrorType[];

  @Field(() => GraphQLISODateTime, { description: 'When it was loaded.' })
  createdAt!: Date;
}

// A page's rows, edges and connection hold plain properties (the rows come ready from PostgreSQL; an edge's cursor is a getter): simple resolvers, so graphql-js reads
// them directly instead of calling a resolver, with the deadline check, for each of a page's hundreds of fields.
@ObjectType('DatasetRow', { simpleResolvers: true, description: 'One row of a hosted dataset, with the items delivered to the caller.' })
export class DatasetRowType {
  @Field(() => SafeInt, { description: 'Its number in the dataset version (1, 2, ...).' })
  rowNumber!: number;

  @Field(() => GraphQLJSONObject, {
    description:
      'Values by information item name; items without a value are absent. Decimals are strings of their digits, dates YYYY-MM-DD, date-times ISO 8601 UTC.',
  })
  values!: Record<string, unknown>;
}

@ObjectType('DatasetRowEdge', { simpleResolvers: true, description: 'One dataset row in a page.' })
export class DatasetRowEdge {
  @Field({ description: 'Cursor of this row.' })
  cursor!: string;

  @Field(() => DatasetRowType, { description: 'The row.' })
  node!: DatasetRowType;
}

@ObjectType('DatasetRowConnection', { simpleResolvers: true, description: 'A page of dataset rows (Relay connection), in row order.' })
export class DatasetRowConnection {
  @Field(() => [DatasetRowEdge], { description: 'The rows of this page.' })
  edges!: DatasetRowEdge[];

  @Field(() => PageInfo, { description: 'Paging information.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'The dataset version the page was read from.' })
  version!: number;
}

@InputType({ description: 'An equality or range condition on one information item; values as text in the item\'s type (e.g. "2024-01-31", "12.5").' })
export class DatasetRowFilter {
  @Field({ description: 'Information item name.' })
  @Length(1, 100)
  item!: string;

  @Field(() => String, { nullable: true, description: 'Equal to.' })
  @IsOptional()
  @MaxLength(1000)
  eq?: string | null;

  @Field(() => String, { nullable: true, description: 'Greater than.' })
  @IsOptional()
  @MaxLength(1000)
  gt?: string | null;

  @Field(() => String, { nullable: true, description: 'Greater than or equal to.' })
  @IsOptional()
  @MaxLength(1000)
  gte?: string | null;

  @Field(() => String, { nullable: true, description: 'Less than.' })
  @IsOptional()
  @MaxLength(1000)
  lt?: string | null;

  @Field(() => String, { nullable: true, description: 'Less than or equal to.' })
  @IsOptional()
  @MaxLength(1000)
  lte?: string | null;
}

@ObjectType('UsageStats', {
  simpleResolvers: true,
  description:
    'Use of hosted data through Mulu: every delivery is logged and counted here by the usage fold, about a second later (docs/data-sharing.md, "Usage").',
})
export class UsageStatsType implements UsageCounts {
  constructor(counts: UsageCounts) {
    Object.assign(this, counts);
  }

  @Field(() => SafeInt, { description: 'Deliveries: one per request (a page of rows, a CSV or NDJSON export).' })
  requests!: number;

  @Field(() => SafeInt, { description: 'Rows those deliveries carried.' })
  rowsDelivered!: number;

  @Field(() => Int, {
    description:
      "As provider: departments that received the data (counted per providing department and summed over a region). As consumer: departments of the unit that received others' data.",
  })
  consumers!: number;
}
